import Foundation
import HashcartCore

/// Everything Hashcart keeps, behind one protocol with two implementations: ``SQLiteStore`` (the
/// embedded default, one process) and ``PostgresStore`` (several instances on one PostgreSQL
/// database). Both pass the same conformance suite: what holds on one holds on the other.
///
/// Calls are async: the caller suspends while the database works. The closures given to
/// ``EngineStore/write(_:)`` and ``read(_:)`` are synchronous and run on the store's own threads
/// (GRDB's writer and reader queues; the PostgreSQL store's connection threads), never on Swift's
/// cooperative pool, so a slow disk or a lock held elsewhere stalls no other task.
/// What webhook delivery needs of the store: schedule, claim and record attempts. ``HashcartDatabase``
/// provides it; the simulator wraps it to crash between a delivery and its record.
public protocol WebhookDeliveryStore: Sendable {
    /// Creates delivery rows for events that have none yet, for every endpoint of their merchant
    /// that existed when the event was recorded: by the events' order, not their timestamps, so a
    /// clock stepping back cannot hide an event. Returns how many rows it created (at most `limit` events).
    @discardableResult
    func scheduleWebhookDeliveries(now: Instant, limit: Int) async throws -> Int
    /// Claims deliveries due at `now`, oldest first, at most `limit`: each is leased to the caller
    /// for `leaseMilliseconds` (its next attempt moves to then), so another instance does not
    /// send it too; if the caller dies, the lease runs out and another instance takes it over.
    func claimDueWebhookDeliveries(now: Instant, limit: Int, leaseMilliseconds: Int64) async throws -> [WebhookDelivery]
    /// Records an attempt: delivered, or retried at `nextAttemptAt`, or failed for good when that is nil.
    func recordWebhookAttempt(eventID: String, endpointID: String, delivered: Bool, status: Int?, error: String?,
                              nextAttemptAt: Instant?, now: Instant) async throws
}

public protocol HashcartDatabase: EngineStore, WebhookDeliveryStore {
    /// Where the data lives, for logs and error messages (never includes a password).
    var location: String { get }

    /// Runs `body` on a consistent read-only snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T

    // MARK: Credentials
    /// Keeps a credential's hash (never the secret) for `ownerID`.
    func saveCredential(id: String, kind: CredentialKind, ownerID: String, secretHash: [UInt8], at: Instant) async throws
    /// Revokes a credential of `ownerID` at once; `false` if there is no such live credential.
    func revokeCredential(id: String, kind: CredentialKind, ownerID: String, at: Instant) async throws -> Bool
    /// The owner of an unrevoked credential with this hash, if any.
    func credentialOwner(kind: CredentialKind, secretHash: [UInt8]) async throws -> String?

    // MARK: Idempotency keys (Stripe's semantics)
    func claimIdempotency(scope: [UInt8], key: String, requestHash: [UInt8], now: Instant) async throws -> IdempotencyKeyClaim
    /// Records the first response to a claimed key; `nil` status forgets the key (the request may be retried).
    func finishIdempotency(scope: [UInt8], key: String, status: Int?, body: Data) async throws

    // MARK: Webhooks
    func createWebhookEndpoint(id: String, merchantID: MerchantID, url: String, secret: String, at: Instant) async throws -> WebhookEndpoint
    /// Sends a merchant's event again to every endpoint (it was failed, or the merchant lost it).
    func redeliverWebhook(eventID: String, merchantID: MerchantID, now: Instant) async throws -> Bool
    /// A merchant's endpoints, oldest first (never their secrets).
    func webhookEndpoints(merchantID: MerchantID) async throws -> [WebhookEndpointStatus]
    /// Disables (what was waiting for it is marked failed) or enables (from the next event on) one
    /// of the merchant's endpoints; nil when it has no such endpoint.
    func setWebhookEndpointDisabled(id: String, merchantID: MerchantID, disabled: Bool, at: Instant) async throws -> WebhookEndpointStatus?
    /// A new signing secret; the old one also signs until `previousExpiresAt`. Nil when there is no such endpoint.
    func rotateWebhookSecret(id: String, merchantID: MerchantID, newSecret: String, previousExpiresAt: Instant, at: Instant) async throws -> WebhookEndpointStatus?
    /// An endpoint's delivery log, newest first, at most `limit`; nil when the merchant has no such endpoint.
    func webhookDeliveryLog(endpointID: String, merchantID: MerchantID, limit: Int, startingAfter: String?) async throws -> [WebhookDeliveryRecord]?
    /// A `webhook_endpoint.test` event for one enabled endpoint only; false when there is none.
    func addTestWebhookEvent(endpointID: String, merchantID: MerchantID, eventID: String, at: Instant) async throws -> Bool
    /// A merchant's events, newest first, with how their deliveries stand.
    func merchantEvents(merchantID: MerchantID, limit: Int, startingAfter: String?) async throws -> [MerchantEventStatus]

