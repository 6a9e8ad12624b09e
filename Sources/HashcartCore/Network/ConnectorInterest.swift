/// What the engine wants from a network right now, so a connector can drop the rest at the edge
/// (a Bluesky firehose carries hundreds of posts a second; a handful matter) and keep its
/// subscriptions (X stream rules, Mastodon hashtag streams) in step with the offers.
public struct ConnectorInterest: Sendable, Hashable {
    /// Normalized keys (``Hashtag/key``) of the offers that are live or about to be.
    public var hashtagKeys: Set<String>
    /// Stable ids of authors whose deletions matter: authors of purchases still open.
    public var watchedAuthorIDs: Set<String>

    /// Bounds: more live offers or open purchases than this are not tracked at the edge.
    public static let maximumHashtags = 10_000
    public static let maximumWatchedAuthors = 1_000_000

    public init(hashtagKeys: Set<String> = [], watchedAuthorIDs: Set<String> = []) {
        precondition(hashtagKeys.count <= Self.maximumHashtags, "interest in at most \(Self.maximumHashtags) hashtags")
        precondition(watchedAuthorIDs.count <= Self.maximumWatchedAuthors, "at most \(Self.maximumWatchedAuthors) watched authors")
        self.hashtagKeys = hashtagKeys
        self.watchedAuthorIDs = watchedAuthorIDs
    }
}
