import Foundation
import HashcartCore

/// The engine's view of one write transaction, the same code on both stores: the unit of work.
///
/// What a batch of events will read is loaded ahead in a few statements (``prefetch(_:)``,
/// from the ``BatchKeys`` the engine names); every row read or written is kept in memory for the
/// life of the transaction, and the changes are written once, in ``flush()``, as one bulk
/// statement per table (``SQLSession/insertMany(into:columns:rows:suffix:)``: one `unnest` on
/// PostgreSQL, one cached statement run per row on SQLite). A thousand purchases cost a few
/// dozen statements, not tens of thousands of round trips.
///
/// This is sound because every write transaction holds the store's writer lock (SQLite's one
/// writer, PostgreSQL's advisory lock): nothing another instance does can change a row between
/// our read and our commit, so what is in memory is the truth plus our own changes. A read the
/// working set cannot answer goes to the database; a query that could see buffered rows
/// (aggregates, lists) first writes the buffers it touches.
///
/// The backends implement only the port under it (``SQLSession``): run a statement in their
/// dialect, load rows, write rows in bulk.
final class WorkingSet: StoreTransaction {
    let session: any SQLSession
    let cipher: AddressCipher
    let cardCache: CardAccountCache
    private var d: SQLDialect { session.dialect }
    /// The issuer's kill switch as this transaction read it (nil: not read yet).
    var killSwitchRead: Bool?
    /// The issuer's risk limits as this transaction read them (outer nil: not read yet).
    var riskPolicyRead: RiskPolicy??

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
    private var newAuditEntries: [AuditEntry] = []
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
    /// Ledger accounts created here (inserted, with their final totals, at write-back).
    private var newAccounts: Set<LedgerAccountID> = []
    /// Accounts that may already exist (`ensureLedgerAccount`): inserted unless there, before any read of them.
    private var ensuredAccounts: [LedgerAccountID: LedgerAccount] = [:]
    /// Card accounts and links created here, written in bulk (links before any read of links).
    private var newCards: [CardAccount] = []
    private var newCardIDs: Set<CardAccountID> = []
    var newCardsByID: [CardAccountID: CardAccount] = [:]
    private var newLinks: [Link] = []
    private var offers = OfferCache()
    private var funnel: [FunnelKey: Int64] = [:]
    /// Card accounts read or created here, shared with the cache once the transaction commits.
    private var cardsToCache: [CardAccountID: CardAccount] = [:]

    /// One minute of one funnel counter (minute 0 stands for the total).
    struct FunnelKey: Hashable {
        var offer: OfferID
        var metric: String
        /// Unix minutes.
        var minute: Int64
    }

    init(session: any SQLSession, cipher: AddressCipher, cardCache: CardAccountCache) {
        self.session = session
        self.cipher = cipher
        self.cardCache = cardCache
    }

    /// Writes back every buffered change. Called once, just before commit.
    func flush() throws {
        try flushPeople()
        try flushProcessedEvents()
        try flushPurchasesAndOrders()
        try flushLedger()
        try flushOutbound()
        try flushEvents()
        try flushHotRows()
    }

    /// Shares what this transaction decrypted with later ones; called after it committed.
    func committed() {
        for account in cardsToCache.values { cardCache.put(account) }
        cardsToCache = [:]
    }

    private static let cardColumns = SQLColumn.list("id, credit_limit:int, billing_state, billing_sealed:blob, created_at:int, pan_fingerprint")

    /// Card accounts, new and ensured ledger accounts, links: what bulk onboarding writes.
    private func flushPeople() throws {
        if !newCards.isEmpty {
            let rows = try newCards.map { card -> [SQLValue] in
                [.text(card.id.rawValue), .int(card.creditLimit.minorUnits), .text(card.billing.state.rawValue),
                 .blob(try cipher.sealPrivate(of: card)), SQLValue(card.createdAt), SQLValue(card.panFingerprint?.hex)]
            }
            try session.insertMany(into: "card_accounts", columns: Self.cardColumns, rows: rows)
            newCards = []
        }
        try flushEnsuredAccounts()
        if !newAccounts.isEmpty {
            let created = newAccounts.sorted().map { accounts[$0]! }
            for account in created { precondition(account.isWithinBounds, "ledger account \(account.id) out of bounds at commit") }
            let inserted = try session.insertMany(into: "ledger_accounts", columns: StoreRows.ledgerAccountColumns,
                                                  rows: created.map(StoreRows.values(of:)), suffix: "ON CONFLICT DO NOTHING")
            precondition(inserted == created.count, "a ledger account created here already existed")
            dirtyAccounts.subtract(newAccounts)
            newAccounts = []
        }
        try flushLinks()
    }

    private func flushEnsuredAccounts() throws {
        guard !ensuredAccounts.isEmpty else { return }
        try session.insertMany(into: "ledger_accounts", columns: StoreRows.ledgerAccountColumns,
                               rows: ensuredAccounts.keys.sorted().map { StoreRows.values(of: ensuredAccounts[$0]!) }, suffix: "ON CONFLICT DO NOTHING")
        ensuredAccounts = [:]
    }

    private func flushLinks() throws {
        guard !newLinks.isEmpty else { return }
        let links = newLinks
        newLinks = []
        do {
            try session.insertMany(into: "links", columns: StoreRows.linkColumns, rows: links.map(StoreRows.values(of:)))
        } catch where session.isUniqueViolation(error) {
            throw StoreError.conflict("this identity or card account is already linked on \(links[0].identity.network)")
        }
    }