    /// The credentials of `kind` an owner has (never their secrets), newest first, revoked ones included.
    func credentials(kind: CredentialKind, ownerID: String, limit: Int) async throws -> [CredentialRecord]

    /// Adds a dashboard user; false when the email is taken already (in this mode's store).
    func createDashboardUser(_ user: DashboardUser) async throws -> Bool
    /// The user who signs in with `email`, disabled or not.
    func dashboardUser(email: EmailAddress) async throws -> DashboardUser?
    /// Dashboard users, by email, at most `limit` (a merchant's only, when given).
    func dashboardUsers(merchantID: MerchantID?, limit: Int) async throws -> [DashboardUser]
    /// Starts a session; the user's expired sessions go, and the oldest beyond ``DashboardSession/maximumPerUser``.
    func createDashboardSession(_ session: DashboardSession) async throws
    /// The unexpired session with this token hash and its enabled user, or nil.
    func dashboardSession(tokenHash: [UInt8], now: Instant) async throws -> (session: DashboardSession, user: DashboardUser)?
    /// Ends one session; false when there was none.
    @discardableResult
    func deleteDashboardSession(tokenHash: [UInt8]) async throws -> Bool
    /// Ends every session of a user (sign-out everywhere); returns how many.
    @discardableResult
    func deleteDashboardSessions(userID: String) async throws -> Int

    /// Closes the store; it must not be used afterwards.
    ///
    /// Asynchronous: closing waits for reads and writes still in flight, and they may need
    /// Swift's cooperative threads to finish. A close that blocked one of those threads (GRDB's
    /// `DatabasePool.close()` waits on a barrier) could wait forever for a read whose end needs
    /// that very thread: with two cores, two closes at once hung the test suite.
    func close() async throws
}

extension WebhookDeliveryStore {
    @discardableResult
    public func scheduleWebhookDeliveries(now: Instant) async throws -> Int {
        try await scheduleWebhookDeliveries(now: now, limit: 1_000)
    }
}

