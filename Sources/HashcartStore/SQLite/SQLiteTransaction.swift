import Foundation
import GRDB
import HashcartCore

/// The engine's view of one SQLite write transaction.
///
/// Hot rows (ledger accounts, offers, funnel counters) are cached for the life of the
/// transaction and written back once in ``flush()``, so a batch of a thousand purchases updates
/// the merchant's payable account once, not a thousand times.
final class SQLiteTransaction: StoreTransaction {
    let db: Database
    let cipher: AddressCipher

    private var accounts: [LedgerAccountID: LedgerAccount] = [:]
    private var dirtyAccounts: Set<LedgerAccountID> = []
    private var offers = OfferCache()
    private var funnel: [FunnelKey: Int64] = [:]

    struct FunnelKey: Hashable {
        var offer: OfferID
        var metric: String
        /// Unix minutes.
        var minute: Int64
    }

    let cardCache: CardAccountCache?
    /// Card accounts read in this transaction, shared with the cache only when it commits.
    private var cardsToCache: [CardAccount] = []

    init(db: Database, cipher: AddressCipher, cardCache: CardAccountCache? = nil) {
        self.db = db
        self.cipher = cipher
        self.cardCache = cardCache
    }

    /// Writes back every cached change. Called once, just before commit.
    func flush() throws {
        let accountStatement = try db.cachedStatement(sql: """
            UPDATE ledger_accounts SET debits_pending = ?, debits_posted = ?, credits_pending = ?, credits_posted = ?
            WHERE id = ?
            """)
        for id in dirtyAccounts.sorted() {
            let a = accounts[id]!
            precondition(a.isWithinBounds, "ledger account \(id) out of bounds at commit")
            try accountStatement.execute(arguments: [a.debitsPending, a.debitsPosted, a.creditsPending, a.creditsPosted, id.rawValue])
            precondition(db.changesCount == 1, "ledger account \(id) vanished")
        }
        for id in offers.dirty.sorted() {
            try writeOffer(offers[id]!, insert: false)
        }
        let funnelStatement = try db.cachedStatement(sql: """
            INSERT INTO funnel (offer_id, metric, value) VALUES (?, ?, ?)
            ON CONFLICT (offer_id, metric) DO UPDATE SET value = value + excluded.value
            """)
        let minuteStatement = try db.cachedStatement(sql: """
            INSERT INTO funnel_minutes (offer_id, metric, minute, value) VALUES (?, ?, ?, ?)
            ON CONFLICT (offer_id, metric, minute) DO UPDATE SET value = value + excluded.value
            """)
        var totals: [FunnelKey: Int64] = [:]
        for (key, value) in funnel.sorted(by: { ($0.key.offer, $0.key.metric, $0.key.minute) < ($1.key.offer, $1.key.metric, $1.key.minute) })
        where value != 0 {
            try minuteStatement.execute(arguments: [key.offer.rawValue, key.metric, key.minute, value])
            totals[FunnelKey(offer: key.offer, metric: key.metric, minute: 0), default: 0] += value
        }
        for (key, value) in totals.sorted(by: { ($0.key.offer, $0.key.metric) < ($1.key.offer, $1.key.metric) }) where value != 0 {
            try funnelStatement.execute(arguments: [key.offer.rawValue, key.metric, value])
        }
        dirtyAccounts = []
        offers.written()
        funnel = [:]
        for account in cardsToCache { cardCache?.put(account) }
        cardsToCache = []
    }

    // MARK: Idempotency of inputs

    func markEventProcessed(network: NetworkName, eventID: String, at: Instant) throws -> Bool {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO processed_events (network, event_id, processed_at) VALUES (?, ?, ?)")
            .execute(arguments: [network.rawValue, eventID, at.millisecondsSinceEpoch])
        return db.changesCount == 1
    }

