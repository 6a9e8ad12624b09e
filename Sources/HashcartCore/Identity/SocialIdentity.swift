/// A social network Hashcart listens to, e.g. `sandbox`, `x`, `mastodon`, `bluesky`.
public struct NetworkName: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let sandbox: NetworkName = "sandbox"
    public static let x: NetworkName = "x"
    public static let mastodon: NetworkName = "mastodon"
    public static let bluesky: NetworkName = "bluesky"
}

/// A person's account on a network, known by the network's stable user id (a handle can change).
public struct SocialIdentity: Sendable, Hashable, Codable {
    public var network: NetworkName
    /// The network's stable id: X user id, Mastodon account URI, Bluesky DID, sandbox account id.
    public var userID: String
    /// The display handle at the time it was seen, e.g. `@alice`.
    public var handle: String

    public init(network: NetworkName, userID: String, handle: String) {
        self.network = network
        self.userID = userID
        self.handle = handle
    }

    /// Two identities are the same person on the network when network and stable id match.
    public func isSameAccount(as other: SocialIdentity) -> Bool {
        network == other.network && userID == other.userID
    }
}

/// A proven link between a social identity and a card account.
public struct Link: Sendable, Hashable, Codable {
    public var id: LinkID
    public var cardAccountID: CardAccountID
    public var identity: SocialIdentity
    /// When the link was made; a fresh link is a takeover signal for risk rules.
    public var createdAt: Instant
    public var unlinkedAt: Instant?

    public init(id: LinkID, cardAccountID: CardAccountID, identity: SocialIdentity, createdAt: Instant, unlinkedAt: Instant? = nil) {
        self.id = id
        self.cardAccountID = cardAccountID
        self.identity = identity
        self.createdAt = createdAt
        self.unlinkedAt = unlinkedAt
    }

    public var isActive: Bool { unlinkedAt == nil }

    /// Seconds since the link was made.
    public func ageSeconds(at now: Instant) -> Int64 {
        max(0, createdAt.milliseconds(until: now) / 1000)
    }
}
