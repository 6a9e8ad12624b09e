import Foundation
import HashcartCore

/// The engine's view of one PostgreSQL write transaction (``PostgresStore/write(_:)``).
///
/// Like the SQLite transaction, hot rows (ledger accounts, offers, funnel counters) are cached
/// for the life of the transaction and written back once, in ``flush()``, with one statement per
/// table; ledger transfers go in with one statement per group. Every write transaction holds the
/// store's writer lock, so what this transaction read cannot change under it.
final class PostgresTransaction: StoreTransaction {
    let session: PostgresSession
    let cipher: AddressCipher
    let cardCache: CardAccountCache

    private var accounts: [LedgerAccountID: LedgerAccount] = [:]
    private var dirtyAccounts: Set<LedgerAccountID> = []
    private var offers: [OfferID: Offer] = [:]
    private var offerByHashtag: [String: OfferID] = [:]
    private var dirtyOffers: Set<OfferID> = []
    private var funnel: [FunnelKey: Int64] = [:]
    private var cardsToCache: [CardAccount] = []

    struct FunnelKey: Hashable {
        var offer: OfferID
        var metric: String
        var minute: Int64
    }

    init(session: PostgresSession, cipher: AddressCipher, cardCache: CardAccountCache) {
        self.session = session
        self.cipher = cipher
        self.cardCache = cardCache
    }

    /// Writes back every cached change. Called once, just before commit.
    func flush() throws {
        if !dirtyAccounts.isEmpty {
            let changed = dirtyAccounts.sorted().map { accounts[$0]! }
            for account in changed { precondition(account.isWithinBounds, "ledger account \(account.id) out of bounds at commit") }
            let updated = try session.execute("""
                UPDATE ledger_accounts a SET debits_pending = v.dp, debits_posted = v.dq, credits_pending = v.cp, credits_posted = v.cq
                FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS v(id, dp, dq, cp, cq)
                WHERE a.id = v.id
                """, [changed.map(\.id.rawValue), changed.map(\.debitsPending), changed.map(\.debitsPosted),
                      changed.map(\.creditsPending), changed.map(\.creditsPosted)])
            precondition(updated == changed.count, "a ledger account vanished")
        }
        for id in dirtyOffers.sorted() {
            let updated = try session.execute("""
                UPDATE offers SET merchant_id = $1, title = $2, sku = $3, price = $4, currency = $5, tax_category = $6, quantity = $7,
                    per_cardholder_limit = $8, starts_at = $9, ends_at = $10, eligible_states = $11, hashtag = $12, hashtag_key = $13,
                    capture_mode = $14, window_seconds = $15, lifecycle = $16, kill_switch = $17, reserved_units = $18,
                    sold_units = $19, created_at = $20
                WHERE id = $21
                """, PostgresRows.values(of: offers[id]!))
            precondition(updated == 1, "offer \(id) vanished")
        }
        let minutes = funnel.filter { $0.value != 0 }.sorted { ($0.key.offer, $0.key.metric, $0.key.minute) < ($1.key.offer, $1.key.metric, $1.key.minute) }
        if !minutes.isEmpty {
            try session.execute("""
                INSERT INTO funnel_minutes (offer_id, metric, minute, value)
                SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
                ON CONFLICT (offer_id, metric, minute) DO UPDATE SET value = funnel_minutes.value + excluded.value
                """, [minutes.map(\.key.offer.rawValue), minutes.map(\.key.metric), minutes.map(\.key.minute), minutes.map(\.value)])
            var totals: [FunnelKey: Int64] = [:]
            for (key, value) in minutes { totals[FunnelKey(offer: key.offer, metric: key.metric, minute: 0), default: 0] += value }
            let sums = totals.filter { $0.value != 0 }.sorted { ($0.key.offer, $0.key.metric) < ($1.key.offer, $1.key.metric) }
            if !sums.isEmpty {
                try session.execute("""
                    INSERT INTO funnel (offer_id, metric, value)
                    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
                    ON CONFLICT (offer_id, metric) DO UPDATE SET value = funnel.value + excluded.value
                    """, [sums.map(\.key.offer.rawValue), sums.map(\.key.metric), sums.map(\.value)])
            }
        }
        dirtyAccounts = []
        dirtyOffers = []
        funnel = [:]
    }