    private static let accountTotals = SQLColumn.list("id, flags:int, debits_pending:int, debits_posted:int, credits_pending:int, credits_posted:int")
    private static let funnelMinuteColumns = SQLColumn.list("offer_id, metric, minute:int, value:int")
    private static let funnelColumns = SQLColumn.list("offer_id, metric, value:int")

    private func flushHotRows() throws {
        if !dirtyAccounts.isEmpty {
            let changed = dirtyAccounts.sorted().map { accounts[$0]! }
            for account in changed { precondition(account.isWithinBounds, "ledger account \(account.id) out of bounds at commit") }
            let updated = try session.updateMany("ledger_accounts", columns: Self.accountTotals, rows: changed.map { a in
                [.text(a.id.rawValue), .int(a.flags.rawValue), .int(a.debitsPending), .int(a.debitsPosted), .int(a.creditsPending),
                 .int(a.creditsPosted)]
            })
            precondition(updated == changed.count, "a ledger account vanished")
        }
        if !offers.dirty.isEmpty {
            let changed = offers.dirty.sorted().map { offers[$0]! }
            let updated = try session.updateMany("offers", columns: StoreRows.offerColumns, rows: changed.map(StoreRows.values(of:)))
            precondition(updated == changed.count, "an offer vanished")
        }
        let minutes = funnel.filter { $0.value != 0 }.sorted { ($0.key.offer, $0.key.metric, $0.key.minute) < ($1.key.offer, $1.key.metric, $1.key.minute) }
        if !minutes.isEmpty {
            try session.insertMany(into: "funnel_minutes", columns: Self.funnelMinuteColumns, rows: minutes.map { key, value in
                [.text(key.offer.rawValue), .text(key.metric), .int(key.minute), .int(value)]
            }, suffix: "ON CONFLICT (offer_id, metric, minute) DO UPDATE SET value = funnel_minutes.value + excluded.value")
            var totals: [FunnelKey: Int64] = [:]
            for (key, value) in minutes { totals[FunnelKey(offer: key.offer, metric: key.metric, minute: 0), default: 0] += value }
            let sums = totals.filter { $0.value != 0 }.sorted { ($0.key.offer, $0.key.metric) < ($1.key.offer, $1.key.metric) }
            try session.insertMany(into: "funnel", columns: Self.funnelColumns, rows: sums.map { key, value in
                [.text(key.offer.rawValue), .text(key.metric), .int(value)]
            }, suffix: "ON CONFLICT (offer_id, metric) DO UPDATE SET value = funnel.value + excluded.value")
        }
        dirtyAccounts = []
        offers.written()
        funnel = [:]
    }

    // MARK: Buffers

    private static let processedEventColumns = SQLColumn.list("network, event_id, processed_at:int")

    private func flushProcessedEvents() throws {
        guard !newProcessedEvents.isEmpty else { return }
        let inserted = try session.insertMany(into: "processed_events", columns: Self.processedEventColumns, rows: newProcessedEvents.map {
            [.text(network.rawValue), .text($0.0), .int($0.1)]
        }, suffix: "ON CONFLICT DO NOTHING")
        precondition(inserted == newProcessedEvents.count, "an event marked new was already processed (the writer lock was not held)")
        newProcessedEvents = []
    }

    private func flushPurchasesAndOrders() throws {
        if !insertedPurchases.isEmpty {
            try session.insertMany(into: "purchases", columns: StoreRows.purchaseColumns,
                                   rows: insertedPurchases.map { StoreRows.values(of: purchases[$0]!) })
            for id in insertedPurchases { updatedPurchases.remove(id) }
            insertedPurchases = []
        }
        if !updatedPurchases.isEmpty {
            let rows = updatedPurchases.sorted().map { StoreRows.changes(of: purchases[$0]!) }
            let updated = try session.updateMany("purchases", columns: StoreRows.purchaseChangeColumns, rows: rows)
            precondition(updated == rows.count, "a purchase vanished")
            updatedPurchases = []
        }
        if !insertedOrders.isEmpty {
            try session.insertMany(into: "orders", columns: StoreRows.orderColumns, rows: insertedOrders.map { StoreRows.values(of: orders[$0]!) })
            for id in insertedOrders { updatedOrders.remove(id) }
            insertedOrders = []
        }
        if !updatedOrders.isEmpty {
            let rows = updatedOrders.sorted().map { StoreRows.changes(of: orders[$0]!) }
            let updated = try session.updateMany("orders", columns: StoreRows.orderChangeColumns, rows: rows)
            precondition(updated == rows.count, "an order vanished")
            updatedOrders = []
        }
        bufferedCards = []
    }

    private static let transferRowColumns = StoreRows.transferColumns + SQLColumn.list("subject, pending_status")
    private static let pendingStatusColumns = SQLColumn.list("id, pending_status")

