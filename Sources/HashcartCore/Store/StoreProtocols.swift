/// Usage counts the risk rules need for one card account.
public struct CardUsage: Sendable, Hashable {
    public var spentToday: Money
    public var purchasesLastHour: Int64
    public var unitsOfOffer: Int64

    public init(spentToday: Money, purchasesLastHour: Int64, unitsOfOffer: Int64) {
        self.spentToday = spentToday
        self.purchasesLastHour = purchasesLastHour
        self.unitsOfOffer = unitsOfOffer
    }
}

/// A one-time code that links the identity posting it to a card account.
public struct LinkCode: Sendable, Hashable, Codable {
    public var code: String
    public var cardAccountID: CardAccountID
    public var network: NetworkName
    public var expiresAt: Instant
    public var usedAt: Instant?

    public init(code: String, cardAccountID: CardAccountID, network: NetworkName, expiresAt: Instant, usedAt: Instant? = nil) {
        self.code = code
        self.cardAccountID = cardAccountID
        self.network = network
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// What a batch of network events is about to look up, so a store whose every read is a network
/// round trip (PostgreSQL) can fetch it all in a few queries first. A hint only: a store may
/// ignore it (SQLite reads in-process), and every read must still be right without it.
public struct BatchKeys: Sendable, Hashable {
    public var network: NetworkName
    /// The events' ids (their processed-event keys).
    public var eventIDs: [String] = []
    /// Purchases the events may name: a post's own, a repost's or delete's target.
    public var purchaseIDs: [PurchaseID] = []
    /// Posts that reposts and replies refer to (confirmation posts).
    public var referencedPostIDs: [String] = []
    /// Authors whose links a post may need.
    public var authorUserIDs: [String] = []
    /// Order references new purchases would take first.
    public var references: [String] = []
    /// Card accounts the batch reads (bulk linking checks each exists).
    public var cardAccountIDs: [CardAccountID] = []

    public init(network: NetworkName) {
        self.network = network
    }
}

/// Everything the engine reads and writes inside one store transaction. All of it commits
/// together or not at all: a state change, its ledger transfers and its outbox rows.
///
/// The SQLite and PostgreSQL stores implement it, and pass the same conformance suite.
public protocol StoreTransaction: LedgerStorage {
    /// Fetches ahead what a batch of events will read (see ``BatchKeys``).
    func prefetch(_ keys: BatchKeys) throws

    // Idempotency of inputs.
    /// Records the event as processed; `false` if it already was (a redelivery).
    func markEventProcessed(network: NetworkName, eventID: String, at: Instant) throws -> Bool
    /// When the network says `postID` was deleted, if Hashcart has seen its delete.
    func postDeletedAt(network: NetworkName, postID: String) throws -> Instant?
    /// Records a post's delete, at the time the network gives it (the first record stands).
    func recordDeletedPost(network: NetworkName, postID: String, at: Instant) throws
    /// Keeps a repost/reply of an official post Hashcart has not recorded yet (bounded).
    func parkEvent(_ event: NetworkEvent, at: Instant) throws
    /// Removes and returns events parked for `postID`.
    func takeParkedEvents(network: NetworkName, postID: String) throws -> [NetworkEvent]
    func cursor(network: NetworkName) throws -> String?
    func setCursor(network: NetworkName, cursor: String) throws

    // People and offers.
    func merchant(_ id: MerchantID) throws -> Merchant?
    func insertMerchant(_ merchant: Merchant) throws
    func cardAccount(_ id: CardAccountID) throws -> CardAccount?
    func insertCardAccount(_ account: CardAccount) throws
    /// A card account read from the database itself, never from a process's cache (another
    /// instance may have changed its limit or closed it), and held for this transaction's
    /// change of it (a row lock where the database has them). For changes to the account.
    func cardAccountForUpdate(_ id: CardAccountID) throws -> CardAccount?
    /// Writes a card account's limit and closing (the rest of it never changes).
    func updateCardAccount(_ account: CardAccount) throws
    /// Writes a merchant's name, rate and closing.
    func updateMerchant(_ merchant: Merchant) throws
    /// The card account's links that have not ended (at most 64).
    func activeLinks(cardAccountID: CardAccountID) throws -> [Link]
    /// Replaces a ledger account's flags (its totals change only through transfers).
    func setLedgerAccountFlags(_ id: LedgerAccountID, _ flags: LedgerAccountFlags) throws
    func activeLink(network: NetworkName, userID: String) throws -> Link?
    func activeLink(cardAccountID: CardAccountID, network: NetworkName) throws -> Link?
    func insertLink(_ link: Link) throws
    func endLink(_ id: LinkID, at: Instant) throws
    func insertLinkCode(_ code: LinkCode) throws
    func linkCode(_ code: String) throws -> LinkCode?
    func markLinkCodeUsed(_ code: String, at: Instant) throws
    func insertOAuthAuthorization(_ authorization: OAuthAuthorization) throws
    func oauthAuthorization(stateHash: String) throws -> OAuthAuthorization?
    /// Marks a sign-in used; false when another caller marked it first (it is used once).
    func markOAuthAuthorizationUsed(stateHash: String, at: Instant) throws -> Bool
    /// Deletes the card's sign-ins expired a day or more ago, then counts its unused, unexpired ones.
    func pendingOAuthAuthorizations(cardAccountID: CardAccountID, at now: Instant) throws -> Int
    /// The offer that owns a hashtag key now: any offer not ended.
    func offer(hashtagKey: String) throws -> Offer?
    /// The hashtag keys of offers not ended at `now`, at most `limit`, read inside the
    /// transaction (so an offer created concurrently is seen once its write commits).
    func openHashtagKeys(now: Instant, limit: Int) throws -> [String]
    func offer(_ id: OfferID) throws -> Offer?
    /// A merchant's offers that have not been ended (drafts, scheduled, live, paused), by id.
    func unendedOffers(merchant: MerchantID, limit: Int) throws -> [OfferID]
    func insertOffer(_ offer: Offer) throws
    func updateOffer(_ offer: Offer) throws
    /// Offers live at `now` (published, started, not ended, not sold out) that want announcing and
    /// have no announcement for `network` in the outbox yet, oldest first, at most `limit`.
    func offersToAnnounce(network: NetworkName, now: Instant, limit: Int) throws -> [Offer]
    /// The card accounts that bought from `merchant` most recently (whose shipping addresses it has
    /// seen), at most `limit`.
    func recentBuyers(merchant: MerchantID, limit: Int) throws -> [CardAccountID]

    // Card-linked offers.
    /// The card account whose card has this fingerprint.
    func cardAccount(fingerprint: CardFingerprint) throws -> CardAccount?
    func statementCreditLoad(offer: OfferID, card: CardAccountID) throws -> StatementCreditLoad?
    /// Records a load; `false` if the card already had the offer loaded.
    func insertStatementCreditLoad(_ load: StatementCreditLoad, network: NetworkName, postID: String) throws -> Bool
    /// The card's loads of offers not ended, newest first, at most `limit`.
    func statementCreditLoads(card: CardAccountID, limit: Int) throws -> [StatementCreditLoad]
    /// Whether a card transaction with this processing key was already recorded.
    func cardTransactionExists(_ id: CardTransactionID) throws -> Bool
    func insertCardTransaction(_ record: CardTransactionRecord) throws
    /// The purchases a reversal refers to: same card, same retrieval reference (at most `limit`).
    func cardPurchases(fingerprint: CardFingerprint, retrievalReference: String, limit: Int) throws -> [CardTransactionRecord]
    /// Reversals already recorded against the same card and retrieval reference (at most `limit`).
    func cardReversals(fingerprint: CardFingerprint, retrievalReference: String, limit: Int) throws -> [CardTransactionRecord]
    func statementCredit(_ id: StatementCreditID) throws -> StatementCredit?
    func statementCredits(transaction: CardTransactionID) throws -> [StatementCredit]
    func insertStatementCredit(_ credit: StatementCredit) throws
    func updateStatementCredit(_ credit: StatementCredit) throws

    // The issuer's switches.
    /// Whether the issuer's kill switch for everything is on (read once per transaction).
    func issuerKillSwitchIsOn() throws -> Bool
    func setIssuerKillSwitch(_ on: Bool, reason: String, at: Instant) throws
    /// The issuer's risk limits as set over the API, or nil (the engine's defaults apply); read once per transaction.
    func issuerRiskPolicy() throws -> RiskPolicy?
    func setIssuerRiskPolicy(_ policy: RiskPolicy, at: Instant) throws

    // Settlement.
    /// Claims `day` for settlement; `false` if it was already closed (by this or another instance).
    func closeSettlementDay(_ day: SettlementDay, batchCount: Int, at: Instant) throws -> Bool
    /// The latest day closed so far.
    func latestClosedSettlementDay() throws -> SettlementDay?
    /// When the earliest posted ledger transfer was made (where settlement starts on a new store).
    func earliestPostedTransferAt() throws -> Instant?
    /// The day's posted transfers that are merchants' money, summed by merchant and kind.
    func settlementMovements(day: SettlementDay) throws -> [SettlementMovement]
    /// Each merchant's deficit carried out of its latest batch before `day` (merchants with none are left out).
    func settlementCarries(merchants: [MerchantID], before day: SettlementDay) throws -> [MerchantID: Int64]
    func insertSettlementBatch(_ batch: SettlementBatch) throws
    /// Batches whose payout sits in clearing, oldest day first, at most `limit`.
    func settlementBatchesAwaitingPayout(limit: Int) throws -> [SettlementBatch]
    /// The payout accounts of these merchants (those without one are left out).
    func payoutAccounts(_ merchants: [MerchantID]) throws -> [MerchantID: PayoutAccount]
    /// Sets (or, with nil, removes) a merchant's payout account; `false` if there is no such merchant.
    func setPayoutAccount(_ account: PayoutAccount?, merchant: MerchantID) throws -> Bool
    /// How many payout files were created on `day` (the next file's modifier).
    func payoutFileCount(createdOn day: SettlementDay) throws -> Int
    func insertPayoutFile(_ file: PayoutFileRecord) throws
    func markSettlementBatchPaid(_ id: SettlementBatchID, fileID: String, traceNumber: String, at: Instant) throws

    // Purchases and orders.
    func purchase(_ id: PurchaseID) throws -> Purchase?
    func purchase(network: NetworkName, confirmationPostID: String) throws -> Purchase?
    func insertPurchase(_ purchase: Purchase) throws
    func updatePurchase(_ purchase: Purchase) throws
    func isReferenceTaken(_ reference: String) throws -> Bool
    func cardUsage(card: CardAccountID, offer: OfferID, now: Instant) throws -> CardUsage
    /// Purchases of `network` still holding a unit whose window (plus grace) has passed.
    func purchasesDueToExpire(before: Instant, network: NetworkName, limit: Int) throws -> [Purchase]
    /// Authorized purchases whose hold has lapsed.
    func purchasesWithLapsedHolds(before: Instant, limit: Int) throws -> [Purchase]
    /// The card's purchases on `network` not yet confirmed: holding units, or waiting in a waitlist.
    func pendingPurchases(cardAccountID: CardAccountID, network: NetworkName) throws -> [Purchase]
    /// The offer's waitlist in order (earliest post first), at most `limit`.
    func waitlist(offer: OfferID, limit: Int) throws -> [Purchase]
    /// How many purchases wait in the offer's waitlist, and when the last one joined.
    func waitlistLength(offer: OfferID) throws -> (count: Int64, lastJoinedAt: Instant?)
    /// Offers with a waitlist and free units, live and not stopped, at most `limit` (the timers give
    /// them turns the releases could not).
    func offersWithWaitlist(limit: Int) throws -> [OfferID]
    /// Waitlisted purchases of `network` whose line closed (their offer's end) before `before`.
    func waitlistedDueToClose(before: Instant, network: NetworkName, limit: Int) throws -> [Purchase]
    func order(_ id: OrderID) throws -> Order?
    func insertOrder(_ order: Order) throws
    func updateOrder(_ order: Order) throws

    // Effects.
    /// Adds a post to the outbox unless one with its key is already there.
    func enqueueOutbound(_ post: OutboundPost) throws
    func outbound(key: String) throws -> OutboundPost?
    /// Whether `postID` is one of the official account's announcements on `network`.
    func isAnnouncement(network: NetworkName, postID: String) throws -> Bool
    func updateOutbound(_ post: OutboundPost) throws
    func addMerchantEvent(_ event: MerchantEvent) throws
    func addCardholderNotification(_ notification: CardholderNotification) throws
    /// A line of the audit log, committed with the rest of this transaction.
    func addAuditEntry(_ entry: AuditEntry) throws
    func ensureLedgerAccount(_ account: LedgerAccount) throws

    // The funnel.
    /// Adds to an offer's funnel counter, in total and in the minute of `at` (for the time series).
    func incrementFunnel(offer: OfferID, metric: String, by: Int64, at: Instant) throws
    /// Records the author for the offer; `true` if new.
    func recordAuthor(offer: OfferID, identity: SocialIdentity) throws -> Bool
    /// Whether an invitation to link may go to this identity now (at most one a day); records it if so.
    func claimInvitation(network: NetworkName, userID: String, now: Instant) throws -> Bool
}

extension StoreTransaction {
    public func prefetch(_ keys: BatchKeys) throws {}

    public func isPostDeleted(network: NetworkName, postID: String) throws -> Bool {
        try postDeletedAt(network: network, postID: postID) != nil
    }
}

/// A store the engine can open transactions on.
public protocol EngineStore: CardFingerprinter {
    /// Runs `body` in one write transaction; commits if it returns, rolls back if it throws.
    ///
    /// The caller suspends while the transaction runs; `body` itself is synchronous and runs on
    /// the store's own writer (GRDB's writer queue on SQLite, the store's connection threads on
    /// PostgreSQL), never on Swift's cooperative pool. Keep it to the transaction's work: it
    /// holds the store's one writer while it runs.
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T
    /// Claims outbox rows due at `now`, oldest first, at most `limit`: each is leased to the
    /// caller for `leaseMilliseconds` (its next attempt moves to then), so an engine on another
    /// instance does not send it too. If the caller dies before recording the result, the lease
    /// runs out and any engine sends it again, with the same idempotency key.
    func claimDueOutbound(network: NetworkName, now: Instant, limit: Int, leaseMilliseconds: Int64) async throws -> [OutboundPost]
    /// What the engine on `network` wants from its connector now: the hashtags of offers not yet
    /// ended, and the authors of purchases still holding a unit (their deletions cancel).
    func connectorInterest(network: NetworkName, now: Instant) async throws -> ConnectorInterest
}