    /// Shares what this transaction decrypted with later ones; called after it committed.
    func committed() {
        for account in cardsToCache { cardCache.put(account) }
        cardsToCache = []
    }

    // MARK: Idempotency of inputs

    func markEventProcessed(network: NetworkName, eventID: String, at: Instant) throws -> Bool {
        try session.execute("INSERT INTO processed_events (network, event_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                            [network.rawValue, eventID, at.millisecondsSinceEpoch]) == 1
    }

    func isPostDeleted(network: NetworkName, postID: String) throws -> Bool {
        !(try session.query("SELECT 1 FROM deleted_posts WHERE network = $1 AND post_id = $2", [network.rawValue, postID]).isEmpty)
    }

    func recordDeletedPost(network: NetworkName, postID: String, at: Instant) throws {
        try session.execute("INSERT INTO deleted_posts (network, post_id, deleted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                            [network.rawValue, postID, at.millisecondsSinceEpoch])
    }

    func parkEvent(_ event: NetworkEvent, at: Instant) throws {
        guard let postID = event.referencedPostID else { return }
        let data = try JSONEncoder().encode(event)
        try session.execute("INSERT INTO parked_events (network, post_id, event, parked_at) VALUES ($1, $2, $3, $4)",
                            [event.network.rawValue, postID, data, at.millisecondsSinceEpoch])
        try session.execute("DELETE FROM parked_events WHERE id <= (SELECT MAX(id) FROM parked_events) - $1",
                            [Int64(StoreLimits.maximumParkedEvents)])
    }

    func takeParkedEvents(network: NetworkName, postID: String) throws -> [NetworkEvent] {
        let rows = try session.query("DELETE FROM parked_events WHERE network = $1 AND post_id = $2 RETURNING id, event",
                                     [network.rawValue, postID])
        return try rows.map { PostgresRowReader(row: $0, table: "parked_events") }.sorted { try $0.int(0) < $1.int(0) }.map { row in
            do {
                return try JSONDecoder().decode(NetworkEvent.self, from: try row.data(1))
            } catch {
                throw StoreError.corruptRecord(table: "parked_events", id: String(try row.int(0)), detail: "\(error)")
            }
        }
    }

    func cursor(network: NetworkName) throws -> String? {
        try session.query("SELECT cursor FROM cursors WHERE network = $1", [network.rawValue]).first
            .map { try PostgresRowReader(row: $0, table: "cursors").text(0) }
    }

    func setCursor(network: NetworkName, cursor: String) throws {
        try session.execute("INSERT INTO cursors (network, cursor) VALUES ($1, $2) ON CONFLICT (network) DO UPDATE SET cursor = excluded.cursor",
                            [network.rawValue, cursor])
    }

    // MARK: People and offers

    func merchant(_ id: MerchantID) throws -> Merchant? {
        try session.query("SELECT id, name, discount_bps, created_at FROM merchants WHERE id = $1", [id.rawValue]).first.map { raw in
            let row = PostgresRowReader(row: raw, table: "merchants")
            return Merchant(id: id, name: try row.text(1), discountRateBasisPoints: try row.int(2), createdAt: try row.instant(3))
        }
    }

    func insertMerchant(_ merchant: Merchant) throws {
        try session.execute("INSERT INTO merchants (id, name, discount_bps, created_at) VALUES ($1, $2, $3, $4)",
                            [merchant.id.rawValue, merchant.name, merchant.discountRateBasisPoints, merchant.createdAt.millisecondsSinceEpoch])
        try Self.insertLedgerAccount(LedgerAccounts.merchantPayable(merchant.id), session: session)
    }

    func cardAccount(_ id: CardAccountID) throws -> CardAccount? {
        if let cached = cardCache.get(id) { return cached }
        guard let raw = try session.query("SELECT credit_limit, billing_sealed, created_at FROM card_accounts WHERE id = $1", [id.rawValue]).first
        else { return nil }
        let row = PostgresRowReader(row: raw, table: "card_accounts")
        let (billing, last4) = try cipher.openPrivate(try row.data(1), id: id)
        let account = CardAccount(id: id, creditLimit: .usd(try row.int(0)), billing: billing, cardLast4: last4, createdAt: try row.instant(2))
        cardsToCache.append(account)
        return account
    }

    func insertCardAccount(_ account: CardAccount) throws {
        try session.execute("INSERT INTO card_accounts (id, credit_limit, billing_state, billing_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
                            [account.id.rawValue, account.creditLimit.minorUnits, account.billing.state.rawValue,
                             try cipher.sealPrivate(of: account), account.createdAt.millisecondsSinceEpoch])
    }

    func activeLink(network: NetworkName, userID: String) throws -> Link? {
        try session.query("SELECT \(StoreColumns.link) FROM links WHERE network = $1 AND user_id = $2 AND unlinked_at IS NULL",
                          [network.rawValue, userID]).first.map(PostgresRows.link)
    }

    func activeLink(cardAccountID: CardAccountID, network: NetworkName) throws -> Link? {
        try session.query("SELECT \(StoreColumns.link) FROM links WHERE card_account_id = $1 AND network = $2 AND unlinked_at IS NULL",
                          [cardAccountID.rawValue, network.rawValue]).first.map(PostgresRows.link)
    }

    func insertLink(_ link: Link) throws {
        do {
            try session.execute("INSERT INTO links (\(StoreColumns.link)) VALUES (\(PostgresRows.placeholders(7)))",
                                [link.id.rawValue, link.cardAccountID.rawValue, link.identity.network.rawValue, link.identity.userID,
                                 link.identity.handle, link.createdAt.millisecondsSinceEpoch, link.unlinkedAt?.millisecondsSinceEpoch])
        } catch let error as PostgresServerError where error.isUniqueViolation {
            throw StoreError.conflict("this identity or card account is already linked on \(link.identity.network)")
        }
    }

    func endLink(_ id: LinkID, at: Instant) throws {
        try session.execute("UPDATE links SET unlinked_at = $1 WHERE id = $2 AND unlinked_at IS NULL", [at.millisecondsSinceEpoch, id.rawValue])
    }

    func insertLinkCode(_ code: LinkCode) throws {
        try session.execute("INSERT INTO link_codes (code, card_account_id, network, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)",
                            [code.code, code.cardAccountID.rawValue, code.network.rawValue, code.expiresAt.millisecondsSinceEpoch,
                             code.usedAt?.millisecondsSinceEpoch])
    }

    func linkCode(_ code: String) throws -> LinkCode? {
        try session.query("SELECT code, card_account_id, network, expires_at, used_at FROM link_codes WHERE code = $1", [code]).first.map { raw in
            let row = PostgresRowReader(row: raw, table: "link_codes")
            return LinkCode(code: try row.text(0), cardAccountID: CardAccountID(try row.text(1)), network: NetworkName(rawValue: try row.text(2)),
                            expiresAt: try row.instant(3), usedAt: try row.optionalInstant(4))
        }
    }

    func markLinkCodeUsed(_ code: String, at: Instant) throws {
        try session.execute("UPDATE link_codes SET used_at = $1 WHERE code = $2 AND used_at IS NULL", [at.millisecondsSinceEpoch, code])
    }

    private func cache(_ offer: Offer) -> Offer {
        if let cached = offers[offer.id] { return cached }
        offers[offer.id] = offer
        offerByHashtag[offer.hashtag.key] = offer.id
        return offer
    }

    func offer(hashtagKey: String) throws -> Offer? {
        if let id = offerByHashtag[hashtagKey], let cached = offers[id], cached.lifecycle != .ended { return cached }
        return try session.query("SELECT \(StoreColumns.offer) FROM offers WHERE hashtag_key = $1 AND lifecycle != 'ended'", [hashtagKey])
            .first.map { cache(try PostgresRows.offer($0)) }
    }

    func offer(_ id: OfferID) throws -> Offer? {
        if let cached = offers[id] { return cached }
        return try session.query("SELECT \(StoreColumns.offer) FROM offers WHERE id = $1", [id.rawValue]).first
            .map { cache(try PostgresRows.offer($0)) }
    }

    func insertOffer(_ offer: Offer) throws {
        do {
            try session.execute("""
                INSERT INTO offers (merchant_id, title, sku, price, currency, tax_category, quantity, per_cardholder_limit,
                    starts_at, ends_at, eligible_states, hashtag, hashtag_key, capture_mode, window_seconds, lifecycle,
                    kill_switch, reserved_units, sold_units, created_at, id)
                VALUES (\(PostgresRows.placeholders(21)))
                """, PostgresRows.values(of: offer))
        } catch let error as PostgresServerError where error.isUniqueViolation {
            throw StoreError.conflict("hashtag \(offer.hashtag) is already used by an offer that has not ended")
        }
        _ = cache(offer)
    }

    func updateOffer(_ offer: Offer) throws {
        precondition(offer.reservedUnits >= 0 && offer.soldUnits >= 0, "unit counts never go negative")
        if let quantity = offer.quantity {
            precondition(offer.reservedUnits + offer.soldUnits <= quantity, "no offer is ever oversold")
        }
        if let previous = offers[offer.id], previous.hashtag.key != offer.hashtag.key {
            offerByHashtag[previous.hashtag.key] = nil
        }
        offers[offer.id] = offer
        offerByHashtag[offer.hashtag.key] = offer.id
        dirtyOffers.insert(offer.id)
    }

    // MARK: Purchases and orders

    func purchase(_ id: PurchaseID) throws -> Purchase? {
        try session.query("SELECT \(StoreColumns.purchase) FROM purchases WHERE id = $1", [id.rawValue]).first.map(PostgresRows.purchase)
    }

    func purchase(network: NetworkName, confirmationPostID: String) throws -> Purchase? {
        try session.query("SELECT \(StoreColumns.purchase) FROM purchases WHERE network = $1 AND confirmation_post_id = $2",
                          [network.rawValue, confirmationPostID]).first.map(PostgresRows.purchase)
    }

    func insertPurchase(_ p: Purchase) throws {
        try session.execute("""
            INSERT INTO purchases (\(StoreColumns.purchase)) VALUES (\(PostgresRows.placeholders(28)))
            """, [
                p.id.rawValue, p.offerID.rawValue, p.merchantID.rawValue, p.cardAccountID.rawValue, p.identity.network.rawValue,
                p.identity.userID, p.identity.handle, p.purchasePostID, p.reference, p.state.rawValue, p.declineReason?.rawValue,
                p.cancellationReason?.rawValue, p.unitPrice.minorUnits, p.tax.minorUnits, p.total.minorUnits, p.fee.minorUnits,
                p.taxRatePartsPerMillion, p.taxTableVersion, p.billingState.rawValue, p.confirmationWindowSeconds,
                p.requestedAt.millisecondsSinceEpoch, p.expiresAt.millisecondsSinceEpoch, p.confirmationPostID,
                p.confirmedAt?.millisecondsSinceEpoch, p.authorizedAt?.millisecondsSinceEpoch, p.holdExpiresAt?.millisecondsSinceEpoch,
                p.capturedAt?.millisecondsSinceEpoch, p.endedAt?.millisecondsSinceEpoch,
            ])
    }

    func updatePurchase(_ p: Purchase) throws {
        let updated = try session.execute("""
            UPDATE purchases SET state = $1, decline_reason = $2, cancellation_reason = $3, expires_at = $4,
                confirmation_post_id = $5, confirmed_at = $6, authorized_at = $7, hold_expires_at = $8, captured_at = $9, ended_at = $10
            WHERE id = $11
            """, [
                p.state.rawValue, p.declineReason?.rawValue, p.cancellationReason?.rawValue, p.expiresAt.millisecondsSinceEpoch,
                p.confirmationPostID, p.confirmedAt?.millisecondsSinceEpoch, p.authorizedAt?.millisecondsSinceEpoch,
                p.holdExpiresAt?.millisecondsSinceEpoch, p.capturedAt?.millisecondsSinceEpoch, p.endedAt?.millisecondsSinceEpoch,
                p.id.rawValue,
            ])
        precondition(updated == 1, "purchase \(p.id) vanished")
    }

    func isReferenceTaken(_ reference: String) throws -> Bool {
        !(try session.query("SELECT 1 FROM purchases WHERE reference = $1", [reference]).isEmpty)
    }

    func cardUsage(card: CardAccountID, offer: OfferID, now: Instant) throws -> CardUsage {
        let dayStart = now.utcDay * 86_400_000
        let hourAgo = now.millisecondsSinceEpoch - 3_600_000
        // Purchases whose order was cancelled (and refunded) no longer count against the limits.
        let raw = try session.query("""
            SELECT
                COALESCE(SUM(CASE WHEN p.requested_at >= $1 AND p.state IN ('requested','awaiting_confirmation','confirmed','authorized','captured') AND o.id IS NULL THEN p.total END), 0)::bigint,
                COUNT(CASE WHEN p.requested_at >= $2 AND p.state != 'declined' THEN 1 END),
                COUNT(CASE WHEN p.offer_id = $3 AND p.state IN ('requested','awaiting_confirmation','confirmed','authorized','captured') AND o.id IS NULL THEN 1 END)
            FROM purchases p LEFT JOIN orders o ON o.purchase_id = p.id AND o.status = 'cancelled'
            WHERE p.card_account_id = $4
            """, [dayStart, hourAgo, offer.rawValue, card.rawValue])[0]
        let row = PostgresRowReader(row: raw, table: "purchases")
        return CardUsage(spentToday: .usd(try row.int(0)), purchasesLastHour: try row.int(1), purchasesOfOffer: try row.int(2))
    }

    func purchasesDueToExpire(before: Instant, limit: Int) throws -> [Purchase] {
        try session.query("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE state IN ('requested', 'awaiting_confirmation') AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2
            """, [before.millisecondsSinceEpoch, limit]).map(PostgresRows.purchase)
    }

    func purchasesWithLapsedHolds(before: Instant, limit: Int) throws -> [Purchase] {
        try session.query("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE state = 'authorized' AND hold_expires_at <= $1 ORDER BY hold_expires_at, id LIMIT $2
            """, [before.millisecondsSinceEpoch, limit]).map(PostgresRows.purchase)
    }

    func pendingPurchases(cardAccountID: CardAccountID, network: NetworkName) throws -> [Purchase] {
        try session.query("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE card_account_id = $1 AND network = $2 AND state IN ('requested', 'awaiting_confirmation') ORDER BY id LIMIT $3
            """, [cardAccountID.rawValue, network.rawValue, StoreLimits.maximumPendingPurchasesPerCard]).map(PostgresRows.purchase)
    }

    func order(_ id: OrderID) throws -> Order? {
        try session.query("SELECT \(StoreColumns.order) FROM orders WHERE id = $1", [id.rawValue]).first.map(PostgresRows.order)
    }

    func insertOrder(_ o: Order) throws {
        try session.execute("INSERT INTO orders (\(StoreColumns.order)) VALUES (\(PostgresRows.placeholders(21)))", [
            o.id.rawValue, o.purchaseID.rawValue, o.merchantID.rawValue, o.offerID.rawValue, o.cardAccountID.rawValue, o.reference,
            o.unitPrice.minorUnits, o.tax.minorUnits, o.total.minorUnits, o.fee.minorUnits, o.taxRatePartsPerMillion,
            o.taxTableVersion, o.billingState.rawValue, o.status.rawValue, o.capturedAmount.minorUnits,
            o.refundedAmount.minorUnits, o.refundCount, o.carrier, o.tracking, o.createdAt.millisecondsSinceEpoch,
            o.updatedAt.millisecondsSinceEpoch,
        ])
    }

    func updateOrder(_ o: Order) throws {
        let updated = try session.execute("""
            UPDATE orders SET status = $1, captured = $2, refunded = $3, refund_count = $4, carrier = $5, tracking = $6, updated_at = $7
            WHERE id = $8
            """, [o.status.rawValue, o.capturedAmount.minorUnits, o.refundedAmount.minorUnits, o.refundCount, o.carrier, o.tracking,
                  o.updatedAt.millisecondsSinceEpoch, o.id.rawValue])
        precondition(updated == 1, "order \(o.id) vanished")
    }

    // MARK: Effects

    func enqueueOutbound(_ post: OutboundPost) throws {
        try session.execute("""
            INSERT INTO outbound_posts (network, in_reply_to, text, purpose, purchase_id, card_account_id, state,
                attempts, next_attempt_at, last_error, post_id, sent_at, created_at, key)
            VALUES (\(PostgresRows.placeholders(14))) ON CONFLICT DO NOTHING
            """, PostgresRows.values(of: post))
    }

    func outbound(key: String) throws -> OutboundPost? {
        try session.query("SELECT \(StoreColumns.outbound) FROM outbound_posts WHERE key = $1", [key]).first.map(PostgresRows.outbound)
    }

    func updateOutbound(_ post: OutboundPost) throws {
        try session.execute("""
            UPDATE outbound_posts SET network = $1, in_reply_to = $2, text = $3, purpose = $4, purchase_id = $5, card_account_id = $6,
                state = $7, attempts = $8, next_attempt_at = $9, last_error = $10, post_id = $11, sent_at = $12, created_at = $13
            WHERE key = $14
            """, PostgresRows.values(of: post))
    }

    func addMerchantEvent(_ event: MerchantEvent) throws {
        try session.execute("""
            INSERT INTO merchant_events (id, merchant_id, type, object_id, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
            """, [event.id, event.merchantID.rawValue, event.type.rawValue, event.objectID, event.createdAt.millisecondsSinceEpoch])
    }

    func addCardholderNotification(_ n: CardholderNotification) throws {
        try session.execute("""
            INSERT INTO cardholder_notifications (id, card_account_id, purchase_id, kind, message, created_at)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
            """, [n.id, n.cardAccountID.rawValue, n.purchaseID?.rawValue, n.kind, n.message, n.createdAt.millisecondsSinceEpoch])
    }

    // MARK: Ledger storage

    static func insertLedgerAccount(_ account: LedgerAccount, session: PostgresSession) throws {
        try session.execute("""
            INSERT INTO ledger_accounts (\(PostgresRows.ledgerAccountColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
            """, [account.id.rawValue, account.code.rawValue, account.flags.rawValue, account.debitsPending, account.debitsPosted,
                  account.creditsPending, account.creditsPosted])
    }

    func ensureLedgerAccount(_ account: LedgerAccount) throws {
        if accounts[account.id] != nil { return }
        try Self.insertLedgerAccount(account, session: session)
    }

    func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount? {
        if let cached = accounts[id] { return cached }
        guard let raw = try session.query("SELECT \(PostgresRows.ledgerAccountColumns) FROM ledger_accounts WHERE id = $1", [id.rawValue]).first
        else { return nil }
        let account = try PostgresRows.ledgerAccount(raw)
        accounts[id] = account
        return account
    }

    func transfer(_ id: TransferID) throws -> Transfer? {
        try session.query("SELECT \(StoreColumns.transfer) FROM ledger_transfers WHERE id = $1", [id.rawValue]).first.map(PostgresRows.transfer)
    }

    func transfers(_ ids: [TransferID]) throws -> [TransferID: Transfer] {
        guard !ids.isEmpty else { return [:] }
        precondition(ids.count <= Ledger.maximumGroupSize, "ledger groups are bounded")
        var found: [TransferID: Transfer] = [:]
        for raw in try session.query("SELECT \(StoreColumns.transfer) FROM ledger_transfers WHERE id = ANY($1::text[])", [ids.map(\.rawValue)]) {
            let transfer = try PostgresRows.transfer(raw)
            found[transfer.id] = transfer
        }
        return found
    }

    func pendingStatus(_ id: TransferID) throws -> PendingStatus? {
        try session.query("SELECT pending_status FROM ledger_transfers WHERE id = $1", [id.rawValue]).first
            .flatMap { try PostgresRowReader(row: $0, table: "ledger_transfers").optionalText(0) }
            .flatMap(PendingStatus.init(rawValue:))
    }

    func saveLedgerChanges(accounts changed: [LedgerAccount], transfers: [Transfer], pendingStatuses: [(TransferID, PendingStatus)]) throws {
        for account in changed {
            accounts[account.id] = account
            dirtyAccounts.insert(account.id)
        }
        if !transfers.isEmpty {
            let null = PostgresNullMarker.self
            try session.execute("""
                INSERT INTO ledger_transfers (\(StoreColumns.transfer), subject, pending_status)
                SELECT id, debit, credit, amount, type, \(null.column("pending_id")), NULLIF(timeout_at, -1), code, created_at, subject,
                    \(null.column("pending_status"))
                FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::text[],
                            $9::bigint[], $10::text[], $11::text[])
                    AS t(id, debit, credit, amount, type, pending_id, timeout_at, code, created_at, subject, pending_status)
                """, [
                    transfers.map(\.id.rawValue), transfers.map(\.debitAccountID.rawValue), transfers.map(\.creditAccountID.rawValue),
                    transfers.map(\.amount), transfers.map(\.type.rawValue), transfers.map { $0.pendingID?.rawValue },
                    transfers.map { $0.timeoutAt?.millisecondsSinceEpoch ?? -1 }, transfers.map(\.code.rawValue),
                    transfers.map(\.createdAt.millisecondsSinceEpoch), transfers.map { SQLiteTransaction.subject(of: $0.id) },
                    transfers.map { $0.type == .pending ? PendingStatus.pending.rawValue : nil },
                ])
        }
        for (id, status) in pendingStatuses {
            let updated = try session.execute("UPDATE ledger_transfers SET pending_status = $1 WHERE id = $2 AND pending_status = 'pending'",
                                              [status.rawValue, id.rawValue])
            precondition(updated == 1, "pending transfer \(id) resolved twice")
        }
    }

    // MARK: The funnel

    func incrementFunnel(offer: OfferID, metric: String, by: Int64, at: Instant) throws {
        let minute = at.millisecondsSinceEpoch >= 0 ? at.millisecondsSinceEpoch / 60_000 : (at.millisecondsSinceEpoch - 59_999) / 60_000
        funnel[FunnelKey(offer: offer, metric: metric, minute: minute), default: 0] += by
    }

    func recordAuthor(offer: OfferID, identity: SocialIdentity) throws -> Bool {
        try session.execute("INSERT INTO offer_authors (offer_id, network, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                            [offer.rawValue, identity.network.rawValue, identity.userID]) == 1
    }

    func claimInvitation(network: NetworkName, userID: String, now: Instant) throws -> Bool {
        try session.execute("""
            INSERT INTO invitations (network, user_id, last_at) VALUES ($1, $2, $3)
            ON CONFLICT (network, user_id) DO UPDATE SET last_at = excluded.last_at WHERE invitations.last_at <= excluded.last_at - 86400000
            """, [network.rawValue, userID, now.millisecondsSinceEpoch]) == 1
    }
}
