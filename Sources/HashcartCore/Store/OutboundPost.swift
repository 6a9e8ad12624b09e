/// Why Hashcart posts something.
public enum OutboundPurpose: String, Sendable, Hashable, Codable, CaseIterable {
    case confirmationRequest = "confirmation_request"
    case confirmed
    case declined
    case expired
    case lateRepost = "late_repost"
    case linkInvitation = "link_invitation"
    case linked
    case creditLoaded = "credit_loaded"
    /// The post joined a sold-out offer's waitlist.
    case waitlisted
    /// The offer ended before the waitlisted post's turn came.
    case waitlistClosed = "waitlist_closed"
    /// An offer's announcement, posted once per network when it goes live: a post of its own,
    /// not a reply (its `inReplyTo` is empty).
    case announcement
}

public enum OutboundState: String, Sendable, Hashable, Codable {
    case pending, sent, failed
}

/// A public reply waiting in the outbox, written in the same transaction as the change that
/// caused it. Its `key` is also the network idempotency key, so a retry never double-posts.
public struct OutboundPost: Sendable, Hashable, Codable {
    public var key: String
    public var network: NetworkName
    public var inReplyTo: String
    public var text: String
    public var purpose: OutboundPurpose
    public var purchaseID: PurchaseID?
    /// The cardholder it concerns, so its text can be checked against their data again later.
    public var cardAccountID: CardAccountID?
    public var state: OutboundState
    public var attempts: Int64
    public var nextAttemptAt: Instant
    public var lastError: String?
    public var postID: String?
    public var sentAt: Instant?
    public var createdAt: Instant

    /// Tries before a post is given up as failed.
    public static let maximumAttempts: Int64 = 12

    public init(key: String, network: NetworkName, inReplyTo: String, text: String, purpose: OutboundPurpose,
                purchaseID: PurchaseID?, cardAccountID: CardAccountID?, createdAt: Instant) {
        self.key = key
        self.network = network
        self.inReplyTo = inReplyTo
        self.text = text
        self.purpose = purpose
        self.purchaseID = purchaseID
        self.cardAccountID = cardAccountID
        self.state = .pending
        self.attempts = 0
        self.nextAttemptAt = createdAt
        self.createdAt = createdAt
    }

    /// Exponential backoff with jitter derived from the key (deterministic): 1 s, 2 s, 4 s … capped at 10 min.
    public static func retryDelayMilliseconds(afterAttempt attempt: Int64, key: String) -> Int64 {
        let base = Int64(1_000) << min(attempt, 10)
        let capped = min(base, 600_000)
        let jitter = Int64(FNV1a.hash(key) % UInt64(capped / 2 + 1))
        return capped / 2 + jitter
    }
}

/// What merchants are told about (delivered as signed webhooks by the server).
public enum MerchantEventType: String, Sendable, Hashable, Codable, CaseIterable {
    case orderCreated = "order.created"
    case orderShipped = "order.shipped"
    case orderCancelled = "order.cancelled"
    case orderRefunded = "order.refunded"
    case offerSoldOut = "offer.sold_out"
    case offerEnded = "offer.ended"
    /// A card-linked offer's credit was earned, clawed back by a reversal, or (its credit already
    /// spent) could not be clawed back and stands.
    case statementCreditEarned = "statement_credit.earned"
    case statementCreditReversed = "statement_credit.reversed"
    case statementCreditClawbackRefused = "statement_credit.clawback_refused"
    /// Sent on the merchant's request to one endpoint, to try its receiver.
    case webhookEndpointTest = "webhook_endpoint.test"
}

/// One event for a merchant, written in the same transaction as the change it reports.
public struct MerchantEvent: Sendable, Hashable, Codable {
    /// Derived from the cause (e.g. `evt_order.created_ord_…`), so a replay adds nothing.
    public var id: String
    public var merchantID: MerchantID
    public var type: MerchantEventType
    /// The order or offer it is about.
    public var objectID: String
    public var createdAt: Instant

    public init(merchantID: MerchantID, type: MerchantEventType, objectID: String, discriminator: String = "", createdAt: Instant) {
        self.id = "evt_\(type.rawValue)_\(objectID)\(discriminator.isEmpty ? "" : "_" + discriminator)"
        self.merchantID = merchantID
        self.type = type
        self.objectID = objectID
        self.createdAt = createdAt
    }
}

/// A private message to a cardholder: receipts and the exact reason for a decline.
public struct CardholderNotification: Sendable, Hashable, Codable {
    public var id: String
    public var cardAccountID: CardAccountID
    public var purchaseID: PurchaseID?
    public var kind: String
    public var message: String
    public var createdAt: Instant

    public init(id: String, cardAccountID: CardAccountID, purchaseID: PurchaseID?, kind: String, message: String, createdAt: Instant) {
        self.id = id
        self.cardAccountID = cardAccountID
        self.purchaseID = purchaseID
        self.kind = kind
        self.message = message
        self.createdAt = createdAt
    }
}

/// The counters of an offer's funnel (PRODUCT.md §5).
public enum FunnelMetric: String, Sendable, Hashable, Codable, CaseIterable {
    case posts
    case uniqueAuthors = "unique_authors"
    case linkedPosts = "linked_posts"
    case unlinkedPosts = "unlinked_posts"
    case quotes
    case confirmationsSent = "confirmations_sent"
    case confirmed
    case orders
    case expired
    case cancelled
    case lateReposts = "late_reposts"
    case foreignReposts = "foreign_reposts"
    case unitsSold = "units_sold"
    case revenue
    case tax
    /// Card-linked offers: loads by post, transactions that qualified, credits earned (count and
    /// minor units), credits clawed back by a reversal.
    case loads
    case qualifyingTransactions = "qualifying_transactions"
    case creditsEarned = "credits_earned"
    case creditTotal = "credit_total"
    case creditsReversed = "credits_reversed"
    /// Waitlists: posts that joined one, turns given (units freed and reserved for the next in
    /// line), and entries still waiting when the offer ended.
    case waitlisted
    case waitlistTurns = "waitlist_turns"
    case waitlistClosed = "waitlist_closed"
    /// What came back out of the sales (minor units, tax included): orders cancelled, the totals of
    /// those cancelled before capture (`sales_voided`: the hold released, nothing charged), and every
    /// refund, partial or on cancellation (`sales_refunded`). Net sales = revenue + tax − both.
    case ordersCancelled = "orders_cancelled"
    case salesVoided = "sales_voided"
    case salesRefunded = "sales_refunded"
    /// Declines are counted per reason as `declined.<reason>`.
    case declined
}
