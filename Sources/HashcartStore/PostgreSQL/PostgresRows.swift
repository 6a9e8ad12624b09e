import Foundation
import HashcartCore
import PostgresNIO

/// One result row, read by position; a value of the wrong type is a ``StoreError/corruptRecord(table:id:detail:)``.
struct PostgresRowReader {
    let row: PostgresRandomAccessRow
    let table: String

    private func decode<T: PostgresDecodable>(_ index: Int, _ type: T.Type) throws -> T {
        do {
            return try row[index].decode(T.self)
        } catch {
            let id = (try? row[0].decode(String.self)) ?? "?"
            throw StoreError.corruptRecord(table: table, id: id, detail: "column \(row[index].columnName) is not a \(T.self)")
        }
    }

    func text(_ index: Int) throws -> String { try decode(index, String.self) }
    func optionalText(_ index: Int) throws -> String? { try decode(index, String?.self) }
    func int(_ index: Int) throws -> Int64 { try decode(index, Int64.self) }
    func optionalInt(_ index: Int) throws -> Int64? { try decode(index, Int64?.self) }
    func data(_ index: Int) throws -> Data { try decode(index, Data.self) }
    func optionalData(_ index: Int) throws -> Data? { try decode(index, Data?.self) }
    func bool(_ index: Int) throws -> Bool { try decode(index, Bool.self) }
    func instant(_ index: Int) throws -> Instant { Instant(millisecondsSinceEpoch: try int(index)) }
    func optionalInstant(_ index: Int) throws -> Instant? { try optionalInt(index).map(Instant.init(millisecondsSinceEpoch:)) }
}

/// Decoders from PostgreSQL rows (``StoreColumns`` order) to domain values, and the parameters
/// that write them back.
enum PostgresRows {
    static func link(_ raw: PostgresRandomAccessRow) throws -> Link {
        let row = PostgresRowReader(row: raw, table: "links")
        return Link(id: LinkID(try row.text(0)), cardAccountID: CardAccountID(try row.text(1)),
                    identity: SocialIdentity(network: NetworkName(rawValue: try row.text(2)), userID: try row.text(3), handle: try row.text(4)),
                    createdAt: try row.instant(5), unlinkedAt: try row.optionalInstant(6))
    }

    static func offer(_ raw: PostgresRandomAccessRow) throws -> Offer {
        let row = PostgresRowReader(row: raw, table: "offers")
        let id = try row.text(0)
        func bad(_ detail: String) -> StoreError { .corruptRecord(table: "offers", id: id, detail: detail) }
        guard let currency = Currency(rawValue: try row.text(5)) else { throw bad("currency") }
        guard let category = TaxCategory(rawValue: try row.text(6)) else { throw bad("tax_category") }
        guard let capture = CaptureMode(rawValue: try row.text(14)) else { throw bad("capture_mode") }
        guard let lifecycle = OfferLifecycle(rawValue: try row.text(16)) else { throw bad("lifecycle") }
        guard let hashtag = try? Hashtag(try row.text(12)) else { throw bad("hashtag") }
        return Offer(
            id: OfferID(id), merchantID: MerchantID(try row.text(1)), title: try row.text(2), sku: try row.text(3),
            price: Money(minorUnits: try row.int(4), currency: currency), taxCategory: category, quantity: try row.optionalInt(7),
            perCardholderLimit: try row.int(8), startsAt: try row.instant(9), endsAt: try row.instant(10),
            eligibleStates: USState.set(fromBits: UInt64(bitPattern: try row.int(11))), hashtag: hashtag, captureMode: capture,
            confirmationWindowSeconds: try row.int(15), lifecycle: lifecycle, killSwitch: try row.bool(17), reservedUnits: try row.int(18),
            soldUnits: try row.int(19), createdAt: try row.instant(20))
    }

    /// Parameters in column order, id last: `merchant_id … created_at, id`.
    static func values(of o: Offer) -> [any PostgresBindable] {
        [
            o.merchantID.rawValue, o.title, o.sku, o.price.minorUnits, o.price.currency.rawValue, o.taxCategory.rawValue,
            o.quantity, o.perCardholderLimit, o.startsAt.millisecondsSinceEpoch, o.endsAt.millisecondsSinceEpoch,
            Int64(bitPattern: USState.bits(of: o.eligibleStates)), o.hashtag.display, o.hashtag.key, o.captureMode.rawValue,
            o.confirmationWindowSeconds, o.lifecycle.rawValue, o.killSwitch, o.reservedUnits, o.soldUnits,
            o.createdAt.millisecondsSinceEpoch, o.id.rawValue,
        ]
    }

    static func purchase(_ raw: PostgresRandomAccessRow) throws -> Purchase {
        let row = PostgresRowReader(row: raw, table: "purchases")
        let id = try row.text(0)
        func bad(_ detail: String) -> StoreError { .corruptRecord(table: "purchases", id: id, detail: detail) }
        guard let state = PurchaseState(rawValue: try row.text(9)) else { throw bad("state") }
        guard let billingState = USState(rawValue: try row.text(18)) else { throw bad("billing_state") }
        var purchase = Purchase(
            id: PurchaseID(id), offerID: OfferID(try row.text(1)), merchantID: MerchantID(try row.text(2)),
            cardAccountID: CardAccountID(try row.text(3)),
            identity: SocialIdentity(network: NetworkName(rawValue: try row.text(4)), userID: try row.text(5), handle: try row.text(6)),
            purchasePostID: try row.text(7), reference: try row.text(8), state: state, unitPrice: .usd(try row.int(12)),
            tax: .usd(try row.int(13)), total: .usd(try row.int(14)), fee: .usd(try row.int(15)),
            taxRatePartsPerMillion: try row.int(16), taxTableVersion: try row.text(17), billingState: billingState,
            confirmationWindowSeconds: try row.int(19), requestedAt: try row.instant(20), expiresAt: try row.instant(21))
        purchase.declineReason = try row.optionalText(10).flatMap(DeclineReason.init(rawValue:))
        purchase.cancellationReason = try row.optionalText(11).flatMap(CancellationReason.init(rawValue:))
        purchase.confirmationPostID = try row.optionalText(22)
        purchase.confirmedAt = try row.optionalInstant(23)
        purchase.authorizedAt = try row.optionalInstant(24)
        purchase.holdExpiresAt = try row.optionalInstant(25)
        purchase.capturedAt = try row.optionalInstant(26)
        purchase.endedAt = try row.optionalInstant(27)
        return purchase
    }