    func postDeletedAt(network: NetworkName, postID: String) throws -> Instant? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT deleted_at FROM deleted_posts WHERE network = ? AND post_id = ?"),
                           arguments: [network.rawValue, postID]).map(Instant.init(millisecondsSinceEpoch:))
    }

    func recordDeletedPost(network: NetworkName, postID: String, at: Instant) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO deleted_posts (network, post_id, deleted_at) VALUES (?, ?, ?)")
            .execute(arguments: [network.rawValue, postID, at.millisecondsSinceEpoch])
    }

    func parkEvent(_ event: NetworkEvent, at: Instant) throws {
        guard let postID = event.referencedPostID else { return }
        let data = try JSONEncoder().encode(event)
        try db.execute(sql: "INSERT INTO parked_events (network, post_id, event, parked_at) VALUES (?, ?, ?, ?)",
                       arguments: [event.network.rawValue, postID, data, at.millisecondsSinceEpoch])
        try db.execute(sql: "DELETE FROM parked_events WHERE id <= (SELECT MAX(id) FROM parked_events) - ?",
                       arguments: [StoreLimits.maximumParkedEvents])
    }

    func takeParkedEvents(network: NetworkName, postID: String) throws -> [NetworkEvent] {
        let rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT id, event FROM parked_events WHERE network = ? AND post_id = ? ORDER BY id"),
                                    arguments: [network.rawValue, postID])
        guard !rows.isEmpty else { return [] }
        try db.execute(sql: "DELETE FROM parked_events WHERE network = ? AND post_id = ?", arguments: [network.rawValue, postID])
        return try rows.map { row in
            let data: Data = row[1]
            do {
                return try JSONDecoder().decode(NetworkEvent.self, from: data)
            } catch {
                throw StoreError.corruptRecord(table: "parked_events", id: String(row[0] as Int64), detail: "\(error)")
            }
        }
    }

    func cursor(network: NetworkName) throws -> String? {
        try String.fetchOne(db, sql: "SELECT cursor FROM cursors WHERE network = ?", arguments: [network.rawValue])
    }

    func setCursor(network: NetworkName, cursor: String) throws {
        try db.execute(sql: "INSERT INTO cursors (network, cursor) VALUES (?, ?) ON CONFLICT (network) DO UPDATE SET cursor = excluded.cursor",
                       arguments: [network.rawValue, cursor])
    }

    // MARK: People and offers

    func merchant(_ id: MerchantID) throws -> Merchant? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT id, name, discount_bps, created_at FROM merchants WHERE id = ?"),
                         arguments: [id.rawValue]).map { row in
            Merchant(id: MerchantID(row[0] as String), name: row[1], discountRateBasisPoints: row[2],
                     createdAt: Instant(millisecondsSinceEpoch: row[3]))
        }
    }

    func insertMerchant(_ merchant: Merchant) throws {
        try db.execute(sql: "INSERT INTO merchants (id, name, discount_bps, created_at) VALUES (?, ?, ?, ?)",
                       arguments: [merchant.id.rawValue, merchant.name, merchant.discountRateBasisPoints, merchant.createdAt.millisecondsSinceEpoch])
        try insertLedgerAccount(LedgerAccounts.merchantPayable(merchant.id))
    }

    func cardAccount(_ id: CardAccountID) throws -> CardAccount? {
        if let cached = cardCache?.get(id) { return cached }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT credit_limit, billing_sealed, created_at FROM card_accounts WHERE id = ?"),
                                         arguments: [id.rawValue])
        else { return nil }
        let (billing, last4) = try cipher.openPrivate(row[1], id: id)
        let account = CardAccount(id: id, creditLimit: .usd(row[0]), billing: billing, cardLast4: last4,
                                  createdAt: Instant(millisecondsSinceEpoch: row[2]))
        if cardCache != nil { cardsToCache.append(account) }
        return account
    }

    func insertCardAccount(_ account: CardAccount) throws {
        try db.execute(sql: "INSERT INTO card_accounts (id, credit_limit, billing_state, billing_sealed, created_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [account.id.rawValue, account.creditLimit.minorUnits, account.billing.state.rawValue,
                                   try cipher.sealPrivate(of: account), account.createdAt.millisecondsSinceEpoch])
    }

    static let linkColumns = StoreColumns.link

    static func link(from row: Row) -> Link {
        Link(id: LinkID(row[0] as String), cardAccountID: CardAccountID(row[1] as String),
             identity: SocialIdentity(network: NetworkName(rawValue: row[2]), userID: row[3], handle: row[4]),
             createdAt: Instant(millisecondsSinceEpoch: row[5]),
             unlinkedAt: (row[6] as Int64?).map(Instant.init(millisecondsSinceEpoch:)))
    }

    func activeLink(network: NetworkName, userID: String) throws -> Link? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.linkColumns) FROM links WHERE network = ? AND user_id = ? AND unlinked_at IS NULL"),
                         arguments: [network.rawValue, userID]).map(Self.link(from:))
    }

    func activeLink(cardAccountID: CardAccountID, network: NetworkName) throws -> Link? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.linkColumns) FROM links WHERE card_account_id = ? AND network = ? AND unlinked_at IS NULL"),
                         arguments: [cardAccountID.rawValue, network.rawValue]).map(Self.link(from:))
    }

    func insertLink(_ link: Link) throws {
        do {
            try db.execute(sql: "INSERT INTO links (\(Self.linkColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [link.id.rawValue, link.cardAccountID.rawValue, link.identity.network.rawValue, link.identity.userID,
                                       link.identity.handle, link.createdAt.millisecondsSinceEpoch, link.unlinkedAt?.millisecondsSinceEpoch])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StoreError.conflict("this identity or card account is already linked on \(link.identity.network)")
        }
    }

    func endLink(_ id: LinkID, at: Instant) throws {
        try db.execute(sql: "UPDATE links SET unlinked_at = ? WHERE id = ? AND unlinked_at IS NULL",
                       arguments: [at.millisecondsSinceEpoch, id.rawValue])
    }

    func insertLinkCode(_ code: LinkCode) throws {
        try db.execute(sql: "INSERT INTO link_codes (code, card_account_id, network, expires_at, used_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [code.code, code.cardAccountID.rawValue, code.network.rawValue, code.expiresAt.millisecondsSinceEpoch,
                                   code.usedAt?.millisecondsSinceEpoch])
    }

    func linkCode(_ code: String) throws -> LinkCode? {
        try Row.fetchOne(db, sql: "SELECT code, card_account_id, network, expires_at, used_at FROM link_codes WHERE code = ?", arguments: [code])
            .map { row in
                LinkCode(code: row[0], cardAccountID: CardAccountID(row[1] as String), network: NetworkName(rawValue: row[2]),
                         expiresAt: Instant(millisecondsSinceEpoch: row[3]), usedAt: (row[4] as Int64?).map(Instant.init(millisecondsSinceEpoch:)))
            }
    }

    func markLinkCodeUsed(_ code: String, at: Instant) throws {
        try db.execute(sql: "UPDATE link_codes SET used_at = ? WHERE code = ? AND used_at IS NULL", arguments: [at.millisecondsSinceEpoch, code])
    }

    static let offerColumns = StoreColumns.offer

    static func offer(from row: Row) throws -> Offer {
        let id: String = row[0]
        func bad(_ detail: String) -> StoreError { .corruptRecord(table: "offers", id: id, detail: detail) }
        guard let currency = Currency(rawValue: row[5]) else { throw bad("currency") }
        guard let category = TaxCategory(rawValue: row[6]) else { throw bad("tax_category") }
        guard let capture = CaptureMode(rawValue: row[14]) else { throw bad("capture_mode") }
        guard let lifecycle = OfferLifecycle(rawValue: row[16]) else { throw bad("lifecycle") }
        guard let hashtag = try? Hashtag(row[12] as String) else { throw bad("hashtag") }
        return Offer(
            id: OfferID(id), merchantID: MerchantID(row[1] as String), title: row[2], sku: row[3],
            price: Money(minorUnits: row[4], currency: currency), taxCategory: category, quantity: row[7],
            perCardholderLimit: row[8], startsAt: Instant(millisecondsSinceEpoch: row[9]), endsAt: Instant(millisecondsSinceEpoch: row[10]),
            eligibleStates: USState.set(fromBits: UInt64(bitPattern: row[11])), hashtag: hashtag, captureMode: capture,
            confirmationWindowSeconds: row[15], lifecycle: lifecycle, killSwitch: row[17], reservedUnits: row[18],
            soldUnits: row[19], createdAt: Instant(millisecondsSinceEpoch: row[20]))
    }

    func offer(hashtagKey: String) throws -> Offer? {
        if let cached = offers.live(hashtagKey: hashtagKey) { return cached }
        return try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.offerColumns) FROM offers WHERE hashtag_key = ? AND lifecycle != 'ended'"),
                                arguments: [hashtagKey]).map { offers.remember(try Self.offer(from: $0)) }
    }

    func offer(_ id: OfferID) throws -> Offer? {
        if let cached = offers[id] { return cached }
        return try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.offerColumns) FROM offers WHERE id = ?"),
                                arguments: [id.rawValue]).map { offers.remember(try Self.offer(from: $0)) }
    }

    func insertOffer(_ offer: Offer) throws {
        do {
            try writeOffer(offer, insert: true)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StoreError.conflict("hashtag \(offer.hashtag) is already used by an offer that has not ended")
        }
        _ = offers.remember(offer)
    }

    func updateOffer(_ offer: Offer) throws {
        offers.update(offer)
    }

    private func writeOffer(_ o: Offer, insert: Bool) throws {
        let arguments: StatementArguments = [
            o.merchantID.rawValue, o.title, o.sku, o.price.minorUnits, o.price.currency.rawValue, o.taxCategory.rawValue,
            o.quantity, o.perCardholderLimit, o.startsAt.millisecondsSinceEpoch, o.endsAt.millisecondsSinceEpoch,
            Int64(bitPattern: USState.bits(of: o.eligibleStates)), o.hashtag.display, o.hashtag.key, o.captureMode.rawValue,
            o.confirmationWindowSeconds, o.lifecycle.rawValue, o.killSwitch, o.reservedUnits, o.soldUnits,
            o.createdAt.millisecondsSinceEpoch, o.id.rawValue,
        ]
        if insert {
            try db.execute(sql: """
                INSERT INTO offers (merchant_id, title, sku, price, currency, tax_category, quantity, per_cardholder_limit,
                    starts_at, ends_at, eligible_states, hashtag, hashtag_key, capture_mode, window_seconds, lifecycle,
                    kill_switch, reserved_units, sold_units, created_at, id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: arguments)
        } else {
            try db.cachedStatement(sql: """
                UPDATE offers SET merchant_id = ?, title = ?, sku = ?, price = ?, currency = ?, tax_category = ?, quantity = ?,
                    per_cardholder_limit = ?, starts_at = ?, ends_at = ?, eligible_states = ?, hashtag = ?, hashtag_key = ?,
                    capture_mode = ?, window_seconds = ?, lifecycle = ?, kill_switch = ?, reserved_units = ?, sold_units = ?,
                    created_at = ?
                WHERE id = ?
                """).execute(arguments: arguments)
            precondition(db.changesCount == 1, "offer \(o.id) vanished")
        }
    }

    // MARK: Purchases and orders

    static let purchaseColumns = StoreColumns.purchase

    /// A purchase row, read by position through SQLite's C API (``purchaseColumns`` order).
    static func purchase(from row: RawRow) throws -> Purchase {
        let id = row.text(0)
        func bad(_ detail: String) -> StoreError { .corruptRecord(table: "purchases", id: id, detail: detail) }
        guard let state = PurchaseState(rawValue: row.text(9)) else { throw bad("state") }
        guard let billingState = USState(rawValue: row.text(18)) else { throw bad("billing_state") }
        func instant(_ index: Int32) -> Instant? { row.optionalInt(index).map(Instant.init(millisecondsSinceEpoch:)) }
        var purchase = Purchase(
            id: PurchaseID(id), offerID: OfferID(row.text(1)), merchantID: MerchantID(row.text(2)),
            cardAccountID: CardAccountID(row.text(3)),
            identity: SocialIdentity(network: NetworkName(rawValue: row.text(4)), userID: row.text(5), handle: row.text(6)),
            purchasePostID: row.text(7), reference: row.text(8), state: state, unitPrice: .usd(row.int(12)), tax: .usd(row.int(13)),
            total: .usd(row.int(14)), fee: .usd(row.int(15)), taxRatePartsPerMillion: row.int(16), taxTableVersion: row.text(17),
            billingState: billingState, confirmationWindowSeconds: row.int(19),
            requestedAt: Instant(millisecondsSinceEpoch: row.int(20)), expiresAt: Instant(millisecondsSinceEpoch: row.int(21)))
        purchase.declineReason = row.optionalText(10).flatMap(DeclineReason.init(rawValue:))
        purchase.cancellationReason = row.optionalText(11).flatMap(CancellationReason.init(rawValue:))
        purchase.confirmationPostID = row.optionalText(22)
        purchase.confirmedAt = instant(23)
        purchase.authorizedAt = instant(24)
        purchase.holdExpiresAt = instant(25)
        purchase.capturedAt = instant(26)
        purchase.endedAt = instant(27)
        return purchase
    }

    static func arguments(of p: Purchase) -> StatementArguments {
        [
            p.offerID.rawValue, p.merchantID.rawValue, p.cardAccountID.rawValue, p.identity.network.rawValue, p.identity.userID,
            p.identity.handle, p.purchasePostID, p.reference, p.state.rawValue, p.declineReason?.rawValue,
            p.cancellationReason?.rawValue, p.unitPrice.minorUnits, p.tax.minorUnits, p.total.minorUnits, p.fee.minorUnits,
            p.taxRatePartsPerMillion, p.taxTableVersion, p.billingState.rawValue, p.confirmationWindowSeconds,
            p.requestedAt.millisecondsSinceEpoch, p.expiresAt.millisecondsSinceEpoch, p.confirmationPostID,
            p.confirmedAt?.millisecondsSinceEpoch, p.authorizedAt?.millisecondsSinceEpoch, p.holdExpiresAt?.millisecondsSinceEpoch,
            p.capturedAt?.millisecondsSinceEpoch, p.endedAt?.millisecondsSinceEpoch, p.id.rawValue,
        ]
    }

    func purchase(_ id: PurchaseID) throws -> Purchase? {
        try db.fetchFirstRaw("SELECT \(Self.purchaseColumns) FROM purchases WHERE id = ?", [id.rawValue], Self.purchase(from:))
    }

    func purchase(network: NetworkName, confirmationPostID: String) throws -> Purchase? {
        try db.fetchFirstRaw("SELECT \(Self.purchaseColumns) FROM purchases WHERE network = ? AND confirmation_post_id = ?",
                             [network.rawValue, confirmationPostID], Self.purchase(from:))
    }

    func insertPurchase(_ purchase: Purchase) throws {
        try db.cachedStatement(sql: """
            INSERT INTO purchases (offer_id, merchant_id, card_account_id, network, user_id, handle, post_id, reference, state,
                decline_reason, cancellation_reason, unit_price, tax, total, fee, tax_rate_ppm, tax_version, billing_state,
                window_seconds, requested_at, expires_at, confirmation_post_id, confirmed_at, authorized_at, hold_expires_at,
                captured_at, ended_at, id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: Self.arguments(of: purchase))
    }

    /// Updates only what a purchase's transitions change, so SQLite rewrites only the indexes on
    /// those columns (an UPDATE that sets a column rewrites every index on it).
    func updatePurchase(_ p: Purchase) throws {
        try db.cachedStatement(sql: """
            UPDATE purchases SET state = ?, decline_reason = ?, cancellation_reason = ?, expires_at = ?,
                confirmation_post_id = ?, confirmed_at = ?, authorized_at = ?, hold_expires_at = ?, captured_at = ?, ended_at = ?
            WHERE id = ?
            """).execute(arguments: [
                p.state.rawValue, p.declineReason?.rawValue, p.cancellationReason?.rawValue, p.expiresAt.millisecondsSinceEpoch,
                p.confirmationPostID, p.confirmedAt?.millisecondsSinceEpoch, p.authorizedAt?.millisecondsSinceEpoch,
                p.holdExpiresAt?.millisecondsSinceEpoch, p.capturedAt?.millisecondsSinceEpoch, p.endedAt?.millisecondsSinceEpoch,
                p.id.rawValue,
            ])
        precondition(db.changesCount == 1, "purchase \(p.id) vanished")
    }

    func openHashtagKeys(now: Instant, limit: Int) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: StoreColumns.interestHashtagsSQL(placeholder: "?")),
                            arguments: [now.millisecondsSinceEpoch, limit])
    }

    func isReferenceTaken(_ reference: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM purchases WHERE reference = ?"), arguments: [reference]) ?? false
    }

    func cardUsage(card: CardAccountID, offer: OfferID, now: Instant) throws -> CardUsage {
        let dayStart = now.utcDay * 86_400_000
        let hourAgo = now.millisecondsSinceEpoch - 3_600_000
        // Purchases whose order was cancelled (and refunded) no longer count against the limits.
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT
                COALESCE(SUM(CASE WHEN p.requested_at >= ? AND p.state IN ('requested','awaiting_confirmation','confirmed','authorized','captured') AND o.id IS NULL THEN p.total END), 0),
                COUNT(CASE WHEN p.requested_at >= ? AND p.state != 'declined' THEN 1 END),
                COUNT(CASE WHEN p.offer_id = ? AND p.state IN ('requested','awaiting_confirmation','confirmed','authorized','captured') AND o.id IS NULL THEN 1 END)
            FROM purchases p LEFT JOIN orders o ON o.purchase_id = p.id AND o.status = 'cancelled'
            WHERE p.card_account_id = ?
            """), arguments: [dayStart, hourAgo, offer.rawValue, card.rawValue])!
        return CardUsage(spentToday: .usd(row[0]), purchasesLastHour: row[1], purchasesOfOffer: row[2])
    }

    func purchasesDueToExpire(before: Instant, network: NetworkName, limit: Int) throws -> [Purchase] {
        try db.fetchRaw("""
            SELECT \(Self.purchaseColumns) FROM purchases
            WHERE state IN ('requested', 'awaiting_confirmation') AND expires_at <= ? AND network = ? ORDER BY expires_at, id LIMIT ?
            """, [before.millisecondsSinceEpoch, network.rawValue, limit], limit: limit, Self.purchase(from:))
    }

    func purchasesWithLapsedHolds(before: Instant, limit: Int) throws -> [Purchase] {
        try db.fetchRaw("""
            SELECT \(Self.purchaseColumns) FROM purchases
            WHERE state = 'authorized' AND hold_expires_at <= ? ORDER BY hold_expires_at, id LIMIT ?
            """, [before.millisecondsSinceEpoch, limit], limit: limit, Self.purchase(from:))
    }

    func pendingPurchases(cardAccountID: CardAccountID, network: NetworkName) throws -> [Purchase] {
        try db.fetchRaw("""
            SELECT \(Self.purchaseColumns) FROM purchases
            WHERE card_account_id = ? AND network = ? AND state IN ('requested', 'awaiting_confirmation') ORDER BY id LIMIT ?
            """, [cardAccountID.rawValue, network.rawValue, StoreLimits.maximumPendingPurchasesPerCard],
            limit: StoreLimits.maximumPendingPurchasesPerCard, Self.purchase(from:))
    }

    static let orderColumns = StoreColumns.order

    static func order(from row: Row) throws -> Order {
        let id: String = row[0]
        guard let status = OrderStatus(rawValue: row[13]), let state = USState(rawValue: row[12]) else {
            throw StoreError.corruptRecord(table: "orders", id: id, detail: "status or billing_state")
        }
        return Order(
            id: OrderID(id), purchaseID: PurchaseID(row[1] as String), merchantID: MerchantID(row[2] as String),
            offerID: OfferID(row[3] as String), cardAccountID: CardAccountID(row[4] as String), reference: row[5],
            unitPrice: .usd(row[6]), tax: .usd(row[7]), total: .usd(row[8]), fee: .usd(row[9]), taxRatePartsPerMillion: row[10],
            taxTableVersion: row[11], billingState: state, status: status, capturedAmount: .usd(row[14]),
            refundedAmount: .usd(row[15]), refundCount: row[16], carrier: row[17], tracking: row[18],
            createdAt: Instant(millisecondsSinceEpoch: row[19]), updatedAt: Instant(millisecondsSinceEpoch: row[20]))
    }

    static func arguments(of o: Order) -> StatementArguments {
        [
            o.purchaseID.rawValue, o.merchantID.rawValue, o.offerID.rawValue, o.cardAccountID.rawValue, o.reference,
            o.unitPrice.minorUnits, o.tax.minorUnits, o.total.minorUnits, o.fee.minorUnits, o.taxRatePartsPerMillion,
            o.taxTableVersion, o.billingState.rawValue, o.status.rawValue, o.capturedAmount.minorUnits,
            o.refundedAmount.minorUnits, o.refundCount, o.carrier, o.tracking, o.createdAt.millisecondsSinceEpoch,
            o.updatedAt.millisecondsSinceEpoch, o.id.rawValue,
        ]
    }

    func order(_ id: OrderID) throws -> Order? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.orderColumns) FROM orders WHERE id = ?"),
                         arguments: [id.rawValue]).map(Self.order(from:))
    }

    func insertOrder(_ order: Order) throws {
        try db.cachedStatement(sql: """
            INSERT INTO orders (purchase_id, merchant_id, offer_id, card_account_id, reference, unit_price, tax, total, fee,
                tax_rate_ppm, tax_version, billing_state, status, captured, refunded, refund_count, carrier, tracking,
                created_at, updated_at, id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: Self.arguments(of: order))
    }

    /// Updates only what an order's transitions change.
    func updateOrder(_ o: Order) throws {
        try db.cachedStatement(sql: """
            UPDATE orders SET status = ?, captured = ?, refunded = ?, refund_count = ?, carrier = ?, tracking = ?, updated_at = ?
            WHERE id = ?
            """).execute(arguments: [
                o.status.rawValue, o.capturedAmount.minorUnits, o.refundedAmount.minorUnits, o.refundCount, o.carrier, o.tracking,
                o.updatedAt.millisecondsSinceEpoch, o.id.rawValue,
            ])
        precondition(db.changesCount == 1, "order \(o.id) vanished")
    }

    // MARK: Effects

    static let outboundColumns = StoreColumns.outbound

    static func outbound(from row: Row) throws -> OutboundPost {
        let key: String = row[0]
        guard let purpose = OutboundPurpose(rawValue: row[4]), let state = OutboundState(rawValue: row[7]) else {
            throw StoreError.corruptRecord(table: "outbound_posts", id: key, detail: "purpose or state")
        }
        var post = OutboundPost(key: key, network: NetworkName(rawValue: row[1]), inReplyTo: row[2], text: row[3], purpose: purpose,
                                purchaseID: (row[5] as String?).map(PurchaseID.init(rawValue:)),
                                cardAccountID: (row[6] as String?).map(CardAccountID.init(rawValue:)),
                                createdAt: Instant(millisecondsSinceEpoch: row[13]))
        post.state = state
        post.attempts = row[8]
        post.nextAttemptAt = Instant(millisecondsSinceEpoch: row[9])
        post.lastError = row[10]
        post.postID = row[11]
        post.sentAt = (row[12] as Int64?).map(Instant.init(millisecondsSinceEpoch:))
        return post
    }

    static func arguments(of p: OutboundPost) -> StatementArguments {
        [
            p.network.rawValue, p.inReplyTo, p.text, p.purpose.rawValue, p.purchaseID?.rawValue, p.cardAccountID?.rawValue,
            p.state.rawValue, p.attempts, p.nextAttemptAt.millisecondsSinceEpoch, p.lastError, p.postID,
            p.sentAt?.millisecondsSinceEpoch, p.createdAt.millisecondsSinceEpoch, p.key,
        ]
    }

    func enqueueOutbound(_ post: OutboundPost) throws {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO outbound_posts (network, in_reply_to, text, purpose, purchase_id, card_account_id, state,
                attempts, next_attempt_at, last_error, post_id, sent_at, created_at, key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: Self.arguments(of: post))
    }

    func outbound(key: String) throws -> OutboundPost? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.outboundColumns) FROM outbound_posts WHERE key = ?"),
                         arguments: [key]).map(Self.outbound(from:))
    }

    func updateOutbound(_ post: OutboundPost) throws {
        try db.cachedStatement(sql: """
            UPDATE outbound_posts SET network = ?, in_reply_to = ?, text = ?, purpose = ?, purchase_id = ?, card_account_id = ?,
                state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, post_id = ?, sent_at = ?, created_at = ?
            WHERE key = ?
            """).execute(arguments: Self.arguments(of: post))
    }

    func addMerchantEvent(_ event: MerchantEvent) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO merchant_events (id, merchant_id, type, object_id, created_at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [event.id, event.merchantID.rawValue, event.type.rawValue, event.objectID, event.createdAt.millisecondsSinceEpoch])
    }

    func addCardholderNotification(_ n: CardholderNotification) throws {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO cardholder_notifications (id, card_account_id, purchase_id, kind, message, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [n.id, n.cardAccountID.rawValue, n.purchaseID?.rawValue, n.kind, n.message, n.createdAt.millisecondsSinceEpoch])
    }

    // MARK: Ledger storage

    static func insertLedgerAccount(_ account: LedgerAccount, db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO ledger_accounts (id, code, flags, debits_pending, debits_posted, credits_pending, credits_posted)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [account.id.rawValue, account.code.rawValue, account.flags.rawValue, account.debitsPending,
                                     account.debitsPosted, account.creditsPending, account.creditsPosted])
    }

    private func insertLedgerAccount(_ account: LedgerAccount) throws {
        try Self.insertLedgerAccount(account, db: db)
    }

    func ensureLedgerAccount(_ account: LedgerAccount) throws {
        if accounts[account.id] != nil { return }
        try insertLedgerAccount(account)
    }

    func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount? {
        if let cached = accounts[id] { return cached }
        let row = try db.fetchFirstRaw("""
            SELECT code, flags, debits_pending, debits_posted, credits_pending, credits_posted FROM ledger_accounts WHERE id = ?
            """, [id.rawValue]) { row -> LedgerAccount in
            guard let code = LedgerAccountCode(rawValue: row.text(0)) else {
                throw StoreError.corruptRecord(table: "ledger_accounts", id: id.rawValue, detail: "code")
            }
            return LedgerAccount(id: id, code: code, flags: LedgerAccountFlags(rawValue: row.int(1)), debitsPending: row.int(2),
                                 debitsPosted: row.int(3), creditsPending: row.int(4), creditsPosted: row.int(5))
        }
        guard let account = row else { return nil }
        accounts[id] = account
        return account
    }

    static let transferColumns = StoreColumns.transfer

    static func transfer(from row: Row) throws -> Transfer {
        let id: String = row[0]
        guard let type = TransferType(rawValue: row[4]), let code = TransferCode(rawValue: row[7]) else {
            throw StoreError.corruptRecord(table: "ledger_transfers", id: id, detail: "type or code")
        }
        return Transfer(id: TransferID(id), debit: LedgerAccountID(row[1] as String), credit: LedgerAccountID(row[2] as String),
                        amount: row[3], type: type, pendingID: (row[5] as String?).map(TransferID.init(rawValue:)),
                        timeoutAt: (row[6] as Int64?).map(Instant.init(millisecondsSinceEpoch:)), code: code,
                        createdAt: Instant(millisecondsSinceEpoch: row[8]))
    }

    func transfer(_ id: TransferID) throws -> Transfer? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.transferColumns) FROM ledger_transfers WHERE id = ?"),
                         arguments: [id.rawValue]).map(Self.transfer(from:))
    }

    func transfers(_ ids: [TransferID]) throws -> [TransferID: Transfer] {
        guard !ids.isEmpty else { return [:] }
        precondition(ids.count <= Ledger.maximumGroupSize, "ledger groups are bounded")
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let rows = try db.fetchRaw("SELECT \(Self.transferColumns) FROM ledger_transfers WHERE id IN (\(placeholders))",
                                   StatementArguments(ids.map(\.rawValue)), limit: ids.count) { row -> Transfer in
            let id = row.text(0)
            guard let type = TransferType(rawValue: row.text(4)), let code = TransferCode(rawValue: row.text(7)) else {
                throw StoreError.corruptRecord(table: "ledger_transfers", id: id, detail: "type or code")
            }
            return Transfer(id: TransferID(id), debit: LedgerAccountID(row.text(1)), credit: LedgerAccountID(row.text(2)),
                            amount: row.int(3), type: type, pendingID: row.optionalText(5).map(TransferID.init(rawValue:)),
                            timeoutAt: row.optionalInt(6).map(Instant.init(millisecondsSinceEpoch:)), code: code,
                            createdAt: Instant(millisecondsSinceEpoch: row.int(8)))
        }
        var found: [TransferID: Transfer] = [:]
        for transfer in rows { found[transfer.id] = transfer }
        return found
    }

    func pendingStatus(_ id: TransferID) throws -> PendingStatus? {
        try (String.fetchOne(db.cachedStatement(sql: "SELECT pending_status FROM ledger_transfers WHERE id = ?"), arguments: [id.rawValue]))
            .flatMap(PendingStatus.init(rawValue:))
    }

    func saveLedgerChanges(accounts changed: [LedgerAccount], transfers: [Transfer], pendingStatuses: [(TransferID, PendingStatus)]) throws {
        for account in changed {
            accounts[account.id] = account
            dirtyAccounts.insert(account.id)
        }
        let insertTransfer = try db.cachedStatement(sql: "INSERT INTO ledger_transfers (\(Self.transferColumns), subject, pending_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        for t in transfers {
            try insertTransfer.execute(arguments: [t.id.rawValue, t.debitAccountID.rawValue, t.creditAccountID.rawValue, t.amount,
                                                   t.type.rawValue, t.pendingID?.rawValue, t.timeoutAt?.millisecondsSinceEpoch,
                                                   t.code.rawValue, t.createdAt.millisecondsSinceEpoch, StoreColumns.subject(of: t.id),
                                                   t.type == .pending ? PendingStatus.pending.rawValue : nil])
        }
        let updatePending = try db.cachedStatement(sql: "UPDATE ledger_transfers SET pending_status = ? WHERE id = ? AND pending_status = 'pending'")
        for (id, status) in pendingStatuses {
            try updatePending.execute(arguments: [status.rawValue, id.rawValue])
            precondition(db.changesCount == 1, "pending transfer \(id) resolved twice")
        }
    }

    // MARK: The funnel

    func incrementFunnel(offer: OfferID, metric: String, by: Int64, at: Instant) throws {
        let minute = at.millisecondsSinceEpoch >= 0 ? at.millisecondsSinceEpoch / 60_000 : (at.millisecondsSinceEpoch - 59_999) / 60_000
        funnel[FunnelKey(offer: offer, metric: metric, minute: minute), default: 0] += by
    }

    func recordAuthor(offer: OfferID, identity: SocialIdentity) throws -> Bool {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO offer_authors (offer_id, network, user_id) VALUES (?, ?, ?)")
            .execute(arguments: [offer.rawValue, identity.network.rawValue, identity.userID])
        return db.changesCount == 1
    }

    func claimInvitation(network: NetworkName, userID: String, now: Instant) throws -> Bool {
        try db.execute(sql: """
            INSERT INTO invitations (network, user_id, last_at) VALUES (?, ?, ?)
            ON CONFLICT (network, user_id) DO UPDATE SET last_at = excluded.last_at WHERE last_at <= excluded.last_at - 86400000
            """, arguments: [network.rawValue, userID, now.millisecondsSinceEpoch])
        return db.changesCount == 1
    }
}
