/// A post the connector made on the network.
public struct PostedReply: Sendable, Hashable, Codable {
    public var postID: String
    public var createdAt: Instant

    public init(postID: String, createdAt: Instant) {
        self.postID = postID
        self.createdAt = createdAt
    }
}

/// A page of events and where to resume after them.
public struct EventPage: Sendable, Hashable {
    public var events: [NetworkEvent]
    /// The cursor to store once these events are committed.
    public var nextCursor: String?

    public init(events: [NetworkEvent], nextCursor: String?) {
        self.events = events
        self.nextCursor = nextCursor
    }
}

/// Why a connector could not do what was asked.
public struct ConnectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var network: NetworkName
    public var message: String
    /// Whether trying again later can succeed (network down, rate limit) or not (post gone).
    public var isRetryable: Bool

    public init(network: NetworkName, message: String, isRetryable: Bool) {
        self.network = network
        self.message = message
        self.isRetryable = isRetryable
    }

    public var description: String { "\(network): \(message)" }
}

/// One social network as the engine sees it: events in, replies out.
public protocol NetworkConnector: Sendable {
    var network: NetworkName { get }
    /// The stable id of the issuer's official account on this network.
    var officialAccountID: String { get }
    /// Events after `cursor` (from the start when `nil`), at most `limit`.
    func events(after cursor: String?, limit: Int) async throws -> EventPage
    /// Replies to `postID` from the official account. The same `idempotencyKey` never posts twice:
    /// a retry returns the post made the first time.
    func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply
    /// Posts `text` from the official account as a post of its own (an offer's announcement),
    /// public. The same `idempotencyKey` never posts twice.
    func announce(text: String, idempotencyKey: String) async throws -> PostedReply
    /// What the engine wants now; a connector filters its stream and keeps its subscriptions by it.
    /// Called before every poll; connectors that deliver everything (the sandbox) ignore it.
    func updateInterest(_ interest: ConnectorInterest) async
    /// The state of its link to the network, now (cheap: counters under a lock).
    func health() -> ConnectorHealth
}

extension NetworkConnector {
    public func updateInterest(_ interest: ConnectorInterest) async {}
    /// A connector that only answers calls has no stream to be down.
    public func health() -> ConnectorHealth { ConnectorHealth(network: network) }
}
