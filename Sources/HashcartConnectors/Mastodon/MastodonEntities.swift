/// The parts of Mastodon's REST entities Hashcart reads (docs: entities/Account, Status, Tag,
/// Notification). Unknown fields are ignored; the fields read are type-checked.
public enum Mastodon {
    public struct Account: Decodable, Sendable, Hashable {
        public var id: String
        public var acct: String
        public var url: String?
        /// The ActivityPub id (Mastodon ≥ 4.2): the stable identity across servers.
        public var uri: String?

        /// The stable id Hashcart keys identities on: `uri`, else `url` (older servers).
        public var stableID: String? { uri ?? url }
    }

    public struct Tag: Decodable, Sendable, Hashable {
        public var name: String
    }

    public final class Status: Decodable, Sendable {
        public let id: String
        public let createdAt: String
        public let inReplyToID: String?
        public let inReplyToAccountID: String?
        public let visibility: String?
        public let content: String
        public let account: Account
        public let tags: [Tag]
        public let reblog: Status?
        public let quote: Quote?

        enum CodingKeys: String, CodingKey {
            case id, content, account, tags, reblog, visibility, quote
            case createdAt = "created_at"
            case inReplyToID = "in_reply_to_id"
            case inReplyToAccountID = "in_reply_to_account_id"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            createdAt = try container.decode(String.self, forKey: .createdAt)
            inReplyToID = try container.decodeIfPresent(String.self, forKey: .inReplyToID)
            inReplyToAccountID = try container.decodeIfPresent(String.self, forKey: .inReplyToAccountID)
            visibility = try container.decodeIfPresent(String.self, forKey: .visibility)
            content = try container.decodeIfPresent(String.self, forKey: .content) ?? ""
            account = try container.decode(Account.self, forKey: .account)
            tags = try container.decodeIfPresent([Tag].self, forKey: .tags) ?? []
            reblog = try container.decodeIfPresent(Status.self, forKey: .reblog)
            // Quotes (Mastodon 4.5) have had several shapes; an unreadable one is not a quote.
            quote = try? container.decodeIfPresent(Quote.self, forKey: .quote)
        }
    }

    /// Mastodon 4.5's quote: `{state, quoted_status}`.
    public struct Quote: Decodable, Sendable {
        public var quotedStatus: QuotedStatus?
        enum CodingKeys: String, CodingKey { case quotedStatus = "quoted_status" }
    }

    public struct QuotedStatus: Decodable, Sendable {
        public var id: String
        public var account: Account?
    }

    public struct Notification: Decodable, Sendable {
        public var id: String
        public var type: String
        public var createdAt: String
        public var account: Account
        public var status: Status?

        enum CodingKeys: String, CodingKey {
            case id, type, account, status
            case createdAt = "created_at"
        }
    }
}