    private func flushLedger() throws {
        if !newTransfers.isEmpty {
            try session.insertMany(into: "ledger_transfers", columns: Self.transferRowColumns, rows: newTransfers.map { transfer in
                StoreRows.values(of: transfer) + [
                    .text(StoreColumns.subject(of: transfer.id)),
                    transfer.type == .pending ? .text((pendingStatusChanges[transfer.id] ?? .pending).rawValue) : .null,
                ]
            })
            // Statuses of transfers inserted just now went in with them.
            newPendingStatuses.removeAll { newTransferIndex[$0.0] != nil }
            newTransfers = []
            newTransferIndex = [:]
        }
        if !newPendingStatuses.isEmpty {
            let statuses = newPendingStatuses
            let updated = try session.updateMany("ledger_transfers", columns: Self.pendingStatusColumns,
                                                 rows: statuses.map { [.text($0.0.rawValue), .text($0.1.rawValue)] },
                                                 condition: { "\($0).pending_status = 'pending'" })
            precondition(updated == statuses.count, "a pending transfer was resolved twice")
            newPendingStatuses = []
        }
    }

    private func flushOutbound() throws {
        if !newOutbound.isEmpty {
            try session.insertMany(into: "outbound_posts", columns: StoreRows.outboundColumns, rows: newOutbound.map(StoreRows.values(of:)),
                                   suffix: "ON CONFLICT DO NOTHING")
            newOutbound = []
        }
        if !changedOutbound.isEmpty {
            let posts = changedOutboundOrder.map { changedOutbound[$0]! }
            try session.updateMany("outbound_posts", columns: StoreRows.outboundChangeColumns, rows: posts.map(StoreRows.changes(of:)))
            changedOutbound = [:]
            changedOutboundOrder = []
        }
    }

    private static let authorColumns = SQLColumn.list("offer_id, network, user_id")

    private func flushEvents() throws {
        if !newAuthors.isEmpty {
            let inserted = try session.insertMany(into: "offer_authors", columns: Self.authorColumns,
                                                  rows: newAuthors.map { [.text($0.0.rawValue), .text(network.rawValue), .text($0.1)] },
                                                  suffix: "ON CONFLICT DO NOTHING")
            precondition(inserted == newAuthors.count, "an author recorded as new was already recorded (the writer lock was not held)")
            newAuthors = []
        }
        if !newMerchantEvents.isEmpty {
            // In the order they happened: their sequence numbers order webhook deliveries.
            try session.insertMany(into: "merchant_events", columns: StoreRows.merchantEventColumns,
                                   rows: newMerchantEvents.map(StoreRows.values(of:)), suffix: "ON CONFLICT DO NOTHING")
            newMerchantEvents = []
        }
        if !newNotifications.isEmpty {
            try session.insertMany(into: "cardholder_notifications", columns: StoreRows.notificationColumns,
                                   rows: newNotifications.map(StoreRows.values(of:)), suffix: "ON CONFLICT DO NOTHING")
            newNotifications = []
        }
        if !newAuditEntries.isEmpty {
            try session.insertMany(into: "audit_log", columns: StoreRows.auditColumns, rows: newAuditEntries.map(StoreRows.values(of:)))
            newAuditEntries = []
        }
    }

    // MARK: Prefetch

