import Foundation
import HashcartCore

/// Turns Mastodon's streaming and REST payloads into the engine's ``NetworkEvent``s.
///
/// - A status from a hashtag stream or timeline: a post, a reply (`in_reply_to_id`), a quote, or —
///   when `reblog` is set — a repost of the original (someone boosting a purchase post).
/// - A `reblog` notification to the official account: a repost of its status (a confirmation).
/// - A `mention` notification: the status that mentions the official account (link codes,
///   replies to a confirmation).
///
/// Ids are the status ids of the official account's server; identities are account URIs (`acct`
/// changes with the server's view; the URI does not). The HTML `content` is reduced to text.
public struct MastodonDecoder: Sendable {
    public let officialAccountURI: String
    /// The official account's id on its server (replies name the account they answer by it).
    public var officialLocalID: String?

    public static let maximumPayloadBytes = 256 * 1024

    public init(officialAccountURI: String, officialLocalID: String? = nil) {
        self.officialAccountURI = officialAccountURI
        self.officialLocalID = officialLocalID
    }

    static func decode<T: Decodable>(_ type: T.Type, _ payload: String, what: String) throws(WireFormatError) -> T {
        guard payload.utf8.count <= maximumPayloadBytes else {
            throw WireFormatError(network: .mastodon, message: "a \(what) of \(payload.utf8.count) bytes is over the \(maximumPayloadBytes)-byte limit")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(payload.utf8))
        } catch {
            throw WireFormatError(network: .mastodon, message: "malformed \(what): \(Wire.describe(error))")
        }
    }

    /// A status (stream `update` payload, or a timeline item).
    public func status(_ payload: String) throws(WireFormatError) -> NetworkEvent {
        try event(for: try Self.decode(Mastodon.Status.self, payload, what: "status"))
    }

    /// A notification (stream `notification` payload, or from /api/v1/notifications); `nil` for
    /// types the engine has no use for (favourites, follows, polls, …).
    public func notification(_ payload: String) throws(WireFormatError) -> NetworkEvent? {
        try event(for: try Self.decode(Mastodon.Notification.self, payload, what: "notification"))
    }

    public func event(for notification: Mastodon.Notification) throws(WireFormatError) -> NetworkEvent? {
        switch notification.type {
        case "reblog":
            guard let status = notification.status else { throw refuse("a reblog notification without its status") }
            return try validated(NetworkEvent(
                network: .mastodon, eventID: "notification:\(notification.id)", kind: .repost,
                author: try identity(notification.account), referencedPostID: status.id,
                referencedAuthorID: status.account.stableID, createdAt: try time(notification.createdAt)))
        case "mention":
            guard let status = notification.status else { throw refuse("a mention notification without its status") }
            return try event(for: status)
        default:
            return nil
        }
    }

    public func event(for status: Mastodon.Status) throws(WireFormatError) -> NetworkEvent {
        let author = try identity(status.account)
        let createdAt = try time(status.createdAt)
        if let original = status.reblog {
            return try validated(NetworkEvent(
                network: .mastodon, eventID: status.id, kind: .repost, author: author, referencedPostID: original.id,
                referencedAuthorID: original.account.stableID, createdAt: createdAt))
        }
        var kind = NetworkEventKind.post
        var referenced: String?
        var referencedAuthor: String?
        if let parent = status.inReplyToID {
            kind = .reply
            referenced = parent
            if let officialLocalID, status.inReplyToAccountID == officialLocalID { referencedAuthor = officialAccountURI }
        } else if let quoted = status.quote?.quotedStatus {
            kind = .quote
            referenced = quoted.id
            referencedAuthor = quoted.account?.stableID
        }
        return try validated(NetworkEvent(
            network: .mastodon, eventID: status.id, kind: kind, author: author, text: MastodonHTML.text(status.content),
            hashtags: Array(status.tags.prefix(NetworkEvent.maximumHashtags).map(\.name)), referencedPostID: referenced,
            referencedAuthorID: referencedAuthor, createdAt: createdAt))
    }

    func identity(_ account: Mastodon.Account) throws(WireFormatError) -> SocialIdentity {
        guard let stable = account.stableID, stable.hasPrefix("https://") || stable.hasPrefix("http://") else {
            throw refuse("an account without a URI (account \(account.id.prefix(40)))")
        }
        return SocialIdentity(network: .mastodon, userID: stable, handle: "@" + account.acct)
    }

    func time(_ text: String) throws(WireFormatError) -> Instant {
        guard let instant = Timestamp.parse(text) else { throw refuse("created_at \"\(text.prefix(40))\" is not a timestamp") }
        return instant
    }

    func refuse(_ message: String) -> WireFormatError { WireFormatError(network: .mastodon, message: message) }

    func validated(_ event: NetworkEvent) throws(WireFormatError) -> NetworkEvent {
        do {
            return try event.validated()
        } catch {
            throw refuse("event refused: \(error.description)")
        }
    }
}