    static func order(_ raw: PostgresRandomAccessRow) throws -> Order {
        let row = PostgresRowReader(row: raw, table: "orders")
        let id = try row.text(0)
        guard let status = OrderStatus(rawValue: try row.text(13)), let state = USState(rawValue: try row.text(12)) else {
            throw StoreError.corruptRecord(table: "orders", id: id, detail: "status or billing_state")
        }
        return Order(
            id: OrderID(id), purchaseID: PurchaseID(try row.text(1)), merchantID: MerchantID(try row.text(2)),
            offerID: OfferID(try row.text(3)), cardAccountID: CardAccountID(try row.text(4)), reference: try row.text(5),
            unitPrice: .usd(try row.int(6)), tax: .usd(try row.int(7)), total: .usd(try row.int(8)), fee: .usd(try row.int(9)),
            taxRatePartsPerMillion: try row.int(10), taxTableVersion: try row.text(11), billingState: state, status: status,
            capturedAmount: .usd(try row.int(14)), refundedAmount: .usd(try row.int(15)), refundCount: try row.int(16),
            carrier: try row.optionalText(17), tracking: try row.optionalText(18), createdAt: try row.instant(19),
            updatedAt: try row.instant(20))
    }

    static func outbound(_ raw: PostgresRandomAccessRow) throws -> OutboundPost {
        let row = PostgresRowReader(row: raw, table: "outbound_posts")
        let key = try row.text(0)
        guard let purpose = OutboundPurpose(rawValue: try row.text(4)), let state = OutboundState(rawValue: try row.text(7)) else {
            throw StoreError.corruptRecord(table: "outbound_posts", id: key, detail: "purpose or state")
        }
        var post = OutboundPost(key: key, network: NetworkName(rawValue: try row.text(1)), inReplyTo: try row.text(2), text: try row.text(3),
                                purpose: purpose, purchaseID: try row.optionalText(5).map(PurchaseID.init(rawValue:)),
                                cardAccountID: try row.optionalText(6).map(CardAccountID.init(rawValue:)), createdAt: try row.instant(13))
        post.state = state
        post.attempts = try row.int(8)
        post.nextAttemptAt = try row.instant(9)
        post.lastError = try row.optionalText(10)
        post.postID = try row.optionalText(11)
        post.sentAt = try row.optionalInstant(12)
        return post
    }

    static func transfer(_ raw: PostgresRandomAccessRow) throws -> Transfer {
        let row = PostgresRowReader(row: raw, table: "ledger_transfers")
        let id = try row.text(0)
        guard let type = TransferType(rawValue: try row.text(4)), let code = TransferCode(rawValue: try row.text(7)) else {
            throw StoreError.corruptRecord(table: "ledger_transfers", id: id, detail: "type or code")
        }
        return Transfer(id: TransferID(id), debit: LedgerAccountID(try row.text(1)), credit: LedgerAccountID(try row.text(2)),
                        amount: try row.int(3), type: type, pendingID: try row.optionalText(5).map(TransferID.init(rawValue:)),
                        timeoutAt: try row.optionalInstant(6), code: code, createdAt: try row.instant(8))
    }

    /// A ledger account from `id, code, flags, debits_pending, debits_posted, credits_pending, credits_posted`.
    static func ledgerAccount(_ raw: PostgresRandomAccessRow) throws -> LedgerAccount {
        let row = PostgresRowReader(row: raw, table: "ledger_accounts")
        let id = try row.text(0)
        guard let code = LedgerAccountCode(rawValue: try row.text(1)) else {
            throw StoreError.corruptRecord(table: "ledger_accounts", id: id, detail: "code")
        }
        return LedgerAccount(id: LedgerAccountID(id), code: code, flags: LedgerAccountFlags(rawValue: try row.int(2)),
                             debitsPending: try row.int(3), debitsPosted: try row.int(4), creditsPending: try row.int(5),
                             creditsPosted: try row.int(6))
    }

    static let ledgerAccountColumns = "id, code, flags, debits_pending, debits_posted, credits_pending, credits_posted"

    static func notification(_ raw: PostgresRandomAccessRow) throws -> CardholderNotification {
        let row = PostgresRowReader(row: raw, table: "cardholder_notifications")
        return CardholderNotification(id: try row.text(0), cardAccountID: CardAccountID(try row.text(1)),
                                      purchaseID: try row.optionalText(2).map(PurchaseID.init(rawValue:)), kind: try row.text(3),
                                      message: try row.text(4), createdAt: try row.instant(5))
    }

    /// `$1, $2, …, $count`, starting after `offset`.
    static func placeholders(_ count: Int, after offset: Int = 0) -> String {
        (1...count).map { "$\($0 + offset)" }.joined(separator: ", ")
    }
}
