/// What happened on a network, normalized so the engine treats every network alike.
public enum NetworkEventKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// An original post.
    case post
    /// A reply to another post (`referencedPostID`).
    case reply
    /// A repost (retweet, boost) of `referencedPostID`.
    case repost
    /// A quote of `referencedPostID` with text of its own. Never buys.
    case quote
    /// The author deleted `referencedPostID` (or undid a repost).
    case delete
}

/// One event from a network. Networks deliver at least once, in any order: the engine keys each
/// event on (network, eventID) and makes processing it twice a no-op.
public struct NetworkEvent: Sendable, Hashable, Codable {
    public var network: NetworkName
    /// The network's id for this event; for posts, replies, reposts and quotes, the new post's id.
    public var eventID: String
    public var kind: NetworkEventKind
    public var author: SocialIdentity
    /// The post's text (posts, replies, quotes).
    public var text: String
    /// Hashtags as the network marks them (facets, entities), without `#`; merged with tags found in `text`.
    public var hashtags: [String]
    /// The post replied to, reposted, quoted or deleted.
    public var referencedPostID: String?
    /// The stable id of that post's author, when the network says (used to tell the official account's posts).
    public var referencedAuthorID: String?
    /// When the network says it happened.
    public var createdAt: Instant

    /// Bounds on outside input: longer fields are refused by ``validated()``.
    public static let maximumTextLength = 5_000
    public static let maximumIDLength = 512
    public static let maximumHashtags = 50

    public init(network: NetworkName, eventID: String, kind: NetworkEventKind, author: SocialIdentity, text: String = "",
                hashtags: [String] = [], referencedPostID: String? = nil, referencedAuthorID: String? = nil, createdAt: Instant) {
        self.network = network
        self.eventID = eventID
        self.kind = kind
        self.author = author
        self.text = text
        self.hashtags = hashtags
        self.referencedPostID = referencedPostID
        self.referencedAuthorID = referencedAuthorID
        self.createdAt = createdAt
    }

    /// The post this event is about: the new post, or for a delete the deleted one.
    public var postID: String { kind == .delete ? (referencedPostID ?? eventID) : eventID }

    /// Refuses an event a connector should never have produced, with a clear reason.
    public func validated() throws(ValidationError) -> NetworkEvent {
        func id(_ value: String, _ field: String) throws(ValidationError) {
            // Every network's ids (numbers, URIs, DIDs) are printable ASCII.
            guard !value.isEmpty, value.utf8.count <= Self.maximumIDLength, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw ValidationError(field: field, message: "must be 1 to \(Self.maximumIDLength) printable ASCII characters without spaces")
            }
        }
        try id(network.rawValue, "network")
        try id(eventID, "event_id")
        try id(author.userID, "author.user_id")
        try Validate.text(author.handle, field: "author.handle", maxLength: 256, allowEmpty: true)
        guard text.utf8.count <= Self.maximumTextLength * 4, text.count <= Self.maximumTextLength else {
            throw ValidationError(field: "text", message: "must be at most \(Self.maximumTextLength) characters")
        }
        guard hashtags.count <= Self.maximumHashtags else {
            throw ValidationError(field: "hashtags", message: "at most \(Self.maximumHashtags) hashtags")
        }
        guard hashtags.allSatisfy({ $0.count <= Hashtag.maximumLength + 1 }) else {
            throw ValidationError(field: "hashtags", message: "each hashtag must be at most \(Hashtag.maximumLength) characters")
        }
        switch kind {
        case .reply, .repost, .quote, .delete:
            guard let referencedPostID else {
                throw ValidationError(field: "referenced_post_id", message: "a \(kind.rawValue) must name the post it refers to")
            }
            try id(referencedPostID, "referenced_post_id")
        case .post:
            break
        }
        if let referencedAuthorID { try id(referencedAuthorID, "referenced_author_id") }
        return self
    }

    /// Every hashtag of the event, normalized and de-duplicated, in order.
    public var normalizedHashtags: [Hashtag] {
        var seen = Set<String>()
        var result: [Hashtag] = []
        for tag in hashtags.prefix(Self.maximumHashtags).compactMap({ try? Hashtag($0) }) + Hashtag.extract(from: text)
        where seen.insert(tag.key).inserted {
            result.append(tag)
        }
        return result
    }
}