/// Read-only queries over a consistent snapshot: reports, the funnel, and the audit behind
/// `hashcart check`.
public protocol StoreReader {
    func offers() throws -> [Offer]
    /// One offer, from a snapshot (no writer lock).
    func offer(_ id: OfferID) throws -> Offer?
    /// One merchant, from a snapshot (no writer lock).
    func merchant(_ id: MerchantID) throws -> Merchant?
    /// Merchants by name, at most `limit`: those whose name or id holds `search` (any case), or all.
    func merchants(search: String?, limit: Int, after: MerchantID?) throws -> [Merchant]
    /// Card accounts by id, at most `limit`: those whose id holds `search` (any case), or all.
    func cardAccounts(search: String?, limit: Int, after: CardAccountID?) throws -> [CardAccount]
    /// A merchant's offers, newest first, after `startingAfter` (an offer id), at most `limit`.
    func offers(merchantID: MerchantID, limit: Int, startingAfter: OfferID?) throws -> [Offer]
    /// A merchant's orders, newest first, optionally of one offer and one status.
    func orders(merchantID: MerchantID, offerID: OfferID?, status: OrderStatus?, limit: Int, startingAfter: OrderID?) throws -> [Order]
    func order(_ id: OrderID) throws -> Order?
    /// A merchant's order by its reference (as printed on receipts; exact spelling), or nil.
    func order(merchantID: MerchantID, reference: String) throws -> Order?
    func links(cardAccountID: CardAccountID) throws -> [Link]
    func link(_ id: LinkID) throws -> Link?
    /// A sign-in waiting or used, by its state's hash (the callback's read before it claims).
    func oauthAuthorization(stateHash: String) throws -> OAuthAuthorization?
    /// A cardholder's purchases, newest first, after `startingAfter` (a purchase id), at most `limit`.
    func purchases(cardAccountID: CardAccountID, limit: Int, startingAfter: PurchaseID?) throws -> [Purchase]
    /// Every funnel counter of an offer, by metric name (`declined.<reason>` per decline reason).
    func funnel(offer: OfferID) throws -> [String: Int64]
    /// An offer's funnel per minute: (unix minute, metric, value), oldest first, at most `limit` rows.
    func funnelSeries(offer: OfferID, limit: Int) throws -> [FunnelPoint]
    /// The funnel of every offer of a merchant summed over `[fromMinute, toMinute)` (unix minutes):
    /// (offer, metric, value), at most `limit` rows.
    func funnelTotals(merchantID: MerchantID, fromMinute: Int64, toMinute: Int64, limit: Int) throws -> [(offer: OfferID, metric: String, value: Int64)]
    /// Milliseconds from each purchase request to its confirmation, for an offer.
    /// The funnel counters `metrics` of a merchant's offers (or one offer of it) summed per bucket
    /// of `bucketMinutes` over `[fromMinute, toMinute)`: (bucket index from `fromMinute`, metric, value).
    /// What the dashboard's charts draw, from the per-minute rows, whatever the number of orders.
    func funnelBuckets(merchantID: MerchantID, offer: OfferID?, fromMinute: Int64, toMinute: Int64, bucketMinutes: Int64,
                       metrics: [String]) throws -> [(bucket: Int64, metric: String, value: Int64)]
    func timesToConfirm(offer: OfferID) throws -> [Int64]
    /// The audit log, newest first: every line, or a merchant's only; `before` a line's number to page.
    func auditLog(merchantID: MerchantID?, limit: Int, before: Int64?) throws -> [(seq: Int64, entry: AuditEntry)]
    func purchaseCounts(offer: OfferID) throws -> [PurchaseState: Int64]
    func purchase(_ id: PurchaseID) throws -> Purchase?
    /// Every purchase, oldest first, at most `limit`.
    func purchases(limit: Int) throws -> [Purchase]
    /// Every order, oldest first, at most `limit`.
    func orders(limit: Int) throws -> [Order]
    func ledgerAccounts() throws -> [LedgerAccount]
    func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount?
    func cardAccount(_ id: CardAccountID) throws -> CardAccount?
    func outboundPosts(limit: Int) throws -> [OutboundPost]
    func merchantEventCounts() throws -> [String: Int64]
    func notifications(cardAccountID: CardAccountID) throws -> [CardholderNotification]
    /// A cardholder's statement credits, newest first, at most `limit`.
    func statementCredits(cardAccountID: CardAccountID, limit: Int) throws -> [StatementCredit]
    /// The card-linked offers a card has loaded and that have not ended, newest load first.
    func statementCreditLoads(cardAccountID: CardAccountID, limit: Int) throws -> [StatementCreditLoad]
    func statementCredit(_ id: StatementCreditID) throws -> StatementCredit?
    /// The issuer's kill switch for everything: on or off, why, and when it last changed (nil: never set).
    func issuerKillSwitch() throws -> (on: Bool, reason: String, changedAt: Instant)?
    /// The issuer's risk limits as set over the API and when (nil: the engine's defaults apply).
    func issuerRiskPolicy() throws -> (policy: RiskPolicy, changedAt: Instant)?
    /// Settlement batches, newest day first, at most `limit`: one merchant's, or (nil) every merchant's.
    func settlementBatches(merchantID: MerchantID?, limit: Int, startingAfter: SettlementBatchID?) throws -> [SettlementBatch]
    func settlementBatch(_ id: SettlementBatchID) throws -> SettlementBatch?
    /// What may be shown of a merchant's payout account (never the account number), or nil.
    func payoutAccountSummary(merchantID: MerchantID) throws -> PayoutAccountSummary?
    func payoutFiles(limit: Int) throws -> [PayoutFileRecord]
    func payoutFile(_ id: String) throws -> PayoutFileRecord?
    /// Sales tax per state on captures and refunds made in [from, to).
    func salesTaxLiabilities(from: Instant, to: Instant) throws -> [SalesTaxLiability]
    /// Rows in one of the store's tables (`purchases`, `orders`, `ledger_transfers`, …).
    func count(_ table: String) throws -> Int64
    /// The latest moment the engine recorded in this store (an event processed, a ledger transfer,
    /// an order changed, a reply queued; settlement's transfers are not the engine's), nil for an empty store. The store's own clock: a store
    /// nobody has run since (the demo's, a restored backup) is judged as of its last moment.
    func latestRecordedAt() throws -> Instant?
    /// The store's schema as the database describes it: one `table.column` line per column and
    /// one `index name on table` line per index, sorted. Both stores give the same lines: their
    /// DDL comes from one definition (``StoreSchema``).
    func schemaOutline() throws -> [String]
    /// Every violation of PRODUCT.md's "Rules that are never broken" that the stored data shows.
    /// At most `limit` are returned per rule. With `holdsExpiredBefore`, a hold (pending transfer)
    /// still pending although its timeout is before that time is a violation too: the engine
    /// should have expired it (the operator's reconciler passes now less a grace).
    func audit(limit: Int, holdsExpiredBefore: Instant?) throws -> [InvariantViolation]
}