    func prefetch(_ keys: BatchKeys) throws {
        network = keys.network
        let eventIDs = Array(Set(keys.eventIDs).subtracting(processedEvents).subtracting(unprocessedEvents))
        if !eventIDs.isEmpty {
            let found = try session.query("SELECT event_id FROM processed_events WHERE network = $1 AND event_id \(d.any(2))",
                                          [.text(keys.network.rawValue), .texts(eventIDs)]) { try $0.text(0) }
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
                SELECT \(StoreColumns.purchase) FROM purchases WHERE id \(d.any(1))
                UNION ALL
                SELECT \(StoreColumns.purchase) FROM purchases WHERE network = $2 AND confirmation_post_id \(d.any(3))
                """, [.texts(purchaseIDs.map(\.rawValue)), .text(keys.network.rawValue), .texts(referenced)], StoreRows.purchase)
            for purchase in rows { _ = remember(purchase) }
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
            let taken = try session.query("SELECT reference FROM purchases WHERE reference \(d.any(1))", [.texts(references)]) { try $0.text(0) }
            takenReferences.formUnion(taken)
            freeReferences.formUnion(Set(references).subtracting(taken))
        }
        let authors = Array(Set(keys.authorUserIDs).filter { linksByUser[$0] == nil })
        if !authors.isEmpty {
            try flushLinks()
            let links = try session.query("""
                SELECT \(StoreColumns.link) FROM links WHERE network = $1 AND user_id \(d.any(2)) AND unlinked_at IS NULL
                """, [.text(keys.network.rawValue), .texts(authors)], StoreRows.link)
            for author in authors { linksByUser[author] = .some(nil) }
            for link in links { linksByUser[link.identity.userID] = .some(link) }
        }
        let unknownAuthors = Array(Set(keys.authorUserIDs).subtracting(authorsKnown))
        if !unknownAuthors.isEmpty {
            let pairs = try session.query("SELECT offer_id, user_id FROM offer_authors WHERE network = $1 AND user_id \(d.any(2))",
                                          [.text(keys.network.rawValue), .texts(unknownAuthors)]) { try $0.text(0) + "|" + $0.text(1) }
            authorships.formUnion(pairs)
            authorsKnown.formUnion(unknownAuthors)
        }
        // The card accounts and credit lines those purchases and links will need.
        var cards = Set(purchases.values.map(\.cardAccountID)).union(keys.cardAccountIDs).subtracting(newCardIDs)
        for case let link? in linksByUser.values { cards.insert(link.cardAccountID) }
        let uncached = cards.filter { cardCache.get($0) == nil && cardsToCache[$0] == nil }
        if !uncached.isEmpty {
            let cipher = cipher
            for card in try session.query("SELECT \(StoreRows.cardAccountColumns) FROM card_accounts WHERE id \(d.any(1))",
                                          [.texts(uncached.map(\.rawValue))], { try StoreRows.cardAccount($0, cipher: cipher) }) {
                cardsToCache[card.id] = card
            }
        }
        let linkedCards = Set(linksByUser.values.compactMap { $0?.cardAccountID }).subtracting(cardsWithoutPurchases)
            .subtracting(purchases.values.map(\.cardAccountID))
        if !linkedCards.isEmpty {
            let buying = Set(try session.query("SELECT DISTINCT card_account_id FROM purchases WHERE card_account_id \(d.any(1))",
                                               [.texts(linkedCards.map(\.rawValue))]) { CardAccountID(try $0.text(0)) })
            cardsWithoutPurchases.formUnion(linkedCards.subtracting(buying))
        }
        let lines = cards.map { LedgerAccounts.creditLine($0).id }.filter { accounts[$0] == nil }
        if !lines.isEmpty {
            try flushEnsuredAccounts()
            for account in try session.query("SELECT \(StoreRows.names(StoreRows.ledgerAccountColumns)) FROM ledger_accounts WHERE id \(d.any(1))",
                                              [.texts(lines.map(\.rawValue))], StoreRows.ledgerAccount) {
                accounts[account.id] = account
            }
        }
    }

    /// Keeps a purchase read from the database, unless this transaction already holds a newer one.
    private func remember(_ purchase: Purchase) -> Purchase {
        if let held = purchases[purchase.id] { return held }
        purchases[purchase.id] = purchase
        if let post = purchase.confirmationPostID { purchaseByConfirmation[purchase.identity.network.rawValue + "|" + post] = purchase.id }
        return purchase
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
                                   [.text(network.rawValue), .text(eventID), SQLValue(at)]) == 1
    }

    /// Reads which of `postIDs` (of the batch's network) were deleted, for the ones not known yet.
    private func prefetchDeletedPosts(_ postIDs: [String]) throws {
        let unknown = Array(Set(postIDs).filter { deletedPosts[$0] == nil && !undeletedPosts.contains($0) })
        guard !unknown.isEmpty else { return }
        for (post, at) in try session.query("SELECT post_id, deleted_at FROM deleted_posts WHERE network = $1 AND post_id \(d.any(2))",
                                            [.text(network.rawValue), .texts(unknown)], { (try $0.text(0), try $0.instant(1)) }) {
            deletedPosts[post] = at
        }
        undeletedPosts.formUnion(unknown.filter { deletedPosts[$0] == nil })
    }

    func postDeletedAt(network: NetworkName, postID: String) throws -> Instant? {
        if network == self.network {
            if let at = deletedPosts[postID] { return at }
            if undeletedPosts.contains(postID) { return nil }
        }
        return try session.queryOne("SELECT deleted_at FROM deleted_posts WHERE network = $1 AND post_id = $2",
                                    [.text(network.rawValue), .text(postID)]) { try $0.instant(0) }
    }

    func recordDeletedPost(network: NetworkName, postID: String, at: Instant) throws {
        let inserted = try session.execute("INSERT INTO deleted_posts (network, post_id, deleted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                           [.text(network.rawValue), .text(postID), SQLValue(at)]) == 1
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
                            [.text(event.network.rawValue), .text(postID), .blob(data), SQLValue(at)])
        try session.execute("DELETE FROM parked_events WHERE id <= (SELECT MAX(id) FROM parked_events) - $1",
                            [SQLValue(StoreLimits.maximumParkedEvents)])
    }

    func takeParkedEvents(network: NetworkName, postID: String) throws -> [NetworkEvent] {
        let rows = try session.query("DELETE FROM parked_events WHERE network = $1 AND post_id = $2 RETURNING id, event",
                                     [.text(network.rawValue), .text(postID)]) { (try $0.int(0), try $0.data(1)) }
        return try rows.sorted { $0.0 < $1.0 }.map { id, data in
            do {
                return try JSONDecoder().decode(NetworkEvent.self, from: data)
            } catch {
                throw StoreError.corruptRecord(table: "parked_events", id: String(id), detail: "\(error)")
            }
        }
    }

    func cursor(network: NetworkName) throws -> String? {
        try session.queryOne("SELECT cursor FROM cursors WHERE network = $1", [.text(network.rawValue)]) { try $0.text(0) }
    }

    func setCursor(network: NetworkName, cursor: String) throws {
        try session.execute("INSERT INTO cursors (network, cursor) VALUES ($1, $2) ON CONFLICT (network) DO UPDATE SET cursor = excluded.cursor",
                            [.text(network.rawValue), .text(cursor)])
    }

    // MARK: People and offers

    func merchant(_ id: MerchantID) throws -> Merchant? {
        if let known = merchants[id] { return known }
        let merchant = try session.queryOne("SELECT \(StoreRows.names(StoreRows.merchantColumns)) FROM merchants WHERE id = $1",
                                            [.text(id.rawValue)], StoreRows.merchant)
        merchants[id] = merchant
        return merchant
    }

    func insertMerchant(_ merchant: Merchant) throws {
        try session.execute("INSERT INTO merchants (\(StoreRows.names(StoreRows.merchantColumns))) VALUES ($1, $2, $3, $4, $5)",
                            StoreRows.values(of: merchant))
        merchants[merchant.id] = merchant
        try createLedgerAccount(LedgerAccounts.merchantPayable(merchant.id))
    }

    func cardAccount(_ id: CardAccountID) throws -> CardAccount? {
        // Read or changed here first: a card changed in this transaction replaces the cached one.
        if let fetched = cardsToCache[id] { return fetched }
        if let cached = cardCache.get(id) { return cached }
        if let created = newCardsByID[id] { return created }
        let cipher = cipher
        guard let account = try session.queryOne("SELECT \(StoreRows.cardAccountColumns) FROM card_accounts WHERE id = $1",
                                                 [.text(id.rawValue)], { try StoreRows.cardAccount($0, cipher: cipher) })
        else { return nil }
        cardsToCache[id] = account
        return account
    }

    func insertCardAccount(_ account: CardAccount) throws {
        precondition(!newCardIDs.contains(account.id), "card account \(account.id) inserted twice")
        newCards.append(account)
        newCardIDs.insert(account.id)
        // Kept for this transaction only: the shared cache holds only cards read back (and so
        // opened) from the database, so a sealed blob tampered with on disk is never trusted.
        newCardsByID[account.id] = account
        cardsWithoutPurchases.insert(account.id)
        // A new card's credit line is new too: created here, without asking the database.
        try createLedgerAccount(LedgerAccounts.creditLine(account.id))
    }

    func cardAccountForUpdate(_ id: CardAccountID) throws -> CardAccount? {
        if let created = newCardsByID[id] { return created }
        let cipher = cipher
        let lock = session.dialect == .postgres ? " FOR UPDATE" : ""  // SQLite: the writer is already alone
        guard let account = try session.queryOne("SELECT \(StoreRows.cardAccountColumns) FROM card_accounts WHERE id = $1\(lock)",
                                                 [.text(id.rawValue)], { try StoreRows.cardAccount($0, cipher: cipher) })
        else { return nil }
        cardsToCache[id] = account
        return account
    }

    func updateCardAccount(_ account: CardAccount) throws {
        precondition(!newCardIDs.contains(account.id), "a card account is changed after the transaction that opened it")
        let updated = try session.execute("UPDATE card_accounts SET credit_limit = $2, closed_at = $3 WHERE id = $1",
                                          [.text(account.id.rawValue), .int(account.creditLimit.minorUnits), SQLValue(account.closedAt)])
        precondition(updated == 1, "card account \(account.id) vanished")
        cardsToCache[account.id] = account
    }

    func updateMerchant(_ merchant: Merchant) throws {
        let updated = try session.execute("UPDATE merchants SET name = $2, discount_bps = $3, closed_at = $4 WHERE id = $1",
                                          [.text(merchant.id.rawValue), .text(merchant.name), .int(merchant.discountRateBasisPoints),
                                           SQLValue(merchant.closedAt)])
        precondition(updated == 1, "merchant \(merchant.id) vanished")
        merchants[merchant.id] = merchant
    }

    func activeLinks(cardAccountID: CardAccountID) throws -> [Link] {
        try flushLinks()
        return try session.query("""
            SELECT \(StoreColumns.link) FROM links WHERE card_account_id = $1 AND unlinked_at IS NULL ORDER BY network LIMIT 64
            """, [.text(cardAccountID.rawValue)], limit: 64, StoreRows.link)
    }

    func setLedgerAccountFlags(_ id: LedgerAccountID, _ flags: LedgerAccountFlags) throws {
        guard var account = try ledgerAccount(id) else { throw LedgerError.accountNotFound(id) }
        account.flags = flags
        accounts[id] = account
        if !newAccounts.contains(id) { dirtyAccounts.insert(id) }
    }

    func activeLink(network: NetworkName, userID: String) throws -> Link? {
        if network == self.network, let known = linksByUser[userID] { return known }
        try flushLinks()
        return try session.queryOne("SELECT \(StoreColumns.link) FROM links WHERE network = $1 AND user_id = $2 AND unlinked_at IS NULL",
                                    [.text(network.rawValue), .text(userID)], StoreRows.link)
    }

    func activeLink(cardAccountID: CardAccountID, network: NetworkName) throws -> Link? {
        try flushLinks()
        return try session.queryOne("SELECT \(StoreColumns.link) FROM links WHERE card_account_id = $1 AND network = $2 AND unlinked_at IS NULL",
                             [.text(cardAccountID.rawValue), .text(network.rawValue)], StoreRows.link)
    }

    func insertLink(_ link: Link) throws {
        linksByUser = [:]
        newLinks.append(link)
    }

    func endLink(_ id: LinkID, at: Instant) throws {
        try flushLinks()
        linksByUser = [:]
        try session.execute("UPDATE links SET unlinked_at = $1 WHERE id = $2 AND unlinked_at IS NULL", [SQLValue(at), .text(id.rawValue)])
    }

    func insertLinkCode(_ code: LinkCode) throws {
        try session.execute("INSERT INTO link_codes (code, card_account_id, network, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)",
                            [.text(code.code), .text(code.cardAccountID.rawValue), .text(code.network.rawValue), SQLValue(code.expiresAt),
                             SQLValue(code.usedAt)])
    }

    func linkCode(_ code: String) throws -> LinkCode? {
        try session.queryOne("SELECT code, card_account_id, network, expires_at, used_at FROM link_codes WHERE code = $1", [.text(code)]) { row in
            LinkCode(code: try row.text(0), cardAccountID: CardAccountID(try row.text(1)), network: NetworkName(rawValue: try row.text(2)),
                     expiresAt: try row.instant(3), usedAt: try row.optionalInstant(4))
        }
    }

    func markLinkCodeUsed(_ code: String, at: Instant) throws {
        try session.execute("UPDATE link_codes SET used_at = $1 WHERE code = $2 AND used_at IS NULL", [SQLValue(at), .text(code)])
    }

    func insertOAuthAuthorization(_ a: OAuthAuthorization) throws {
        try session.execute("""
            INSERT INTO oauth_authorizations (state_hash, card_account_id, network, code_verifier, created_at, expires_at, used_at, browser_binding)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, [.text(a.stateHash), .text(a.cardAccountID.rawValue), .text(a.network.rawValue), .text(a.codeVerifier), SQLValue(a.createdAt),
                  SQLValue(a.expiresAt), SQLValue(a.usedAt), SQLValue(a.browserBindingHash)])
    }

