/// The parts of X API v2 (filtered stream, rules, posts) and of the v1.1 objects the Account
/// Activity API still delivers, that Hashcart reads. Unknown fields are ignored.
public enum XAPI {
    public struct ReferencedTweet: Decodable, Sendable, Hashable {
        public var type: String
        public var id: String
    }

    public struct Hashtag: Decodable, Sendable, Hashable {
        public var tag: String
    }

    public struct Entities: Decodable, Sendable, Hashable {
        public var hashtags: [Hashtag]?
    }

    public struct Tweet: Decodable, Sendable, Hashable {
        public var id: String
        public var text: String
        public var authorID: String?
        public var createdAt: String?
        public var entities: Entities?
        public var referencedTweets: [ReferencedTweet]?
        public var inReplyToUserID: String?
        /// A long post's whole text and its hashtags, where `text` and `entities` are cut short.
        public var noteTweet: NoteTweet?

        enum CodingKeys: String, CodingKey {
            case id, text, entities
            case noteTweet = "note_tweet"
            case authorID = "author_id"
            case createdAt = "created_at"
            case referencedTweets = "referenced_tweets"
            case inReplyToUserID = "in_reply_to_user_id"
        }
    }

    public struct User: Decodable, Sendable, Hashable {
        public var id: String
        public var username: String
    }

    public struct Includes: Decodable, Sendable, Hashable {
        public var users: [User]?
        public var tweets: [Tweet]?
    }

    /// A stream rule that matched. Hashcart reads only the tag; the id is kept as text whether X
    /// sends it as a string or a number, and anything else in either field never refuses the line.
    public struct MatchingRule: Decodable, Sendable, Hashable {
        public var id: String?
        public var tag: String?

        enum CodingKeys: String, CodingKey { case id, tag }

        public init(id: String?, tag: String?) {
            self.id = id
            self.tag = tag
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = (try? container.decodeIfPresent(String.self, forKey: .id))
                ?? (try? container.decodeIfPresent(UInt64.self, forKey: .id)).flatMap { $0.map(String.init) }
            tag = try? container.decodeIfPresent(String.self, forKey: .tag)
        }
    }

    /// The full text and entities of a long post (v2 `note_tweet`).
    public struct NoteTweet: Decodable, Sendable, Hashable {
        public var text: String?
        public var entities: Entities?
    }

    public struct Problem: Decodable, Sendable, Hashable {
        public var title: String?
        public var detail: String?
        public var type: String?
        public var disconnectType: String?

        enum CodingKeys: String, CodingKey {
            case title, detail, type
            case disconnectType = "disconnect_type"
        }
    }

    /// One line of the filtered stream.
    public struct StreamMessage: Decodable, Sendable {
        public var data: Tweet?
        public var includes: Includes?
        public var matchingRules: [MatchingRule]?
        public var errors: [Problem]?

        enum CodingKeys: String, CodingKey {
            case data, includes, errors
            case matchingRules = "matching_rules"
        }
    }

    public struct Rule: Codable, Sendable, Hashable {
        public var id: String?
        public var value: String
        public var tag: String?

        public init(id: String? = nil, value: String, tag: String?) {
            self.id = id
            self.value = value
            self.tag = tag
        }
    }

    // MARK: v1.1 (Account Activity API)

    public struct LegacyUser: Decodable, Sendable, Hashable {
        public var idStr: String
        public var screenName: String

        enum CodingKeys: String, CodingKey {
            case idStr = "id_str"
            case screenName = "screen_name"
        }
    }

    public struct LegacyHashtag: Decodable, Sendable, Hashable {
        public var text: String
    }

    public struct LegacyEntities: Decodable, Sendable, Hashable {
        public var hashtags: [LegacyHashtag]?
    }

    /// The rest of a v1.1 tweet cut at 140 characters (`"truncated": true`): its whole text and entities.
    public struct LegacyExtendedTweet: Decodable, Sendable, Hashable {
        public var fullText: String?
        public var entities: LegacyEntities?

        enum CodingKeys: String, CodingKey {
            case entities
            case fullText = "full_text"
        }
    }

    public final class LegacyTweet: Decodable, Sendable {
        public let idStr: String
        public let text: String?
        public let fullText: String?
        public let createdAt: String?
        public let timestampMs: String?
        public let user: LegacyUser
        public let entities: LegacyEntities?
        public let retweetedStatus: LegacyTweet?
        public let quotedStatus: LegacyTweet?
        public let inReplyToStatusIDStr: String?
        public let inReplyToUserIDStr: String?
        public let isQuoteStatus: Bool?
        public let truncated: Bool?
        public let extendedTweet: LegacyExtendedTweet?

        enum CodingKeys: String, CodingKey {
            case text, user, entities, truncated
            case extendedTweet = "extended_tweet"
            case idStr = "id_str"
            case fullText = "full_text"
            case createdAt = "created_at"
            case timestampMs = "timestamp_ms"
            case retweetedStatus = "retweeted_status"
            case quotedStatus = "quoted_status"
            case inReplyToStatusIDStr = "in_reply_to_status_id_str"
            case inReplyToUserIDStr = "in_reply_to_user_id_str"
            case isQuoteStatus = "is_quote_status"
        }
    }

    public struct ActivityPayload: Decodable, Sendable {
        public var forUserID: String?
        public var tweetCreateEvents: [LegacyTweet]?
        public var tweetDeleteEvents: [DeleteEvent]?

        enum CodingKeys: String, CodingKey {
            case forUserID = "for_user_id"
            case tweetCreateEvents = "tweet_create_events"
            case tweetDeleteEvents = "tweet_delete_events"
        }
    }

    public struct DeleteEvent: Decodable, Sendable {
        public struct Status: Decodable, Sendable {
            public var id: String
            public var userID: String
            enum CodingKeys: String, CodingKey {
                case id
                case userID = "user_id"
            }
        }
        public var status: Status
        public var timestampMs: String?
        enum CodingKeys: String, CodingKey {
            case status
            case timestampMs = "timestamp_ms"
        }
    }
}
