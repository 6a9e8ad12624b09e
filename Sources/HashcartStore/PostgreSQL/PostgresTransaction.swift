import Foundation
import HashcartCore
import PostgresNIO

/// The engine's view of one PostgreSQL write transaction (``PostgresStore/write(_:)``).
///
/// Every statement is a network round trip, so the transaction works on a *working set*: what a
/// batch of events will read is fetched ahead in a few queries (``prefetch(_:)``), every row read
/// or written is kept in memory for the life of the transaction, and writes are buffered and sent
/// once, in ``flush()``, as one bulk statement per table (`unnest` of arrays). A thousand
/// purchases cost a few dozen statements, not tens of thousands.
///
/// This is sound because every write transaction holds the store's writer lock: nothing another
/// instance does can change a row between our read and our commit, so what is in memory is the
/// truth plus our own changes. A read that the working set cannot answer goes to the database;
/// a query that could see buffered rows (aggregates, lists) first flushes the buffers it touches.
final class PostgresTransaction: StoreTransaction {
    let session: PostgresSession
    let cipher: AddressCipher
    let cardCache: CardAccountCache

    // Purchases: every one read or written here, by id and by confirmation post.
    private var purchases: [PurchaseID: Purchase] = [:]
    private var purchaseByConfirmation: [String: PurchaseID] = [:]
    private var missingPurchases: Set<PurchaseID> = []
    private var missingConfirmations: Set<String> = []
    private var insertedPurchases: [PurchaseID] = []
    private var updatedPurchases: Set<PurchaseID> = []
    private var takenReferences: Set<String> = []
    private var freeReferences: Set<String> = []
    // Orders.
    private var orders: [OrderID: Order] = [:]
    private var insertedOrders: [OrderID] = []
    private var updatedOrders: Set<OrderID> = []
    // Processed events and deleted posts (keys known present or absent).
    private var processedEvents: Set<String> = []
    private var unprocessedEvents: Set<String> = []
    private var newProcessedEvents: [(String, Int64)] = []
    /// Deleted posts of the batch's network, with when the network deleted them.
    private var deletedPosts: [String: Instant] = [:]
    private var undeletedPosts: Set<String> = []
    // Links by author (nil: known to have none).
    private var linksByUser: [String: Link?] = [:]
    // Ledger transfers and pending statuses written here.
    private var newTransfers: [Transfer] = []
    private var newTransferIndex: [TransferID: Int] = [:]
    private var newPendingStatuses: [(TransferID, PendingStatus)] = []
    private var pendingStatusChanges: [TransferID: PendingStatus] = [:]
    // Effects.
    private var newOutbound: [OutboundPost] = []
    private var changedOutbound: [String: OutboundPost] = [:]
    private var changedOutboundOrder: [String] = []
    private var newMerchantEvents: [MerchantEvent] = []
    private var newNotifications: [CardholderNotification] = []
    private var network: NetworkName = .sandbox
    /// Cards with purchases or orders still in the buffers.
    private var bufferedCards: Set<CardAccountID> = []
    /// Cards known to have no purchase at all (their usage is zero).
    private var cardsWithoutPurchases: Set<CardAccountID> = []
    /// Merchants read here (they are never updated in place).
    private var merchants: [MerchantID: Merchant] = [:]
    /// (offer, user) pairs known to be recorded authors, and users whose authorship is all known.
    private var authorships: Set<String> = []
    private var authorsKnown: Set<String> = []
    private var newAuthors: [(OfferID, String)] = []

    private var accounts: [LedgerAccountID: LedgerAccount] = [:]
    private var dirtyAccounts: Set<LedgerAccountID> = []
    private var offers = OfferCache()
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

    /// Writes back every buffered change. Called once, just before commit.
    func flush() throws {
        try flushProcessedEvents()
        try flushPurchasesAndOrders()
        try flushLedger()
        try flushOutbound()
        try flushEvents()
        try flushHotRows()
    }