    func oauthAuthorization(stateHash: String) throws -> OAuthAuthorization? {
        try session.queryOne("SELECT \(StoreColumns.oauthAuthorization) FROM oauth_authorizations WHERE state_hash = $1", [.text(stateHash)],
                             StoreRows.oauthAuthorization)
    }

    func markOAuthAuthorizationUsed(stateHash: String, at: Instant) throws -> Bool {
        try session.execute("UPDATE oauth_authorizations SET used_at = $1 WHERE state_hash = $2 AND used_at IS NULL",
                            [SQLValue(at), .text(stateHash)]) == 1
    }

    func pendingOAuthAuthorizations(cardAccountID: CardAccountID, at now: Instant) throws -> Int {
        try session.execute("DELETE FROM oauth_authorizations WHERE card_account_id = $1 AND expires_at < $2",
                            [.text(cardAccountID.rawValue), SQLValue(now.adding(seconds: -86_400))])
        return try session.queryOne("""
            SELECT COUNT(*) FROM oauth_authorizations WHERE card_account_id = $1 AND used_at IS NULL AND expires_at > $2
            """, [.text(cardAccountID.rawValue), SQLValue(now)]) { try Int($0.int(0)) } ?? 0
    }

    func offer(hashtagKey: String) throws -> Offer? {
        if let cached = offers.live(hashtagKey: hashtagKey) { return cached }
        return try session.queryOne("SELECT \(StoreColumns.offer) FROM offers WHERE hashtag_key = $1 AND lifecycle != 'ended'",
                                    [.text(hashtagKey)], StoreRows.offer).map { offers.remember($0) }
    }

