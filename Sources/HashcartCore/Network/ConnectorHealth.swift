/// What a connector can say of its link to its network, for the operator's console and
/// `/metrics`: whether its streams are open, how often they had to reconnect, how many payloads it
/// refused, and how far behind the network the events it hands over are.
public struct ConnectorHealth: Sendable, Hashable, Codable {
    public var network: NetworkName
    /// Streams the connector keeps open now (Mastodon keeps one per hashtag, plus its mentions).
    public var streamsOpen: Int
    /// Streams it wants open: 0 for a connector that only answers calls (the sandbox, X by
    /// webhooks) or whose reader has not started yet.
    public var streamsWanted: Int
    /// Connections opened again after a stream's first (a drop, an idle timeout, the network
    /// closing it).
    public var reconnects: Int
    /// Payloads refused as malformed, truncated, oversize or of the wrong shape (the stream goes on).
    public var refused: Int
    /// Events handed to the engine (duplicates after a rewind not counted).
    public var events: Int
    /// When the newest event arrived; nil before any.
    public var lastEventAt: Instant?
    /// How long the newest event took to arrive after the network says it was made (ms); nil
    /// before any. Clocks differ: a negative difference counts as 0.
    public var lagMilliseconds: Int64?

    public init(network: NetworkName, streamsOpen: Int = 0, streamsWanted: Int = 0, reconnects: Int = 0, refused: Int = 0,
                events: Int = 0, lastEventAt: Instant? = nil, lagMilliseconds: Int64? = nil) {
        self.network = network
        self.streamsOpen = streamsOpen
        self.streamsWanted = streamsWanted
        self.reconnects = reconnects
        self.refused = refused
        self.events = events
        self.lastEventAt = lastEventAt
        self.lagMilliseconds = lagMilliseconds
    }

    /// Every stream it wants is open (a connector without streams is always connected).
    public var connected: Bool { streamsOpen >= streamsWanted }
}

/// The counters a streaming connector keeps for its ``ConnectorHealth`` (inside its own lock).
public struct StreamHealthCounters: Sendable, Hashable {
    public var open = 0
    /// Connections opened, in all.
    public var connections = 0
    /// Streams that have opened at least once (a stream's first connection is not a reconnect).
    public var streamsSeen = 0
    public var refused = 0
    public var events = 0
    public var lastEventAt: Instant?
    public var lagMilliseconds: Int64?

    public init() {}

    /// A stream's connection opened; `first` when that stream never had one before.
    public mutating func opened(first: Bool) {
        open += 1
        connections += 1
        if first { streamsSeen += 1 }
    }

    /// A stream's connection ended (it is retried by its reader).
    public mutating func closed() {
        precondition(open > 0, "a stream closes only after it opened")
        open -= 1
    }

    /// An event made at `createdAt` was handed over at `now`.
    public mutating func handed(createdAt: Instant, at now: Instant) {
        events += 1
        lastEventAt = now
        lagMilliseconds = max(0, createdAt.milliseconds(until: now))
    }

    public func health(network: NetworkName, wanted: Int) -> ConnectorHealth {
        ConnectorHealth(network: network, streamsOpen: open, streamsWanted: wanted, reconnects: max(0, connections - streamsSeen),
                        refused: refused, events: events, lastEventAt: lastEventAt, lagMilliseconds: lagMilliseconds)
    }
}
