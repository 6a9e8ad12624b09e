import Foundation
import HashcartCore

/// X's payloads as the engine's ``NetworkEvent``s: filtered-stream lines (API v2) and Account
/// Activity webhook bodies (v1.1 objects).
///
/// A retweet (`referenced_tweets` type `retweeted`, or v1.1 `retweeted_status`) is a repost of the
/// original; `replied_to` a reply; `quoted` a quote. The author is the stable user id; the handle
/// is `@username`. Hashtags are the entities X marked.
public struct XDecoder: Sendable {
    public let officialUserID: String
    /// The tag of the stream rule that matches retweets of the official account.
    public static let confirmationRuleTag = "hashcart:confirmations"
    public static let maximumLineBytes = 512 * 1024

    public init(officialUserID: String) {
        self.officialUserID = officialUserID
    }

    /// What one line of the filtered stream is.
    public enum StreamLine: Sendable {
        /// `\r\n`: the stream is alive.
        case keepAlive
        case event(NetworkEvent)
        /// X closes the stream with a problem object (operational disconnect…): reconnect.
        case disconnect(String)
    }

    public static let tweetIDLimit = 20

    /// An X username: 1–15 ASCII letters, digits or underscores.
    static func isUsername(_ name: String) -> Bool {
        (1...15).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    static func isID(_ id: String) -> Bool { (1...Self.tweetIDLimit).contains(id.utf8.count) && id.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }

    func refuse(_ message: String) -> WireFormatError { WireFormatError(network: .x, message: message) }

    public func streamLine(_ line: some DataProtocol) throws(WireFormatError) -> StreamLine {
        let bytes = Data(line)
        guard bytes.count <= Self.maximumLineBytes else { throw refuse("a stream line of \(bytes.count) bytes is over the \(Self.maximumLineBytes)-byte limit") }
        if bytes.allSatisfy({ $0 == 0x0D || $0 == 0x0A || $0 == 0x20 }) { return .keepAlive }
        let message: XAPI.StreamMessage
        do {
            message = try JSONDecoder().decode(XAPI.StreamMessage.self, from: bytes)
        } catch {
            throw refuse("malformed stream line: \(Wire.describe(error))")
        }
        guard let tweet = message.data else {
            if let problem = message.errors?.first {
                return .disconnect([problem.title, problem.disconnectType, problem.detail].compactMap { $0 }.joined(separator: ": "))
            }
            throw refuse("a stream line with neither data nor errors")
        }
        return .event(try event(for: tweet, includes: message.includes, rules: message.matchingRules ?? []))
    }

    public func event(for tweet: XAPI.Tweet, includes: XAPI.Includes?, rules: [XAPI.MatchingRule]) throws(WireFormatError) -> NetworkEvent {
        guard Self.isID(tweet.id) else { throw refuse("tweet id \"\(tweet.id.prefix(30))\" is not a number") }
        guard let authorID = tweet.authorID, Self.isID(authorID) else { throw refuse("tweet \(tweet.id) has no author_id (ask for tweet.fields=author_id)") }
        let username = includes?.users?.first { $0.id == authorID }?.username ?? authorID
        let createdAt = try time(tweet.createdAt, tweet: tweet.id)
        var kind = NetworkEventKind.post
        var referenced: String?
        var referencedAuthor: String?
        let references = tweet.referencedTweets ?? []
        if let retweeted = references.first(where: { $0.type == "retweeted" }) {
            kind = .repost
            referenced = retweeted.id
            referencedAuthor = includes?.tweets?.first { $0.id == retweeted.id }?.authorID
            if referencedAuthor == nil, rules.contains(where: { $0.tag == Self.confirmationRuleTag }) { referencedAuthor = officialUserID }
        } else if let parent = references.first(where: { $0.type == "replied_to" }) {
            kind = .reply
            referenced = parent.id
            referencedAuthor = tweet.inReplyToUserID ?? includes?.tweets?.first { $0.id == parent.id }?.authorID
        } else if let quoted = references.first(where: { $0.type == "quoted" }) {
            kind = .quote
            referenced = quoted.id
            referencedAuthor = includes?.tweets?.first { $0.id == quoted.id }?.authorID
        }
        if let referenced, !Self.isID(referenced) { throw refuse("referenced tweet id \"\(referenced.prefix(30))\" is not a number") }
        return try validated(NetworkEvent(
            network: .x, eventID: tweet.id, kind: kind, author: SocialIdentity(network: .x, userID: authorID, handle: "@" + username),
            // A long post carries its whole text and hashtags in note_tweet.
            text: kind == .repost ? "" : (tweet.noteTweet?.text ?? tweet.text),
            hashtags: (tweet.noteTweet?.entities?.hashtags ?? tweet.entities?.hashtags ?? []).prefix(NetworkEvent.maximumHashtags).map(\.tag),
            referencedPostID: referenced, referencedAuthorID: referencedAuthor, createdAt: createdAt))
    }

    /// An Account Activity webhook body: the tweets it carries (posts, replies, quotes and
    /// retweets by or to the subscribed user) and deletions; other activity is ignored.
    public func activity(_ body: some DataProtocol, receivedAt: Instant) throws(WireFormatError) -> [NetworkEvent] {
        let bytes = Data(body)
        guard bytes.count <= Self.maximumLineBytes * 4 else { throw refuse("a webhook body of \(bytes.count) bytes is over the limit") }
        let payload: XAPI.ActivityPayload
        do {
            payload = try JSONDecoder().decode(XAPI.ActivityPayload.self, from: bytes)
        } catch {
            throw refuse("malformed Account Activity body: \(Wire.describe(error))")
        }
        var events: [NetworkEvent] = []
        for tweet in (payload.tweetCreateEvents ?? []).prefix(1_000) { events.append(try event(for: tweet)) }
        for deletion in (payload.tweetDeleteEvents ?? []).prefix(1_000) {
            guard Self.isID(deletion.status.id), Self.isID(deletion.status.userID) else { throw refuse("a delete event with bad ids") }
            let at = deletion.timestampMs.flatMap { Int64($0) }.map { Instant(millisecondsSinceEpoch: $0) } ?? receivedAt
            events.append(try validated(NetworkEvent(
                network: .x, eventID: "delete:\(deletion.status.id)", kind: .delete,
                author: SocialIdentity(network: .x, userID: deletion.status.userID, handle: ""), referencedPostID: deletion.status.id,
                referencedAuthorID: deletion.status.userID, createdAt: at)))
        }
        return events
    }

    public func event(for tweet: XAPI.LegacyTweet) throws(WireFormatError) -> NetworkEvent {
        guard Self.isID(tweet.idStr), Self.isID(tweet.user.idStr) else { throw refuse("a v1.1 tweet with bad ids") }
        let author = SocialIdentity(network: .x, userID: tweet.user.idStr, handle: "@" + tweet.user.screenName)
        guard let createdAt = tweet.timestampMs.flatMap({ Int64($0) }).map({ Instant(millisecondsSinceEpoch: $0) })
            ?? (try? Self.legacyTime(tweet.createdAt))
        else { throw refuse("v1.1 tweet \(tweet.idStr) has neither timestamp_ms nor a readable created_at") }
        if let original = tweet.retweetedStatus {
            guard Self.isID(original.idStr) else { throw refuse("a retweet of a tweet with a bad id") }
            return try validated(NetworkEvent(network: .x, eventID: tweet.idStr, kind: .repost, author: author, referencedPostID: original.idStr,
                                              referencedAuthorID: original.user.idStr, createdAt: createdAt))
        }
        var kind = NetworkEventKind.post
        var referenced: String?
        var referencedAuthor: String?
        if let parent = tweet.inReplyToStatusIDStr {
            kind = .reply
            referenced = parent
            referencedAuthor = tweet.inReplyToUserIDStr
        } else if let quoted = tweet.quotedStatus {
            kind = .quote
            referenced = quoted.idStr
            referencedAuthor = quoted.user.idStr
        }
        return try validated(NetworkEvent(
            // A truncated tweet's hashtags may be only in extended_tweet (Account Activity delivers such tweets).
            network: .x, eventID: tweet.idStr, kind: kind, author: author,
            text: tweet.extendedTweet?.fullText ?? tweet.fullText ?? tweet.text ?? "",
            hashtags: (tweet.extendedTweet?.entities?.hashtags ?? tweet.entities?.hashtags ?? []).prefix(NetworkEvent.maximumHashtags).map(\.text),
            referencedPostID: referenced,
            referencedAuthorID: referencedAuthor, createdAt: createdAt))
    }

    func time(_ text: String?, tweet: String) throws(WireFormatError) -> Instant {
        guard let text, let instant = Timestamp.parse(text) else { throw refuse("tweet \(tweet) has no created_at (ask for tweet.fields=created_at)") }
        return instant
    }

    /// v1.1's `Mon Mar 26 16:33:26 +0000 2018`.
    static func legacyTime(_ text: String?) throws -> Instant {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = (text ?? "").split(separator: " ")
        guard parts.count == 6, let month = months.firstIndex(of: String(parts[1])), let day = Int(parts[2]), let year = Int(parts[5]),
            parts[4] == "+0000", let instant = Timestamp.parse(String(format: "%04d-%02d-%02dT%@Z", year, month + 1, day, String(parts[3])))
        else { throw WireFormatError(network: .x, message: "bad v1.1 created_at") }
        return instant
    }

    func validated(_ event: NetworkEvent) throws(WireFormatError) -> NetworkEvent {
        do {
            return try event.validated()
        } catch {
            throw refuse("event refused: \(error.description)")
        }
    }
}
