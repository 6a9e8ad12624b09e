import Foundation
import HashcartCore

/// The one set of row codecs both stores use: each stored type's columns (``StoreColumns``
/// holds them as SELECT lists), its decoder from a row in that order, and its values in that
/// order for writing it back.
enum StoreRows {
    // MARK: Columns, typed for bulk statements

    static let linkColumns = SQLColumn.list("id, card_account_id, network, user_id, handle, created_at:int, unlinked_at:int")
    static let offerColumns = SQLColumn.list("""
        id, merchant_id, title, sku, price:int, currency, tax_category, quantity:int, per_cardholder_limit:int, starts_at:int, ends_at:int,
        eligible_states:int, hashtag, hashtag_key, capture_mode, window_seconds:int, lifecycle, kill_switch:bool, reserved_units:int,
        sold_units:int, created_at:int, offer_type, credit_terms, credited_total:int, announce:bool, risk_daily_spend_cap:int,
        risk_max_purchases_per_hour:int, risk_min_link_age_seconds:int
        """)
    static let purchaseColumns = SQLColumn.list("""
        id, offer_id, merchant_id, card_account_id, network, user_id, handle, post_id, reference, state, decline_reason,
        cancellation_reason, amount:int, tax:int, total:int, fee:int, tax_rate_ppm:int, tax_version, billing_state, window_seconds:int,
        requested_at:int, expires_at:int, confirmation_post_id, confirmed_at:int, authorized_at:int, hold_expires_at:int, captured_at:int,
        ended_at:int, units:int
        """)
    /// What a purchase's transitions change, id first: an update writes only these, so SQLite
    /// rewrites only the indexes on them.
    static let purchaseChangeColumns = SQLColumn.list("""
        id, state, decline_reason, cancellation_reason, expires_at:int, confirmation_post_id, confirmed_at:int, authorized_at:int,
        hold_expires_at:int, captured_at:int, ended_at:int
        """)
    static let orderColumns = SQLColumn.list("""
        id, purchase_id, merchant_id, offer_id, card_account_id, reference, amount:int, tax:int, total:int, fee:int, tax_rate_ppm:int,
        tax_version, billing_state, status, captured:int, refunded:int, refund_count:int, carrier, tracking, created_at:int, updated_at:int,
        units:int
        """)
    /// What an order's transitions change, id first.
    static let orderChangeColumns = SQLColumn.list("id, status, captured:int, refunded:int, refund_count:int, carrier, tracking, updated_at:int")
    static let outboundColumns = SQLColumn.list("""
        key, network, in_reply_to, text, purpose, purchase_id, card_account_id, state, attempts:int, next_attempt_at:int,
        last_error, post_id, sent_at:int, created_at:int
        """)
    /// What sending an outbound post changes, key first.
    static let outboundChangeColumns = SQLColumn.list("key, state, attempts:int, next_attempt_at:int, last_error, post_id, sent_at:int, text")
    static let transferColumns = SQLColumn.list("id, debit_account_id, credit_account_id, amount:int, type, pending_id, timeout_at:int, code, created_at:int")
    static let ledgerAccountColumns = SQLColumn.list("id, code, flags:int, debits_pending:int, debits_posted:int, credits_pending:int, credits_posted:int")
    static let merchantEventColumns = SQLColumn.list("id, merchant_id, type, object_id, created_at:int")
    static let notificationColumns = SQLColumn.list("id, card_account_id, purchase_id, kind, message, created_at:int")
    static let auditColumns = SQLColumn.list("at:int, actor, address, action, object_id, merchant_id, detail")
    static let merchantColumns = SQLColumn.list("id, name, discount_bps:int, created_at:int, closed_at:int")

    /// `a, b, c` for a SELECT or INSERT.
    static func names(_ columns: [SQLColumn]) -> String { columns.map(\.name).joined(separator: ", ") }

    // MARK: Decoders

    static func oauthAuthorization(_ row: any SQLRow) throws -> OAuthAuthorization {
        OAuthAuthorization(stateHash: try row.text(0), cardAccountID: CardAccountID(try row.text(1)), network: NetworkName(rawValue: try row.text(2)),
                           codeVerifier: try row.text(3), createdAt: try row.instant(4), expiresAt: try row.instant(5), usedAt: try row.optionalInstant(6),
                           browserBindingHash: try row.optionalText(7))
    }