    func offer(_ id: OfferID) throws -> Offer? {
        if let cached = offers[id] { return cached }
        return try session.queryOne("SELECT \(StoreColumns.offer) FROM offers WHERE id = $1", [.text(id.rawValue)], StoreRows.offer)
            .map { offers.remember($0) }
    }

    func insertOffer(_ offer: Offer) throws {
        do {
            try session.execute("INSERT INTO offers (\(StoreColumns.offer)) VALUES (\(sqlPlaceholders(StoreRows.offerColumns.count)))",
                                StoreRows.values(of: offer))
        } catch where session.isUniqueViolation(error) {
            throw StoreError.conflict("hashtag \(offer.hashtag) is already used by an offer that has not ended")
        }
        _ = offers.remember(offer)
    }

    func updateOffer(_ offer: Offer) throws {
        offers.update(offer)
    }

    func recentBuyers(merchant: MerchantID, limit: Int) throws -> [CardAccountID] {
        try flushPurchasesAndOrders()
        return try session.query("""
            SELECT card_account_id FROM orders WHERE merchant_id = $1 GROUP BY card_account_id ORDER BY MAX(created_at) DESC, card_account_id LIMIT $2
            """, [.text(merchant.rawValue), SQLValue(limit)], limit: limit) { CardAccountID(try $0.text(0)) }
    }

    func offersToAnnounce(network: NetworkName, now: Instant, limit: Int) throws -> [Offer] {
        try flushOutbound()
        return try session.query("""
            SELECT \(StoreColumns.offer) FROM offers o
            WHERE o.announce AND NOT o.kill_switch AND o.lifecycle = 'published' AND o.starts_at <= $1 AND o.ends_at > $1
                AND (o.quantity IS NULL OR o.sold_units < o.quantity)
                AND NOT EXISTS (SELECT 1 FROM outbound_posts p WHERE p.key = 'announce:' || o.id || ':' || $2)
            ORDER BY o.starts_at, o.id LIMIT $3
            """, [SQLValue(now), .text(network.rawValue), SQLValue(limit)], limit: limit, StoreRows.offer).map { offers.remember($0) }
    }

    // MARK: Purchases and orders

    func purchase(_ id: PurchaseID) throws -> Purchase? {
        if let held = purchases[id] { return held }
        if missingPurchases.contains(id) { return nil }
        guard let found = try session.queryOne("SELECT \(StoreColumns.purchase) FROM purchases WHERE id = $1", [.text(id.rawValue)], StoreRows.purchase)
        else {
            missingPurchases.insert(id)
            return nil
        }
        return remember(found)
    }