extension StoreReader {
    public func funnelSeries(offer: OfferID) throws -> [FunnelPoint] { try funnelSeries(offer: offer, limit: 100_000) }
    public func purchases() throws -> [Purchase] { try purchases(limit: 10_000) }
    public func orders() throws -> [Order] { try orders(limit: 10_000) }
    public func outboundPosts() throws -> [OutboundPost] { try outboundPosts(limit: 100_000) }
    public func audit() throws -> [InvariantViolation] { try audit(limit: 100, holdsExpiredBefore: nil) }
    public func audit(limit: Int) throws -> [InvariantViolation] { try audit(limit: limit, holdsExpiredBefore: nil) }
}

/// One minute of one funnel metric.
/// A merchant API key or cardholder token as listed: its id and dates, never its secret.
public struct CredentialRecord: Sendable, Hashable {
    public var id: String
    public var createdAt: Instant
    public var revokedAt: Instant?

    public init(id: String, createdAt: Instant, revokedAt: Instant?) {
        self.id = id
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

public struct FunnelPoint: Sendable, Hashable {
    /// Unix minutes.
    public var minute: Int64
    public var metric: String
    public var value: Int64
}

/// What a credential lets its holder act as.
public enum CredentialKind: String, Sendable {
    case merchantAPIKey = "merchant_api_key"
    case cardholderToken = "cardholder_token"
}

/// What the store knows of an idempotency key.
public enum IdempotencyKeyClaim: Sendable, Equatable {
    /// The key is new (or its first request was abandoned): run the request, then `finishIdempotency`.
    case claimed
    /// The first request with this key is still running.
    case inFlight
    /// The same key was used with a different request.
    case mismatch
    /// The first response, to send again.
    case replay(status: Int, body: Data)

    /// The replay of a stored response, opened with the store's key. Responses are kept sealed
    /// (AES-256-GCM, bound to scope and key): one that does not open — stored before responses
    /// were sealed, or moved — is never sent; the key counts as used (`mismatch`, a 422), so the
    /// request is not run twice either.
    static func replay(status: Int, sealed: Data, scope: [UInt8], key: String, cipher: AddressCipher) throws -> IdempotencyKeyClaim {
        guard let body = try? cipher.open(sealed, context: AddressCipher.idempotencyContext(scope: scope, key: key)) else { return .mismatch }
        return .replay(status: status, body: body)
    }
}

/// Rules both stores share.
public enum StoreLimits {
    /// How long an idempotency key is kept (Stripe keeps 24 h; Hashcart keeps 48 h).
    public static let idempotencyRetentionMilliseconds: Int64 = 48 * 3_600_000
    /// An unfinished first request older than this is taken as abandoned (a crash mid-request).
    public static let idempotencyAbandonMilliseconds: Int64 = 60_000
    public static let maximumEndpointsPerMerchant = 16
    /// Most events parked at once; the oldest is dropped beyond it.
    public static let maximumParkedEvents = 100_000
    /// Most purchases one card can have waiting on one network (velocity limits keep it far lower).
    public static let maximumPendingPurchasesPerCard = 100_000
}

/// A merchant's webhook endpoint.
public struct WebhookEndpoint: Sendable, Hashable {
    public var id: String
    public var merchantID: MerchantID
    public var url: String
    public var createdAt: Instant
}

/// One event's delivery to one endpoint, as the log keeps it (never the body the endpoint answered).
public struct WebhookDeliveryRecord: Sendable, Hashable {
    public var eventID: String
    public var type: String
    /// `pending`, `delivered` or `failed`.
    public var state: String
    public var attempts: Int64
    public var lastStatus: Int64?
    public var lastError: String?
    public var deliveredAt: Instant?
    public var createdAt: Instant
    /// When the next attempt is due (pending only).
    public var nextAttemptAt: Instant?
}

/// An endpoint and how it stands.
public struct WebhookEndpointStatus: Sendable, Hashable {
    public var endpoint: WebhookEndpoint
    public var disabledAt: Instant?
    /// Until when the secret before the last rotation also signs.
    public var previousSecretExpiresAt: Instant?

    public var isDisabled: Bool { disabledAt != nil }
}

/// One event to deliver to one endpoint.
public struct WebhookDelivery: Sendable, Hashable {
    public var event: MerchantEvent
    public var endpoint: WebhookEndpoint
    /// The endpoint's signing secret (unsealed for signing only).
    public var secret: String
    public var attempts: Int64
    /// The secret before the last rotation, which also signs until it expires.
    public var previousSecret: String? = nil
    public var previousSecretExpiresAt: Instant? = nil
}

/// A merchant event and how its deliveries stand.
public struct MerchantEventStatus: Sendable, Hashable {
    public var event: MerchantEvent
    /// `pending`, `delivered`, `failed`, or `none` when the merchant has no endpoint.
    public var delivery: String
    public var attempts: Int64
}