    static func link(_ row: any SQLRow) throws -> Link {
        Link(id: LinkID(try row.text(0)), cardAccountID: CardAccountID(try row.text(1)),
             identity: SocialIdentity(network: NetworkName(rawValue: try row.text(2)), userID: try row.text(3), handle: try row.text(4)),
             createdAt: try row.instant(5), unlinkedAt: try row.optionalInstant(6))
    }

    static func merchant(_ row: any SQLRow) throws -> Merchant {
        Merchant(id: MerchantID(try row.text(0)), name: try row.text(1), discountRateBasisPoints: try row.int(2), createdAt: try row.instant(3),
                 closedAt: try row.optionalInstant(4))
    }

    static func offer(_ row: any SQLRow) throws -> Offer {
        let id = try row.text(0)
        func bad(_ detail: String) -> StoreError { .corruptRecord(table: "offers", id: id, detail: detail) }
        guard let currency = Currency(rawValue: try row.text(5)) else { throw bad("currency") }
        guard let category = TaxCategory(rawValue: try row.text(6)) else { throw bad("tax_category") }
        guard let capture = CaptureMode(rawValue: try row.text(14)) else { throw bad("capture_mode") }
        guard let lifecycle = OfferLifecycle(rawValue: try row.text(16)) else { throw bad("lifecycle") }
        guard let hashtag = try? Hashtag(try row.text(12)) else { throw bad("hashtag") }
        guard let type = OfferType(rawValue: try row.text(21)) else { throw bad("offer_type") }
        var terms: StatementCreditTerms?
        if let text = try row.optionalText(22) {
            guard let decoded = StoredCreditTerms.decode(text) else { throw bad("credit_terms") }
            terms = decoded
        }
        return Offer(
            id: OfferID(id), merchantID: MerchantID(try row.text(1)), title: try row.text(2), sku: try row.text(3),
            price: Money(minorUnits: try row.int(4), currency: currency), taxCategory: category, quantity: try row.optionalInt(7),
            perCardholderLimit: try row.int(8), startsAt: try row.instant(9), endsAt: try row.instant(10),
            eligibleStates: USState.set(fromBits: UInt64(bitPattern: try row.int(11))), hashtag: hashtag, captureMode: capture,
            confirmationWindowSeconds: try row.int(15), lifecycle: lifecycle, killSwitch: try row.bool(17), reservedUnits: try row.int(18),
            soldUnits: try row.int(19), createdAt: try row.instant(20),
            type: type, statementCredit: terms, creditedTotal: try row.int(23), announce: try row.bool(24),
            risk: RiskOverrides(dailySpendCap: try row.optionalInt(25).map(Money.usd), maximumPurchasesPerHour: try row.optionalInt(26),
                                minimumLinkAgeSeconds: try row.optionalInt(27)))
    }