    func purchase(network: NetworkName, confirmationPostID: String) throws -> Purchase? {
        let key = network.rawValue + "|" + confirmationPostID
        if let id = purchaseByConfirmation[key] { return purchases[id] }
        if missingConfirmations.contains(key) { return nil }
        guard let found = try session.queryOne("SELECT \(StoreColumns.purchase) FROM purchases WHERE network = $1 AND confirmation_post_id = $2",
                                               [.text(network.rawValue), .text(confirmationPostID)], StoreRows.purchase)
        else {
            missingConfirmations.insert(key)
            return nil
        }
        let purchase = remember(found)
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

    func unendedOffers(merchant: MerchantID, limit: Int) throws -> [OfferID] {
        try session.query("SELECT id FROM offers WHERE merchant_id = $1 AND lifecycle != 'ended' ORDER BY id LIMIT $2",
                          [.text(merchant.rawValue), SQLValue(limit)], limit: limit) { OfferID(try $0.text(0)) }
    }

    func openHashtagKeys(now: Instant, limit: Int) throws -> [String] {
        try session.query(StoreColumns.interestHashtagsSQL, [SQLValue(now), SQLValue(limit)]) { try $0.text(0) }
    }

    func isReferenceTaken(_ reference: String) throws -> Bool {
        if takenReferences.contains(reference) { return true }
        if freeReferences.contains(reference) { return false }
        let taken = try session.queryOne("SELECT 1 FROM purchases WHERE reference = $1", [.text(reference)]) { _ in true } ?? false
        if taken { takenReferences.insert(reference) } else { freeReferences.insert(reference) }
        return taken
    }

    func cardUsage(card: CardAccountID, offer: OfferID, now: Instant) throws -> CardUsage {
        // The query sums this card's purchases and orders: send the buffered ones first.
        if cardsWithoutPurchases.contains(card) {
            return CardUsage(spentToday: .usd(0), purchasesLastHour: 0, unitsOfOffer: 0)
        }
        if bufferedCards.contains(card) { try flushPurchasesAndOrders() }
        let dayStart = now.utcDay * 86_400_000
        let hourAgo = now.millisecondsSinceEpoch - 3_600_000
        // Purchases whose order was cancelled (and refunded) no longer count against the limits.
        // Spend counts a purchase on the day it was requested, or on the day its last confirmation
        // window opened (a waitlist turn today for a post made yesterday counts today).
        return try session.queryOne("""
            SELECT
                CAST(COALESCE(SUM(CASE WHEN (p.requested_at >= $1 OR p.expires_at - p.window_seconds * 1000 >= $1) AND p.state IN ('requested','awaiting_confirmation','confirmed','authorized','captured') AND o.id IS NULL THEN p.total END), 0) AS BIGINT),
                COUNT(CASE WHEN p.requested_at >= $2 AND p.state != 'declined' THEN 1 END),
                CAST(COALESCE(SUM(CASE WHEN p.offer_id = $3 AND p.state IN ('waitlisted','requested','awaiting_confirmation','confirmed','authorized','captured') AND o.id IS NULL THEN p.units END), 0) AS BIGINT)
            FROM purchases p LEFT JOIN orders o ON o.purchase_id = p.id AND o.status = 'cancelled'
            WHERE p.card_account_id = $4
            """, [.int(dayStart), .int(hourAgo), .text(offer.rawValue), .text(card.rawValue)]) { row in
            CardUsage(spentToday: .usd(try row.int(0)), purchasesLastHour: try row.int(1), unitsOfOffer: try row.int(2))
        }!
    }

    /// Runs a purchase list query on everything written so far, keeping what this transaction holds.
    private func purchaseList(_ sql: String, _ values: [SQLValue], limit: Int) throws -> [Purchase] {
        try flushPurchasesAndOrders()
        return try session.query(sql, values, limit: limit, StoreRows.purchase).map { remember($0) }
    }

    func purchasesDueToExpire(before: Instant, network: NetworkName, limit: Int) throws -> [Purchase] {
        try purchaseList("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE state IN ('requested', 'awaiting_confirmation') AND expires_at <= $1 AND network = $2 ORDER BY expires_at, id LIMIT $3
            """, [SQLValue(before), .text(network.rawValue), SQLValue(limit)], limit: limit)
    }

    func waitlist(offer: OfferID, limit: Int) throws -> [Purchase] {
        try purchaseList("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE offer_id = $1 AND state = 'waitlisted' ORDER BY requested_at, id LIMIT $2
            """, [.text(offer.rawValue), SQLValue(limit)], limit: limit)
    }

    func waitlistLength(offer: OfferID) throws -> (count: Int64, lastJoinedAt: Instant?) {
        try flushPurchasesAndOrders()
        return try session.queryOne("SELECT COUNT(*), MAX(requested_at) FROM purchases WHERE offer_id = $1 AND state = 'waitlisted'",
                                    [.text(offer.rawValue)]) { (try $0.int(0), try $0.optionalInstant(1)) } ?? (0, nil)
    }

    func offersWithWaitlist(limit: Int) throws -> [OfferID] {
        // Offers changed in this transaction are read as committed before it: an offer that freed
        // units in it was given its turns where it freed them.
        try flushPurchasesAndOrders()
        return try session.query("""
            SELECT DISTINCT p.offer_id FROM purchases p JOIN offers o ON o.id = p.offer_id
            WHERE p.state = 'waitlisted' AND o.lifecycle = 'published' AND NOT o.kill_switch
                AND o.quantity - o.sold_units - o.reserved_units > 0
            ORDER BY p.offer_id LIMIT $1
            """, [SQLValue(limit)]) { OfferID(try $0.text(0)) }
    }

    func waitlistedDueToClose(before: Instant, network: NetworkName, limit: Int) throws -> [Purchase] {
        try purchaseList("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE state = 'waitlisted' AND expires_at <= $1 AND network = $2 ORDER BY expires_at, id LIMIT $3
            """, [SQLValue(before), .text(network.rawValue), SQLValue(limit)], limit: limit)
    }

    func purchasesWithLapsedHolds(before: Instant, limit: Int) throws -> [Purchase] {
        try purchaseList("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE state = 'authorized' AND hold_expires_at <= $1 ORDER BY hold_expires_at, id LIMIT $2
            """, [SQLValue(before), SQLValue(limit)], limit: limit)
    }

    func pendingPurchases(cardAccountID: CardAccountID, network: NetworkName) throws -> [Purchase] {
        try purchaseList("""
            SELECT \(StoreColumns.purchase) FROM purchases
            WHERE card_account_id = $1 AND network = $2 AND state IN ('waitlisted', 'requested', 'awaiting_confirmation') ORDER BY id LIMIT $3
            """, [.text(cardAccountID.rawValue), .text(network.rawValue), SQLValue(StoreLimits.maximumPendingPurchasesPerCard)],
            limit: StoreLimits.maximumPendingPurchasesPerCard)
    }

    func order(_ id: OrderID) throws -> Order? {
        if let held = orders[id] { return held }
        guard let found = try session.queryOne("SELECT \(StoreColumns.order) FROM orders WHERE id = $1", [.text(id.rawValue)], StoreRows.order)
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

    func isAnnouncement(network: NetworkName, postID: String) throws -> Bool {
        try session.queryOne("SELECT 1 FROM outbound_posts WHERE network = $1 AND post_id = $2 AND purpose = 'announcement'",
                             [.text(network.rawValue), .text(postID)]) { _ in true } ?? false
    }

    func outbound(key: String) throws -> OutboundPost? {
        if let changed = changedOutbound[key] { return changed }
        // An enqueued post may meet a row already there (it is then ignored): ask the database.
        if newOutbound.contains(where: { $0.key == key }) { try flushOutbound() }
        return try session.queryOne("SELECT \(StoreColumns.outbound) FROM outbound_posts WHERE key = $1", [.text(key)], StoreRows.outbound)
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

    func addAuditEntry(_ entry: AuditEntry) throws {
        newAuditEntries.append(entry)
    }

    // MARK: Ledger storage

    static func insertLedgerAccount(_ account: LedgerAccount, session: any SQLSession) throws {
        try session.execute("""
            INSERT INTO ledger_accounts (\(StoreRows.names(StoreRows.ledgerAccountColumns))) VALUES (\(sqlPlaceholders(7))) ON CONFLICT DO NOTHING
            """, StoreRows.values(of: account))
    }

    func ensureLedgerAccount(_ account: LedgerAccount) throws {
        if accounts[account.id] != nil || ensuredAccounts[account.id] != nil { return }
        ensuredAccounts[account.id] = account
    }

    /// An account known not to exist yet (a new card's credit line, a new merchant's payable):
    /// held here from its first transfer and inserted once, with its totals, at write-back.
    private func createLedgerAccount(_ account: LedgerAccount) throws {
        precondition(accounts[account.id] == nil, "ledger account \(account.id) created twice")
        accounts[account.id] = account
        newAccounts.insert(account.id)
    }

    func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount? {
        if let cached = accounts[id] { return cached }
        if ensuredAccounts[id] != nil { try flushEnsuredAccounts() }
        guard let account = try session.queryOne("SELECT \(StoreRows.names(StoreRows.ledgerAccountColumns)) FROM ledger_accounts WHERE id = $1",
                                                 [.text(id.rawValue)], StoreRows.ledgerAccount)
        else { return nil }
        accounts[id] = account
        return account
    }

    func transfer(_ id: TransferID) throws -> Transfer? {
        if let index = newTransferIndex[id] { return newTransfers[index] }
        return try session.queryOne("SELECT \(StoreColumns.transfer) FROM ledger_transfers WHERE id = $1", [.text(id.rawValue)], StoreRows.transfer)
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
        for transfer in try session.query("SELECT \(StoreColumns.transfer) FROM ledger_transfers WHERE id \(d.any(1))",
                                          [.texts(unknown)], StoreRows.transfer) {
            found[transfer.id] = transfer
        }
        return found
    }

    func pendingStatus(_ id: TransferID) throws -> PendingStatus? {
        if let changed = pendingStatusChanges[id] { return changed }
        if let index = newTransferIndex[id] { return newTransfers[index].type == .pending ? .pending : nil }
        return try session.queryOne("SELECT pending_status FROM ledger_transfers WHERE id = $1", [.text(id.rawValue)]) { try $0.optionalText(0) }?
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
                                   [.text(offer.rawValue), .text(identity.network.rawValue), .text(identity.userID)]) == 1
    }

    func claimInvitation(network: NetworkName, userID: String, now: Instant) throws -> Bool {
        try session.execute("""
            INSERT INTO invitations (network, user_id, last_at) VALUES ($1, $2, $3)
            ON CONFLICT (network, user_id) DO UPDATE SET last_at = excluded.last_at WHERE invitations.last_at <= excluded.last_at - 86400000
            """, [.text(network.rawValue), .text(userID), SQLValue(now)]) == 1
    }
}