    private func flushHotRows() throws {
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
        for id in offers.dirty.sorted() {
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
        offers.written()
        funnel = [:]
    }

    // MARK: Buffers

    /// Text arrays carry NULL as ``PostgresNullMarker``; integers travel as text for the same reason.
    private static func text(_ value: Int64?) -> String? { value.map(String.init) }

    private func flushProcessedEvents() throws {
        guard !newProcessedEvents.isEmpty else { return }
        let inserted = try session.execute("""
            INSERT INTO processed_events (network, event_id, processed_at)
            SELECT $1, * FROM unnest($2::text[], $3::bigint[]) ON CONFLICT DO NOTHING
            """, [network.rawValue, newProcessedEvents.map(\.0), newProcessedEvents.map(\.1)])
        precondition(inserted == newProcessedEvents.count, "an event marked new was already processed (the writer lock was not held)")
        newProcessedEvents = []
    }

    private func flushPurchasesAndOrders() throws {
        let null = PostgresNullMarker.column
        if !insertedPurchases.isEmpty {
            let rows = insertedPurchases.map { purchases[$0]! }
            try session.execute("""
                INSERT INTO purchases (\(StoreColumns.purchase))
                SELECT id, offer_id, merchant_id, card_account_id, network, user_id, handle, post_id, reference, state,
                    \(null("decline_reason")), \(null("cancellation_reason")), unit_price, tax, total, fee, tax_rate_ppm, tax_version,
                    billing_state, window_seconds, requested_at, expires_at, \(null("confirmation_post_id")),
                    \(null("confirmed_at"))::bigint, \(null("authorized_at"))::bigint, \(null("hold_expires_at"))::bigint,
                    \(null("captured_at"))::bigint, \(null("ended_at"))::bigint
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                            $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[],
                            $18::text[], $19::text[], $20::bigint[], $21::bigint[], $22::bigint[], $23::text[], $24::text[], $25::text[],
                            $26::text[], $27::text[], $28::text[])
                    AS p(id, offer_id, merchant_id, card_account_id, network, user_id, handle, post_id, reference, state, decline_reason,
                         cancellation_reason, unit_price, tax, total, fee, tax_rate_ppm, tax_version, billing_state, window_seconds,
                         requested_at, expires_at, confirmation_post_id, confirmed_at, authorized_at, hold_expires_at, captured_at, ended_at)
                """, [
                    rows.map(\.id.rawValue), rows.map(\.offerID.rawValue), rows.map(\.merchantID.rawValue), rows.map(\.cardAccountID.rawValue),
                    rows.map(\.identity.network.rawValue), rows.map(\.identity.userID), rows.map(\.identity.handle), rows.map(\.purchasePostID),
                    rows.map(\.reference), rows.map(\.state.rawValue), rows.map { $0.declineReason?.rawValue },
                    rows.map { $0.cancellationReason?.rawValue }, rows.map(\.unitPrice.minorUnits), rows.map(\.tax.minorUnits),
                    rows.map(\.total.minorUnits), rows.map(\.fee.minorUnits), rows.map(\.taxRatePartsPerMillion), rows.map(\.taxTableVersion),
                    rows.map(\.billingState.rawValue), rows.map(\.confirmationWindowSeconds), rows.map(\.requestedAt.millisecondsSinceEpoch),
                    rows.map(\.expiresAt.millisecondsSinceEpoch), rows.map(\.confirmationPostID),
                    rows.map { Self.text($0.confirmedAt?.millisecondsSinceEpoch) }, rows.map { Self.text($0.authorizedAt?.millisecondsSinceEpoch) },
                    rows.map { Self.text($0.holdExpiresAt?.millisecondsSinceEpoch) }, rows.map { Self.text($0.capturedAt?.millisecondsSinceEpoch) },
                    rows.map { Self.text($0.endedAt?.millisecondsSinceEpoch) },
                ])
            for id in insertedPurchases { updatedPurchases.remove(id) }
            insertedPurchases = []
        }
        if !updatedPurchases.isEmpty {
            let rows = updatedPurchases.sorted().map { purchases[$0]! }
            let updated = try session.execute("""
                UPDATE purchases p SET state = v.state, decline_reason = \(null("v.decline_reason")),
                    cancellation_reason = \(null("v.cancellation_reason")), expires_at = v.expires_at,
                    confirmation_post_id = \(null("v.confirmation_post_id")), confirmed_at = \(null("v.confirmed_at"))::bigint,
                    authorized_at = \(null("v.authorized_at"))::bigint, hold_expires_at = \(null("v.hold_expires_at"))::bigint,
                    captured_at = \(null("v.captured_at"))::bigint, ended_at = \(null("v.ended_at"))::bigint
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[],
                            $10::text[], $11::text[])
                    AS v(id, state, decline_reason, cancellation_reason, expires_at, confirmation_post_id, confirmed_at, authorized_at,
                         hold_expires_at, captured_at, ended_at)
                WHERE p.id = v.id
                """, [
                    rows.map(\.id.rawValue), rows.map(\.state.rawValue), rows.map { $0.declineReason?.rawValue },
                    rows.map { $0.cancellationReason?.rawValue }, rows.map(\.expiresAt.millisecondsSinceEpoch), rows.map(\.confirmationPostID),
                    rows.map { Self.text($0.confirmedAt?.millisecondsSinceEpoch) }, rows.map { Self.text($0.authorizedAt?.millisecondsSinceEpoch) },
                    rows.map { Self.text($0.holdExpiresAt?.millisecondsSinceEpoch) }, rows.map { Self.text($0.capturedAt?.millisecondsSinceEpoch) },
                    rows.map { Self.text($0.endedAt?.millisecondsSinceEpoch) },
                ])
            precondition(updated == rows.count, "a purchase vanished")
            updatedPurchases = []
        }
        if !insertedOrders.isEmpty {
            let rows = insertedOrders.map { orders[$0]! }
            try session.execute("""
                INSERT INTO orders (\(StoreColumns.order))
                SELECT id, purchase_id, merchant_id, offer_id, card_account_id, reference, unit_price, tax, total, fee, tax_rate_ppm,
                    tax_version, billing_state, status, captured, refunded, refund_count, \(null("carrier")), \(null("tracking")),
                    created_at, updated_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[],
                            $10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::text[], $15::bigint[], $16::bigint[], $17::bigint[],
                            $18::text[], $19::text[], $20::bigint[], $21::bigint[])
                    AS o(id, purchase_id, merchant_id, offer_id, card_account_id, reference, unit_price, tax, total, fee, tax_rate_ppm,
                         tax_version, billing_state, status, captured, refunded, refund_count, carrier, tracking, created_at, updated_at)
                """, [
                    rows.map(\.id.rawValue), rows.map(\.purchaseID.rawValue), rows.map(\.merchantID.rawValue), rows.map(\.offerID.rawValue),
                    rows.map(\.cardAccountID.rawValue), rows.map(\.reference), rows.map(\.unitPrice.minorUnits), rows.map(\.tax.minorUnits),
                    rows.map(\.total.minorUnits), rows.map(\.fee.minorUnits), rows.map(\.taxRatePartsPerMillion), rows.map(\.taxTableVersion),
                    rows.map(\.billingState.rawValue), rows.map(\.status.rawValue), rows.map(\.capturedAmount.minorUnits),
                    rows.map(\.refundedAmount.minorUnits), rows.map(\.refundCount), rows.map(\.carrier), rows.map(\.tracking),
                    rows.map(\.createdAt.millisecondsSinceEpoch), rows.map(\.updatedAt.millisecondsSinceEpoch),
                ])
            for id in insertedOrders { updatedOrders.remove(id) }
            insertedOrders = []
        }
        if !updatedOrders.isEmpty {
            let rows = updatedOrders.sorted().map { orders[$0]! }
            let updated = try session.execute("""
                UPDATE orders o SET status = v.status, captured = v.captured, refunded = v.refunded, refund_count = v.refund_count,
                    carrier = \(null("v.carrier")), tracking = \(null("v.tracking")), updated_at = v.updated_at
                FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::bigint[])
                    AS v(id, status, captured, refunded, refund_count, carrier, tracking, updated_at)
                WHERE o.id = v.id
                """, [
                    rows.map(\.id.rawValue), rows.map(\.status.rawValue), rows.map(\.capturedAmount.minorUnits),
                    rows.map(\.refundedAmount.minorUnits), rows.map(\.refundCount), rows.map(\.carrier), rows.map(\.tracking),
                    rows.map(\.updatedAt.millisecondsSinceEpoch),
                ])
            precondition(updated == rows.count, "an order vanished")
            updatedOrders = []
        }
        bufferedCards = []
    }

    private func flushLedger() throws {
        if !newTransfers.isEmpty {
            let transfers = newTransfers
            let null = PostgresNullMarker.column
            try session.execute("""
                INSERT INTO ledger_transfers (\(StoreColumns.transfer), subject, pending_status)
                SELECT id, debit, credit, amount, type, \(null("pending_id")), \(null("timeout_at"))::bigint, code, created_at, subject,
                    \(null("pending_status"))
                FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
                            $9::bigint[], $10::text[], $11::text[])
                    AS t(id, debit, credit, amount, type, pending_id, timeout_at, code, created_at, subject, pending_status)
                """, [
                    transfers.map(\.id.rawValue), transfers.map(\.debitAccountID.rawValue), transfers.map(\.creditAccountID.rawValue),
                    transfers.map(\.amount), transfers.map(\.type.rawValue), transfers.map { $0.pendingID?.rawValue },
                    transfers.map { Self.text($0.timeoutAt?.millisecondsSinceEpoch) }, transfers.map(\.code.rawValue),
                    transfers.map(\.createdAt.millisecondsSinceEpoch), transfers.map { StoreColumns.subject(of: $0.id) },
                    transfers.map { $0.type == .pending ? (pendingStatusChanges[$0.id] ?? .pending).rawValue : nil },
                ])
            // Statuses of transfers inserted just now went in with them.
            newPendingStatuses.removeAll { newTransferIndex[$0.0] != nil }
            newTransfers = []
            newTransferIndex = [:]
        }
        if !newPendingStatuses.isEmpty {
            let statuses = newPendingStatuses
            let updated = try session.execute("""
                UPDATE ledger_transfers t SET pending_status = v.status
                FROM unnest($1::text[], $2::text[]) AS v(id, status)
                WHERE t.id = v.id AND t.pending_status = 'pending'
                """, [statuses.map(\.0.rawValue), statuses.map(\.1.rawValue)])
            precondition(updated == statuses.count, "a pending transfer was resolved twice")
            newPendingStatuses = []
        }
    }

    private func flushOutbound() throws {
        let null = PostgresNullMarker.column
        if !newOutbound.isEmpty {
            let posts = newOutbound
            try session.execute("""
                INSERT INTO outbound_posts (\(StoreColumns.outbound))
                SELECT key, network, in_reply_to, text, purpose, \(null("purchase_id")), \(null("card_account_id")), state, attempts,
                    next_attempt_at, \(null("last_error")), \(null("post_id")), \(null("sent_at"))::bigint, created_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                            $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::bigint[]) WITH ORDINALITY
                    AS o(key, network, in_reply_to, text, purpose, purchase_id, card_account_id, state, attempts, next_attempt_at,
                         last_error, post_id, sent_at, created_at, position)
                ORDER BY position
                ON CONFLICT DO NOTHING
                """, [
                    posts.map(\.key), posts.map(\.network.rawValue), posts.map(\.inReplyTo), posts.map(\.text), posts.map(\.purpose.rawValue),
                    posts.map { $0.purchaseID?.rawValue }, posts.map { $0.cardAccountID?.rawValue }, posts.map(\.state.rawValue),
                    posts.map(\.attempts), posts.map(\.nextAttemptAt.millisecondsSinceEpoch), posts.map(\.lastError), posts.map(\.postID),
                    posts.map { Self.text($0.sentAt?.millisecondsSinceEpoch) }, posts.map(\.createdAt.millisecondsSinceEpoch),
                ])
            newOutbound = []
        }
        if !changedOutbound.isEmpty {
            let posts = changedOutboundOrder.map { changedOutbound[$0]! }
            try session.execute("""
                UPDATE outbound_posts o SET state = v.state, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
                    last_error = \(null("v.last_error")), post_id = \(null("v.post_id")), sent_at = \(null("v.sent_at"))::bigint,
                    text = v.text
                FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[])
                    AS v(key, state, attempts, next_attempt_at, last_error, post_id, sent_at, text)
                WHERE o.key = v.key
                """, [
                    posts.map(\.key), posts.map(\.state.rawValue), posts.map(\.attempts), posts.map(\.nextAttemptAt.millisecondsSinceEpoch),
                    posts.map(\.lastError), posts.map(\.postID), posts.map { Self.text($0.sentAt?.millisecondsSinceEpoch) }, posts.map(\.text),
                ])
            changedOutbound = [:]
            changedOutboundOrder = []
        }
    }

    private func flushEvents() throws {
        if !newAuthors.isEmpty {
            let inserted = try session.execute("""
                INSERT INTO offer_authors (offer_id, network, user_id)
                SELECT offer_id, $1, user_id FROM unnest($2::text[], $3::text[]) AS a(offer_id, user_id) ON CONFLICT DO NOTHING
                """, [network.rawValue, newAuthors.map(\.0.rawValue), newAuthors.map(\.1)])
            precondition(inserted == newAuthors.count, "an author recorded as new was already recorded (the writer lock was not held)")
            newAuthors = []
        }
        if !newMerchantEvents.isEmpty {
            let events = newMerchantEvents
            // In the order they happened: their sequence numbers order webhook deliveries.
            try session.execute("""
                INSERT INTO merchant_events (id, merchant_id, type, object_id, created_at)
                SELECT id, merchant_id, type, object_id, created_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY
                    AS e(id, merchant_id, type, object_id, created_at, position)
                ORDER BY position
                ON CONFLICT DO NOTHING
                """, [events.map(\.id), events.map(\.merchantID.rawValue), events.map(\.type.rawValue), events.map(\.objectID),
                      events.map(\.createdAt.millisecondsSinceEpoch)])
            newMerchantEvents = []
        }
        if !newNotifications.isEmpty {
            let notifications = newNotifications
            try session.execute("""
                INSERT INTO cardholder_notifications (id, card_account_id, purchase_id, kind, message, created_at)
                SELECT id, card_account_id, \(PostgresNullMarker.column("purchase_id")), kind, message, created_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                    AS n(id, card_account_id, purchase_id, kind, message, created_at)
                ON CONFLICT DO NOTHING
                """, [notifications.map(\.id), notifications.map(\.cardAccountID.rawValue), notifications.map { $0.purchaseID?.rawValue },
                      notifications.map(\.kind), notifications.map(\.message), notifications.map(\.createdAt.millisecondsSinceEpoch)])
            newNotifications = []
        }
    }

    // MARK: Prefetch

    func prefetch(_ keys: BatchKeys) throws {
        network = keys.network
        let eventIDs = Array(Set(keys.eventIDs).subtracting(processedEvents).subtracting(unprocessedEvents))
        if !eventIDs.isEmpty {
            let found = try session.query("SELECT event_id FROM processed_events WHERE network = $1 AND event_id = ANY($2::text[])",
                                          [keys.network.rawValue, eventIDs]).map { try PostgresRowReader(row: $0, table: "processed_events").text(0) }
            processedEvents.formUnion(found)
            unprocessedEvents.formUnion(Set(eventIDs).subtracting(found))
            try prefetchDeletedPosts(eventIDs)
        }
        let purchaseIDs = Array(Set(keys.purchaseIDs).filter { purchases[$0] == nil && !missingPurchases.contains($0) })
        let referenced = Array(Set(keys.referencedPostIDs.map { keys.network.rawValue + "|" + $0 })
            .filter { purchaseByConfirmation[$0] == nil && !missingConfirmations.contains($0) })
            .map { String($0.dropFirst(keys.network.rawValue.count + 1)) }
        if !purchaseIDs.isEmpty || !referenced.isEmpty {
            // Two index lookups (an OR of the two would scan the table).
            let rows = try session.query("""
                SELECT \(StoreColumns.purchase) FROM purchases WHERE id = ANY($1::text[])
                UNION ALL
                SELECT \(StoreColumns.purchase) FROM purchases WHERE network = $2 AND confirmation_post_id = ANY($3::text[])
                """, [purchaseIDs.map(\.rawValue), keys.network.rawValue, referenced])
            for row in rows { _ = remember(try PostgresRows.purchase(row)) }
            for id in purchaseIDs where purchases[id] == nil { missingPurchases.insert(id) }
            for post in referenced where purchaseByConfirmation[keys.network.rawValue + "|" + post] == nil {
                missingConfirmations.insert(keys.network.rawValue + "|" + post)
            }
            // A confirmation checks whether its purchase post was deleted before it.
            let waiting = rows.isEmpty ? [] : purchases.values.filter { $0.state.holdsReservation }.map(\.purchasePostID)
            try prefetchDeletedPosts(waiting)
        }
        let references = Array(Set(keys.references).subtracting(takenReferences).subtracting(freeReferences))
        if !references.isEmpty {
            let taken = try session.query("SELECT reference FROM purchases WHERE reference = ANY($1::text[])", [references])
                .map { try PostgresRowReader(row: $0, table: "purchases").text(0) }
            takenReferences.formUnion(taken)
            freeReferences.formUnion(Set(references).subtracting(taken))
        }
        let authors = Array(Set(keys.authorUserIDs).filter { linksByUser[$0] == nil })
        if !authors.isEmpty {
            let links = try session.query("""
                SELECT \(StoreColumns.link) FROM links WHERE network = $1 AND user_id = ANY($2::text[]) AND unlinked_at IS NULL
                """, [keys.network.rawValue, authors]).map(PostgresRows.link)
            for author in authors { linksByUser[author] = .some(nil) }
            for link in links { linksByUser[link.identity.userID] = .some(link) }
        }
        let unknownAuthors = Array(Set(keys.authorUserIDs).subtracting(authorsKnown))
        if !unknownAuthors.isEmpty {
            for raw in try session.query("SELECT offer_id, user_id FROM offer_authors WHERE network = $1 AND user_id = ANY($2::text[])",
                                         [keys.network.rawValue, unknownAuthors]) {
                let row = PostgresRowReader(row: raw, table: "offer_authors")
                authorships.insert(try row.text(0) + "|" + (try row.text(1)))
            }
            authorsKnown.formUnion(unknownAuthors)
        }
        // The card accounts and credit lines those purchases and links will need.
        var cards = Set(purchases.values.map(\.cardAccountID))
        for case let link? in linksByUser.values { cards.insert(link.cardAccountID) }
        let fetched = Set(cardsToCache.map(\.id))
        let uncached = cards.filter { cardCache.get($0) == nil && !fetched.contains($0) }
        if !uncached.isEmpty {
            for raw in try session.query("SELECT id, credit_limit, billing_sealed, created_at FROM card_accounts WHERE id = ANY($1::text[])",
                                         [uncached.map(\.rawValue)]) {
                cardsToCache.append(try Self.cardAccount(raw, cipher: cipher))
            }
        }
        let linkedCards = Set(linksByUser.values.compactMap { $0?.cardAccountID }).subtracting(cardsWithoutPurchases)
            .subtracting(purchases.values.map(\.cardAccountID))
        if !linkedCards.isEmpty {
            let buying = Set(try session.query("SELECT DISTINCT card_account_id FROM purchases WHERE card_account_id = ANY($1::text[])",
                                               [linkedCards.map(\.rawValue)]).map { CardAccountID(try PostgresRowReader(row: $0, table: "purchases").text(0)) })
            cardsWithoutPurchases.formUnion(linkedCards.subtracting(buying))
        }
        let lines = cards.map { LedgerAccounts.creditLine($0).id }.filter { accounts[$0] == nil }
        if !lines.isEmpty {
            for raw in try session.query("SELECT \(PostgresRows.ledgerAccountColumns) FROM ledger_accounts WHERE id = ANY($1::text[])",
                                         [lines.map(\.rawValue)]) {
                let account = try PostgresRows.ledgerAccount(raw)
                accounts[account.id] = account
            }
        }
    }

    static func cardAccount(_ raw: PostgresRandomAccessRow, cipher: AddressCipher) throws -> CardAccount {
        let row = PostgresRowReader(row: raw, table: "card_accounts")
        let id = CardAccountID(try row.text(0))
        let (billing, last4) = try cipher.openPrivate(try row.data(2), id: id)
        return CardAccount(id: id, creditLimit: .usd(try row.int(1)), billing: billing, cardLast4: last4, createdAt: try row.instant(3))
    }

    /// Keeps a purchase read from the database, unless this transaction already holds a newer one.
    private func remember(_ purchase: Purchase) -> Purchase {
        if let held = purchases[purchase.id] { return held }
        purchases[purchase.id] = purchase
        if let post = purchase.confirmationPostID { purchaseByConfirmation[purchase.identity.network.rawValue + "|" + post] = purchase.id }
        return purchase
    }

    /// Shares what this transaction decrypted with later ones; called after it committed.
    func committed() {
        for account in cardsToCache { cardCache.put(account) }
        cardsToCache = []
    }

    // MARK: Idempotency of inputs

    func markEventProcessed(network: NetworkName, eventID: String, at: Instant) throws -> Bool {
        if network == self.network {
            if processedEvents.contains(eventID) { return false }
            if unprocessedEvents.contains(eventID) {
                unprocessedEvents.remove(eventID)
                processedEvents.insert(eventID)
                newProcessedEvents.append((eventID, at.millisecondsSinceEpoch))
                return true
            }
        }
        return try session.execute("INSERT INTO processed_events (network, event_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                   [network.rawValue, eventID, at.millisecondsSinceEpoch]) == 1
    }

    /// Reads which of `postIDs` (of the batch's network) were deleted, for the ones not known yet.
    private func prefetchDeletedPosts(_ postIDs: [String]) throws {
        let unknown = Array(Set(postIDs).filter { deletedPosts[$0] == nil && !undeletedPosts.contains($0) })
        guard !unknown.isEmpty else { return }
        for raw in try session.query("SELECT post_id, deleted_at FROM deleted_posts WHERE network = $1 AND post_id = ANY($2::text[])",
                                     [network.rawValue, unknown]) {
            let row = PostgresRowReader(row: raw, table: "deleted_posts")
            deletedPosts[try row.text(0)] = Instant(millisecondsSinceEpoch: try row.int(1))
        }
        undeletedPosts.formUnion(unknown.filter { deletedPosts[$0] == nil })
    }

    func postDeletedAt(network: NetworkName, postID: String) throws -> Instant? {
        if network == self.network {
            if let at = deletedPosts[postID] { return at }
            if undeletedPosts.contains(postID) { return nil }
        }
        return try session.query("SELECT deleted_at FROM deleted_posts WHERE network = $1 AND post_id = $2", [network.rawValue, postID])
            .first.map { Instant(millisecondsSinceEpoch: try PostgresRowReader(row: $0, table: "deleted_posts").int(0)) }
    }

    func recordDeletedPost(network: NetworkName, postID: String, at: Instant) throws {
        let inserted = try session.execute("INSERT INTO deleted_posts (network, post_id, deleted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                           [network.rawValue, postID, at.millisecondsSinceEpoch]) == 1
        if network == self.network {
            undeletedPosts.remove(postID)
            // The first record stands: when it was already there, read it back when asked.
            if inserted { deletedPosts[postID] = at } else { deletedPosts[postID] = nil }
        }
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
        if let known = merchants[id] { return known }
        let merchant = try session.query("SELECT id, name, discount_bps, created_at FROM merchants WHERE id = $1", [id.rawValue]).first.map { raw in
            let row = PostgresRowReader(row: raw, table: "merchants")
            return Merchant(id: id, name: try row.text(1), discountRateBasisPoints: try row.int(2), createdAt: try row.instant(3))
        }
        merchants[id] = merchant
        return merchant
    }

    func insertMerchant(_ merchant: Merchant) throws {
        try session.execute("INSERT INTO merchants (id, name, discount_bps, created_at) VALUES ($1, $2, $3, $4)",
                            [merchant.id.rawValue, merchant.name, merchant.discountRateBasisPoints, merchant.createdAt.millisecondsSinceEpoch])
        try Self.insertLedgerAccount(LedgerAccounts.merchantPayable(merchant.id), session: session)
    }

    func cardAccount(_ id: CardAccountID) throws -> CardAccount? {
        if let cached = cardCache.get(id) { return cached }
        if let fetched = cardsToCache.last(where: { $0.id == id }) { return fetched }
        guard let raw = try session.query("SELECT id, credit_limit, billing_sealed, created_at FROM card_accounts WHERE id = $1", [id.rawValue]).first
        else { return nil }
        let account = try Self.cardAccount(raw, cipher: cipher)
        cardsToCache.append(account)
        return account
    }

    func insertCardAccount(_ account: CardAccount) throws {
        try session.execute("INSERT INTO card_accounts (id, credit_limit, billing_state, billing_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
                            [account.id.rawValue, account.creditLimit.minorUnits, account.billing.state.rawValue,
                             try cipher.sealPrivate(of: account), account.createdAt.millisecondsSinceEpoch])
    }

    func activeLink(network: NetworkName, userID: String) throws -> Link? {
        if network == self.network, let known = linksByUser[userID] { return known }
        return try session.query("SELECT \(StoreColumns.link) FROM links WHERE network = $1 AND user_id = $2 AND unlinked_at IS NULL",
                                 [network.rawValue, userID]).first.map(PostgresRows.link)
    }

    func activeLink(cardAccountID: CardAccountID, network: NetworkName) throws -> Link? {
        try session.query("SELECT \(StoreColumns.link) FROM links WHERE card_account_id = $1 AND network = $2 AND unlinked_at IS NULL",
                          [cardAccountID.rawValue, network.rawValue]).first.map(PostgresRows.link)
    }

    func insertLink(_ link: Link) throws {
        linksByUser = [:]
        do {
            try session.execute("INSERT INTO links (\(StoreColumns.link)) VALUES (\(PostgresRows.placeholders(7)))",
                                [link.id.rawValue, link.cardAccountID.rawValue, link.identity.network.rawValue, link.identity.userID,
                                 link.identity.handle, link.createdAt.millisecondsSinceEpoch, link.unlinkedAt?.millisecondsSinceEpoch])
        } catch let error as PostgresServerError where error.isUniqueViolation {
            throw StoreError.conflict("this identity or card account is already linked on \(link.identity.network)")
        }
    }

    func endLink(_ id: LinkID, at: Instant) throws {
        linksByUser = [:]
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

    func offer(hashtagKey: String) throws -> Offer? {
        if let cached = offers.live(hashtagKey: hashtagKey) { return cached }
        return try session.query("SELECT \(StoreColumns.offer) FROM offers WHERE hashtag_key = $1 AND lifecycle != 'ended'", [hashtagKey])
            .first.map { offers.remember(try PostgresRows.offer($0)) }
    }

    func offer(_ id: OfferID) throws -> Offer? {
        if let cached = offers[id] { return cached }
        return try session.query("SELECT \(StoreColumns.offer) FROM offers WHERE id = $1", [id.rawValue]).first
            .map { offers.remember(try PostgresRows.offer($0)) }
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
        _ = offers.remember(offer)
    }

    func updateOffer(_ offer: Offer) throws {
        offers.update(offer)
    }

    // MARK: Purchases and orders

    func purchase(_ id: PurchaseID) throws -> Purchase? {
        if let held = purchases[id] { return held }
        if missingPurchases.contains(id) { return nil }
        guard let found = try session.query("SELECT \(StoreColumns.purchase) FROM purchases WHERE id = $1", [id.rawValue]).first
        else {
            missingPurchases.insert(id)
            return nil
        }
        return remember(try PostgresRows.purchase(found))
    }

    func purchase(network: NetworkName, confirmationPostID: String) throws -> Purchase? {
        let key = network.rawValue + "|" + confirmationPostID
        if let id = purchaseByConfirmation[key] { return purchases[id] }
        if missingConfirmations.contains(key) { return nil }
        guard let found = try session.query("SELECT \(StoreColumns.purchase) FROM purchases WHERE network = $1 AND confirmation_post_id = $2",
                                            [network.rawValue, confirmationPostID]).first
        else {
            missingConfirmations.insert(key)
            return nil
        }
        let purchase = remember(try PostgresRows.purchase(found))
        return purchase.confirmationPostID == confirmationPostID ? purchase : nil
    }

    func insertPurchase(_ purchase: Purchase) throws {
        precondition(purchases[purchase.id] == nil, "purchase \(purchase.id) inserted twice")
        purchases[purchase.id] = purchase
        missingPurchases.remove(purchase.id)
        if let post = purchase.confirmationPostID {
            purchaseByConfirmation[purchase.identity.network.rawValue + "|" + post] = purchase.id
            missingConfirmations.remove(purchase.identity.network.rawValue + "|" + post)
        }
        takenReferences.insert(purchase.reference)
        freeReferences.remove(purchase.reference)
        insertedPurchases.append(purchase.id)
        bufferedCards.insert(purchase.cardAccountID)
        cardsWithoutPurchases.remove(purchase.cardAccountID)
    }

    func updatePurchase(_ purchase: Purchase) throws {
        precondition(purchases[purchase.id] != nil || !missingPurchases.contains(purchase.id), "purchase \(purchase.id) vanished")
        purchases[purchase.id] = purchase
        if let post = purchase.confirmationPostID {
            purchaseByConfirmation[purchase.identity.network.rawValue + "|" + post] = purchase.id
            missingConfirmations.remove(purchase.identity.network.rawValue + "|" + post)
        }
        updatedPurchases.insert(purchase.id)
        bufferedCards.insert(purchase.cardAccountID)
    }

    func openHashtagKeys(now: Instant, limit: Int) throws -> [String] {
        try session.query(StoreColumns.interestHashtagsSQL(placeholder: "$"), [now.millisecondsSinceEpoch, limit])
            .map { try PostgresRowReader(row: $0, table: "offers").text(0) }
    }

    func isReferenceTaken(_ reference: String) throws -> Bool {
        if takenReferences.contains(reference) { return true }
        if freeReferences.contains(reference) { return false }
        let taken = !(try session.query("SELECT 1 FROM purchases WHERE reference = $1", [reference]).isEmpty)
        if taken { takenReferences.insert(reference) } else { freeReferences.insert(reference) }
        return taken
    }

    func cardUsage(card: CardAccountID, offer: OfferID, now: Instant) throws -> CardUsage {
        // The query sums this card's purchases and orders: send the buffered ones first.
        if cardsWithoutPurchases.contains(card) {
            return CardUsage(spentToday: .usd(0), purchasesLastHour: 0, purchasesOfOffer: 0)
        }
        if bufferedCards.contains(card) { try flushPurchasesAndOrders() }
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

    /// Runs a purchase list query on everything written so far, keeping what this transaction holds.
    private func purchaseList(_ sql: String, _ values: [any PostgresBindable]) throws -> [Purchase] {
        try flushPurchasesAndOrders()
        return try session.query(sql, values).map { remember(try PostgresRows.purchase($0)) }
    }

    func purchasesDueToExpire(before: Instant, network: NetworkName, limit: Int) throws -> [Purchase] {
        try purchaseList("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE state IN ('requested', 'awaiting_confirmation') AND expires_at <= $1 AND network = $2 ORDER BY expires_at, id LIMIT $3
            """, [before.millisecondsSinceEpoch, network.rawValue, limit])
    }

    func purchasesWithLapsedHolds(before: Instant, limit: Int) throws -> [Purchase] {
        try purchaseList("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE state = 'authorized' AND hold_expires_at <= $1 ORDER BY hold_expires_at, id LIMIT $2
            """, [before.millisecondsSinceEpoch, limit])
    }

    func pendingPurchases(cardAccountID: CardAccountID, network: NetworkName) throws -> [Purchase] {
        try purchaseList("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE card_account_id = $1 AND network = $2 AND state IN ('requested', 'awaiting_confirmation') ORDER BY id LIMIT $3
            """, [cardAccountID.rawValue, network.rawValue, StoreLimits.maximumPendingPurchasesPerCard])
    }

    func order(_ id: OrderID) throws -> Order? {
        if let held = orders[id] { return held }
        guard let found = try session.query("SELECT \(StoreColumns.order) FROM orders WHERE id = $1", [id.rawValue]).first.map(PostgresRows.order)
        else { return nil }
        orders[id] = found
        return found
    }

    func insertOrder(_ order: Order) throws {
        precondition(orders[order.id] == nil, "order \(order.id) inserted twice")
        orders[order.id] = order
        insertedOrders.append(order.id)
        bufferedCards.insert(order.cardAccountID)
    }

    func updateOrder(_ order: Order) throws {
        orders[order.id] = order
        updatedOrders.insert(order.id)
        bufferedCards.insert(order.cardAccountID)
    }

    // MARK: Effects

    func enqueueOutbound(_ post: OutboundPost) throws {
        newOutbound.append(post)
    }

    func outbound(key: String) throws -> OutboundPost? {
        if let changed = changedOutbound[key] { return changed }
        // An enqueued post may meet a row already there (it is then ignored): ask the database.
        if newOutbound.contains(where: { $0.key == key }) { try flushOutbound() }
        return try session.query("SELECT \(StoreColumns.outbound) FROM outbound_posts WHERE key = $1", [key]).first.map(PostgresRows.outbound)
    }

    func updateOutbound(_ post: OutboundPost) throws {
        if newOutbound.contains(where: { $0.key == post.key }) { try flushOutbound() }
        if changedOutbound.updateValue(post, forKey: post.key) == nil { changedOutboundOrder.append(post.key) }
    }

    func addMerchantEvent(_ event: MerchantEvent) throws {
        newMerchantEvents.append(event)
    }

    func addCardholderNotification(_ notification: CardholderNotification) throws {
        newNotifications.append(notification)
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
        if let index = newTransferIndex[id] { return newTransfers[index] }
        return try session.query("SELECT \(StoreColumns.transfer) FROM ledger_transfers WHERE id = $1", [id.rawValue]).first.map(PostgresRows.transfer)
    }

    func transfers(_ ids: [TransferID]) throws -> [TransferID: Transfer] {
        guard !ids.isEmpty else { return [:] }
        precondition(ids.count <= Ledger.maximumGroupSize, "ledger groups are bounded")
        var found: [TransferID: Transfer] = [:]
        var unknown: [String] = []
        for id in ids {
            if let index = newTransferIndex[id] { found[id] = newTransfers[index] } else { unknown.append(id.rawValue) }
        }
        guard !unknown.isEmpty else { return found }
        for raw in try session.query("SELECT \(StoreColumns.transfer) FROM ledger_transfers WHERE id = ANY($1::text[])", [unknown]) {
            let transfer = try PostgresRows.transfer(raw)
            found[transfer.id] = transfer
        }
        return found
    }

    func pendingStatus(_ id: TransferID) throws -> PendingStatus? {
        if let changed = pendingStatusChanges[id] { return changed }
        if let index = newTransferIndex[id] { return newTransfers[index].type == .pending ? .pending : nil }
        return try session.query("SELECT pending_status FROM ledger_transfers WHERE id = $1", [id.rawValue]).first
            .flatMap { try PostgresRowReader(row: $0, table: "ledger_transfers").optionalText(0) }
            .flatMap(PendingStatus.init(rawValue:))
    }

    func saveLedgerChanges(accounts changed: [LedgerAccount], transfers: [Transfer], pendingStatuses: [(TransferID, PendingStatus)]) throws {
        for account in changed {
            accounts[account.id] = account
            dirtyAccounts.insert(account.id)
        }
        for transfer in transfers {
            precondition(newTransferIndex[transfer.id] == nil, "transfer \(transfer.id) saved twice")
            newTransferIndex[transfer.id] = newTransfers.count
            newTransfers.append(transfer)
        }
        for (id, status) in pendingStatuses {
            precondition(pendingStatusChanges[id] == nil, "pending transfer \(id) resolved twice")
            pendingStatusChanges[id] = status
            newPendingStatuses.append((id, status))
        }
    }

    // MARK: The funnel

    func incrementFunnel(offer: OfferID, metric: String, by: Int64, at: Instant) throws {
        let minute = at.millisecondsSinceEpoch >= 0 ? at.millisecondsSinceEpoch / 60_000 : (at.millisecondsSinceEpoch - 59_999) / 60_000
        funnel[FunnelKey(offer: offer, metric: metric, minute: minute), default: 0] += by
    }

    func recordAuthor(offer: OfferID, identity: SocialIdentity) throws -> Bool {
        if identity.network == network && authorsKnown.contains(identity.userID) {
            let key = offer.rawValue + "|" + identity.userID
            guard !authorships.contains(key) else { return false }
            authorships.insert(key)
            newAuthors.append((offer, identity.userID))
            return true
        }
        return try session.execute("INSERT INTO offer_authors (offer_id, network, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                            [offer.rawValue, identity.network.rawValue, identity.userID]) == 1
    }

    func claimInvitation(network: NetworkName, userID: String, now: Instant) throws -> Bool {
        try session.execute("""
            INSERT INTO invitations (network, user_id, last_at) VALUES ($1, $2, $3)
            ON CONFLICT (network, user_id) DO UPDATE SET last_at = excluded.last_at WHERE invitations.last_at <= excluded.last_at - 86400000
            """, [network.rawValue, userID, now.millisecondsSinceEpoch]) == 1
    }
}