    static func purchase(_ row: any SQLRow) throws -> Purchase {
        let id = try row.text(0)
        func bad(_ detail: String) -> StoreError { .corruptRecord(table: "purchases", id: id, detail: detail) }
        guard let state = PurchaseState(rawValue: try row.text(9)) else { throw bad("state") }
        guard let billingState = USState(rawValue: try row.text(18)) else { throw bad("billing_state") }
        let (unitPrice, units) = try lineParts(amount: try row.int(12), units: try row.int(28), bad: bad)
        var purchase = Purchase(
            id: PurchaseID(id), offerID: OfferID(try row.text(1)), merchantID: MerchantID(try row.text(2)),
            cardAccountID: CardAccountID(try row.text(3)),
            identity: SocialIdentity(network: NetworkName(rawValue: try row.text(4)), userID: try row.text(5), handle: try row.text(6)),
            purchasePostID: try row.text(7), reference: try row.text(8), state: state, unitPrice: unitPrice, units: units,
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

    /// A stored line (`amount`, `units`) as its unit price and units; a line that does not divide
    /// evenly was not written by Hashcart.
    static func lineParts(amount: Int64, units: Int64, bad: (String) -> StoreError) throws -> (Money, Int64) {
        guard (1...PurchaseQuantity.maximumWritten).contains(units), amount >= 0, amount % units == 0 else {
            throw bad("amount \(amount) is not a whole unit price times \(units) units")
        }
        return (.usd(amount / units), units)
    }

    static func order(_ row: any SQLRow) throws -> Order {
        let id = try row.text(0)
        guard let status = OrderStatus(rawValue: try row.text(13)), let state = USState(rawValue: try row.text(12)) else {
            throw StoreError.corruptRecord(table: "orders", id: id, detail: "status or billing_state")
        }
        let (unitPrice, units) = try lineParts(amount: try row.int(6), units: try row.int(21)) {
            StoreError.corruptRecord(table: "orders", id: id, detail: $0)
        }
        return Order(
            id: OrderID(id), purchaseID: PurchaseID(try row.text(1)), merchantID: MerchantID(try row.text(2)),
            offerID: OfferID(try row.text(3)), cardAccountID: CardAccountID(try row.text(4)), reference: try row.text(5),
            unitPrice: unitPrice, units: units, tax: .usd(try row.int(7)), total: .usd(try row.int(8)), fee: .usd(try row.int(9)),
            taxRatePartsPerMillion: try row.int(10), taxTableVersion: try row.text(11), billingState: state, status: status,
            capturedAmount: .usd(try row.int(14)), refundedAmount: .usd(try row.int(15)), refundCount: try row.int(16),
            carrier: try row.optionalText(17), tracking: try row.optionalText(18), createdAt: try row.instant(19),
            updatedAt: try row.instant(20))
    }

    static func outbound(_ row: any SQLRow) throws -> OutboundPost {
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

    static func transfer(_ row: any SQLRow) throws -> Transfer {
        let id = try row.text(0)
        guard let type = TransferType(rawValue: try row.text(4)), let code = TransferCode(rawValue: try row.text(7)) else {
            throw StoreError.corruptRecord(table: "ledger_transfers", id: id, detail: "type or code")
        }
        return Transfer(id: TransferID(id), debit: LedgerAccountID(try row.text(1)), credit: LedgerAccountID(try row.text(2)),
                        amount: try row.int(3), type: type, pendingID: try row.optionalText(5).map(TransferID.init(rawValue:)),
                        timeoutAt: try row.optionalInstant(6), code: code, createdAt: try row.instant(8))
    }

    static func ledgerAccount(_ row: any SQLRow) throws -> LedgerAccount {
        let id = try row.text(0)
        guard let code = LedgerAccountCode(rawValue: try row.text(1)) else {
            throw StoreError.corruptRecord(table: "ledger_accounts", id: id, detail: "code")
        }
        return LedgerAccount(id: LedgerAccountID(id), code: code, flags: LedgerAccountFlags(rawValue: try row.int(2)),
                             debitsPending: try row.int(3), debitsPosted: try row.int(4), creditsPending: try row.int(5),
                             creditsPosted: try row.int(6))
    }

    static func notification(_ row: any SQLRow) throws -> CardholderNotification {
        CardholderNotification(id: try row.text(0), cardAccountID: CardAccountID(try row.text(1)),
                               purchaseID: try row.optionalText(2).map(PurchaseID.init(rawValue:)), kind: try row.text(3),
                               message: try row.text(4), createdAt: try row.instant(5))
    }

    /// A card account from `id, credit_limit, billing_sealed, created_at`, its private part opened with `cipher`.
    static func cardAccount(_ row: any SQLRow, cipher: AddressCipher) throws -> CardAccount {
        let id = CardAccountID(try row.text(0))
        let (billing, last4) = try cipher.openPrivate(try row.data(2), id: id)
        var fingerprint: CardFingerprint?
        if let hex = try row.optionalText(4) {
            guard let parsed = CardFingerprint(hex: hex) else {
                throw StoreError.corruptRecord(table: "card_accounts", id: id.rawValue, detail: "pan_fingerprint is not 64 hex digits")
            }
            fingerprint = parsed
        }
        return CardAccount(id: id, creditLimit: .usd(try row.int(1)), billing: billing, cardLast4: last4, createdAt: try row.instant(3),
                           panFingerprint: fingerprint, closedAt: try row.optionalInstant(5))
    }

    static let cardAccountColumns = "id, credit_limit, billing_sealed, created_at, pan_fingerprint, closed_at"

    // MARK: Values, in column order

    static func values(of l: Link) -> [SQLValue] {
        [.text(l.id.rawValue), .text(l.cardAccountID.rawValue), .text(l.identity.network.rawValue), .text(l.identity.userID),
         .text(l.identity.handle), SQLValue(l.createdAt), SQLValue(l.unlinkedAt)]
    }

    static func values(of m: Merchant) -> [SQLValue] {
        [.text(m.id.rawValue), .text(m.name), .int(m.discountRateBasisPoints), SQLValue(m.createdAt), SQLValue(m.closedAt)]
    }

    static func values(of o: Offer) -> [SQLValue] {
        [
            .text(o.id.rawValue), .text(o.merchantID.rawValue), .text(o.title), .text(o.sku), .int(o.price.minorUnits),
            .text(o.price.currency.rawValue), .text(o.taxCategory.rawValue), SQLValue(o.quantity), .int(o.perCardholderLimit),
            SQLValue(o.startsAt), SQLValue(o.endsAt), .int(Int64(bitPattern: USState.bits(of: o.eligibleStates))),
            .text(o.hashtag.display), .text(o.hashtag.key), .text(o.captureMode.rawValue), .int(o.confirmationWindowSeconds),
            .text(o.lifecycle.rawValue), .bool(o.killSwitch), .int(o.reservedUnits), .int(o.soldUnits), SQLValue(o.createdAt),
            .text(o.type.rawValue), SQLValue(o.statementCredit.map(StoredCreditTerms.encode)), .int(o.creditedTotal), .bool(o.announce),
            SQLValue(o.risk.dailySpendCap?.minorUnits), SQLValue(o.risk.maximumPurchasesPerHour), SQLValue(o.risk.minimumLinkAgeSeconds),
        ]
    }

    static func values(of p: Purchase) -> [SQLValue] {
        [
            .text(p.id.rawValue), .text(p.offerID.rawValue), .text(p.merchantID.rawValue), .text(p.cardAccountID.rawValue),
            .text(p.identity.network.rawValue), .text(p.identity.userID), .text(p.identity.handle), .text(p.purchasePostID),
            .text(p.reference), .text(p.state.rawValue), SQLValue(p.declineReason?.rawValue), SQLValue(p.cancellationReason?.rawValue),
            .int(p.amount.minorUnits), .int(p.tax.minorUnits), .int(p.total.minorUnits), .int(p.fee.minorUnits),
            .int(p.taxRatePartsPerMillion), .text(p.taxTableVersion), .text(p.billingState.rawValue), .int(p.confirmationWindowSeconds),
            SQLValue(p.requestedAt), SQLValue(p.expiresAt), SQLValue(p.confirmationPostID), SQLValue(p.confirmedAt),
            SQLValue(p.authorizedAt), SQLValue(p.holdExpiresAt), SQLValue(p.capturedAt), SQLValue(p.endedAt), .int(p.units),
        ]
    }

    /// ``purchaseChangeColumns`` of a purchase.
    static func changes(of p: Purchase) -> [SQLValue] {
        [
            .text(p.id.rawValue), .text(p.state.rawValue), SQLValue(p.declineReason?.rawValue), SQLValue(p.cancellationReason?.rawValue),
            SQLValue(p.expiresAt), SQLValue(p.confirmationPostID), SQLValue(p.confirmedAt), SQLValue(p.authorizedAt),
            SQLValue(p.holdExpiresAt), SQLValue(p.capturedAt), SQLValue(p.endedAt),
        ]
    }

    static func values(of o: Order) -> [SQLValue] {
        [
            .text(o.id.rawValue), .text(o.purchaseID.rawValue), .text(o.merchantID.rawValue), .text(o.offerID.rawValue),
            .text(o.cardAccountID.rawValue), .text(o.reference), .int(o.amount.minorUnits), .int(o.tax.minorUnits),
            .int(o.total.minorUnits), .int(o.fee.minorUnits), .int(o.taxRatePartsPerMillion), .text(o.taxTableVersion),
            .text(o.billingState.rawValue), .text(o.status.rawValue), .int(o.capturedAmount.minorUnits),
            .int(o.refundedAmount.minorUnits), .int(o.refundCount), SQLValue(o.carrier), SQLValue(o.tracking), SQLValue(o.createdAt),
            SQLValue(o.updatedAt), .int(o.units),
        ]
    }

    /// ``orderChangeColumns`` of an order.
    static func changes(of o: Order) -> [SQLValue] {
        [
            .text(o.id.rawValue), .text(o.status.rawValue), .int(o.capturedAmount.minorUnits), .int(o.refundedAmount.minorUnits),
            .int(o.refundCount), SQLValue(o.carrier), SQLValue(o.tracking), SQLValue(o.updatedAt),
        ]
    }

    static func values(of p: OutboundPost) -> [SQLValue] {
        [
            .text(p.key), .text(p.network.rawValue), .text(p.inReplyTo), .text(p.text), .text(p.purpose.rawValue),
            SQLValue(p.purchaseID?.rawValue), SQLValue(p.cardAccountID?.rawValue), .text(p.state.rawValue), .int(p.attempts),
            SQLValue(p.nextAttemptAt), SQLValue(p.lastError), SQLValue(p.postID), SQLValue(p.sentAt), SQLValue(p.createdAt),
        ]
    }

    /// ``outboundChangeColumns`` of an outbound post.
    static func changes(of p: OutboundPost) -> [SQLValue] {
        [.text(p.key), .text(p.state.rawValue), .int(p.attempts), SQLValue(p.nextAttemptAt), SQLValue(p.lastError), SQLValue(p.postID),
         SQLValue(p.sentAt), .text(p.text)]
    }

    static func values(of t: Transfer) -> [SQLValue] {
        [
            .text(t.id.rawValue), .text(t.debitAccountID.rawValue), .text(t.creditAccountID.rawValue), .int(t.amount), .text(t.type.rawValue),
            SQLValue(t.pendingID?.rawValue), SQLValue(t.timeoutAt), .text(t.code.rawValue), SQLValue(t.createdAt),
        ]
    }

    static func values(of a: LedgerAccount) -> [SQLValue] {
        [.text(a.id.rawValue), .text(a.code.rawValue), .int(a.flags.rawValue), .int(a.debitsPending), .int(a.debitsPosted),
         .int(a.creditsPending), .int(a.creditsPosted)]
    }

    static func values(of e: MerchantEvent) -> [SQLValue] {
        [.text(e.id), .text(e.merchantID.rawValue), .text(e.type.rawValue), .text(e.objectID), SQLValue(e.createdAt)]
    }

    static func values(of a: AuditEntry) -> [SQLValue] {
        [SQLValue(a.at), .text(a.actor), .text(a.address), .text(a.action), .text(a.objectID), SQLValue(a.merchantID?.rawValue), .text(a.detail)]
    }

    static func values(of n: CardholderNotification) -> [SQLValue] {
        [.text(n.id), .text(n.cardAccountID.rawValue), SQLValue(n.purchaseID?.rawValue), .text(n.kind), .text(n.message), SQLValue(n.createdAt)]
    }
}

/// A card-linked offer's terms as the `credit_terms` column holds them: JSON with sorted lists,
/// so the same terms are the same bytes.
enum StoredCreditTerms {
    private struct Row: Codable {
        var spend_threshold: Int64
        var credit_amount: Int64
        var acceptor_ids: [String]
        var mccs: [String]
        var budget: Int64
    }

    static func encode(_ terms: StatementCreditTerms) -> String {
        let row = Row(spend_threshold: terms.spendThreshold.minorUnits, credit_amount: terms.credit.minorUnits,
                      acceptor_ids: terms.acceptorIDs.sorted(), mccs: terms.merchantCategoryCodes.sorted(), budget: terms.budget.minorUnits)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try! encoder.encode(row), as: UTF8.self)
    }

    static func decode(_ text: String) -> StatementCreditTerms? {
        guard text.utf8.count <= 16_384, let row = try? JSONDecoder().decode(Row.self, from: Data(text.utf8)) else { return nil }
        return StatementCreditTerms(spendThreshold: .usd(row.spend_threshold), credit: .usd(row.credit_amount),
                                    acceptorIDs: Set(row.acceptor_ids), merchantCategoryCodes: Set(row.mccs), budget: .usd(row.budget))
    }
}
