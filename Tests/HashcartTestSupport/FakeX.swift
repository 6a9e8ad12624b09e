import Foundation
import HTTPTypes
import Hummingbird
import HashcartConnectors
import HashcartCore
import Synchronization

/// X API v2 on loopback, as documented: stream rules (list, add, delete), the filtered stream
/// (newline-delimited JSON, `\r\n` keep-alives, one connection per app: a new one ends the old),
/// recent search (`since_id`, `next_token`), and `POST /2/tweets`, which refuses a second post of
/// the same text by the same account as duplicate content, as X does. A small evaluator matches
/// posts to rules (`#tag`, `retweets_of:`, `@user`, `from:`, `in_reply_to_tweet_id:`, `-is:retweet`).
public final class FakeX: Sendable {
    public struct Tweet: Sendable {
        public var id: String
        public var authorID: String
        public var text: String
        public var hashtags: [String]
        public var retweetOf: String?
        public var inReplyTo: String?
        public var createdAt: Date
    }

    public struct Rule: Sendable {
        public var id: String
        public var value: String
        public var tag: String

        public init(id: String, value: String, tag: String) {
            self.id = id
            self.value = value
            self.tag = tag
        }
    }

    public static let appToken = "app-bearer-token-0123"
    public static let shopToken = "shop-user-token-0123"
    public static let users: [(id: String, username: String, token: String)] = [
        ("999", "ShopBot", shopToken), ("111", "alice", "alice-token"), ("222", "bob", "bob-token"),
    ]

    public let port = Mutex<Int?>(nil)
    public let tweets = Mutex<[String: Tweet]>([:])
    public let rules = Mutex<[Rule]>([])
    let streamLog = Mutex<[String]>([])
    let nextID = Mutex<UInt64>(1_830_000_000_000_000_000)
    let generation = Mutex<Int>(0)
    public let streamConnections = Mutex<[String]>([])
    public let searchQueries = Mutex<[String]>([])
    public let ruleCalls = Mutex<Int>(0)
    public let postCalls = Mutex<Int>(0)
    /// Lines sent raw to the next stream connection before anything else (garbage tests).
    public let injectedLines = Mutex<[String]>([])
    /// Bytes the next stream connection sends after its injected lines, before it ends at once
    /// (a connection cut in the middle of a line).
    public let cutNextStreamWith = Mutex<String?>(nil)
    /// Ends the next stream connection after this many posts.
    public let endNextStreamAfter = Mutex<Int?>(nil)
    /// Post the next reply but lose the answer (HTTP 503), as after a crash or a timeout.
    public let loseNextPostAnswer = Mutex<Bool>(false)

    /// "Sign in with X": `/i/oauth2/authorize`, `/2/oauth2/token`, `/2/oauth2/revoke`; its tokens read `/2/users/me`.
    public let oauth = FakeOAuthServer()

    public init() {}

    public var baseURL: String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)" }
    public var authorizeURL: String { baseURL + "/i/oauth2/authorize" }

    static func user(id: String) -> (id: String, username: String, token: String)? { users.first { $0.id == id } }
    static func user(token: String?) -> (id: String, username: String, token: String)? {
        guard let token, token.hasPrefix("Bearer ") else { return nil }
        return users.first { $0.token == String(token.dropFirst(7)) }
    }

    func newID() -> String {
        nextID.withLock {
            $0 += UInt64.random(in: 1...1_000) << 22
            return String($0)
        }
    }

    // MARK: Acting as users

    @discardableResult
    public func post(as userID: String, _ text: String, inReplyTo: String? = nil) -> String {
        let id = newID()
        var hashtags: [String] = []
        for word in text.split(whereSeparator: { $0.isWhitespace }) where word.hasPrefix("#") {
            let tag = word.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !tag.isEmpty { hashtags.append(String(tag)) }
        }
        add(Tweet(id: id, authorID: userID, text: text, hashtags: hashtags, retweetOf: nil, inReplyTo: inReplyTo, createdAt: Date()))
        return id
    }

    @discardableResult
    public func retweet(as userID: String, _ tweetID: String) -> String {
        let original = tweets.withLock { $0[tweetID] }!
        let author = Self.user(id: original.authorID)!
        let id = newID()
        add(Tweet(id: id, authorID: userID, text: "RT @\(author.username): \(original.text)".prefix(280).description, hashtags: [],
                  retweetOf: tweetID, inReplyTo: nil, createdAt: Date()))
        return id
    }

    public func replies(to tweetID: String) -> [Tweet] {
        tweets.withLock { $0.values.filter { $0.inReplyTo == tweetID }.sorted { $0.id < $1.id } }
    }

    func add(_ tweet: Tweet) {
        tweets.withLock { $0[tweet.id] = tweet }
        let matching = rules.withLock { $0.filter { self.matches(tweet, query: $0.value) } }
        guard !matching.isEmpty else { return }
        var line = streamObject(tweet)
        line["matching_rules"] = matching.map { ["id": $0.id, "tag": $0.tag] }
        streamLog.withLock { $0.append(Self.serialize(line)) }
    }

    // MARK: Rules

    /// Evaluates the operators Hashcart uses (space = AND).
    func matches(_ tweet: Tweet, query: String) -> Bool {
        // One `(a OR b …)` group: any alternative, and the rest of the query.
        if let open = query.firstIndex(of: "("), let close = query[open...].firstIndex(of: ")") {
            let alternatives = query[query.index(after: open)..<close].components(separatedBy: " OR ")
            let rest = (query[..<open] + query[query.index(after: close)...]).trimmingCharacters(in: .whitespaces)
            return alternatives.contains { matches(tweet, query: $0) } && (rest.isEmpty || matches(tweet, query: rest))
        }
        return query.split(separator: " ").allSatisfy { term in
            let negated = term.hasPrefix("-")
            let operatorText = negated ? term.dropFirst() : term[...]
            let result: Bool
            if operatorText == "is:retweet" {
                result = tweet.retweetOf != nil
            } else if operatorText == "is:reply" {
                result = tweet.inReplyTo != nil
            } else if operatorText.hasPrefix("#") {
                result = tweet.retweetOf == nil && tweet.hashtags.contains { $0.lowercased() == operatorText.dropFirst().lowercased() }
            } else if operatorText.hasPrefix("retweets_of:") {
                let username = operatorText.dropFirst("retweets_of:".count).lowercased()
                result = tweet.retweetOf.flatMap { id in tweets.withLock { $0[id] } }.flatMap { Self.user(id: $0.authorID) }?.username.lowercased() == username
            } else if operatorText.hasPrefix("@") {
                result = tweet.text.lowercased().contains(operatorText.lowercased())
            } else if operatorText.hasPrefix("from:") {
                result = Self.user(id: tweet.authorID)?.username.lowercased() == operatorText.dropFirst(5).lowercased()
            } else if operatorText.hasPrefix("in_reply_to_tweet_id:") {
                result = tweet.inReplyTo == String(operatorText.dropFirst("in_reply_to_tweet_id:".count))
            } else {
                result = tweet.text.lowercased().contains(operatorText.lowercased())
            }
            return negated ? !result : result
        }
    }

    // MARK: JSON

    func tweetObject(_ tweet: Tweet) -> [String: Any] {
        var object: [String: Any] = ["id": tweet.id, "text": tweet.text, "author_id": tweet.authorID,
                                     "created_at": Timestamp.format(Instant(millisecondsSinceEpoch: Int64(tweet.createdAt.timeIntervalSince1970 * 1_000))),
                                     "edit_history_tweet_ids": [tweet.id]]
        if !tweet.hashtags.isEmpty {
            object["entities"] = ["hashtags": tweet.hashtags.map { tag -> [String: Any] in
                let start = tweet.text.distance(from: tweet.text.startIndex, to: tweet.text.range(of: "#" + tag)!.lowerBound)
                return ["start": start, "end": start + 1 + tag.count, "tag": tag]
            }]
        }
        if let original = tweet.retweetOf { object["referenced_tweets"] = [["type": "retweeted", "id": original]] }
        if let parent = tweet.inReplyTo {
            object["referenced_tweets"] = [["type": "replied_to", "id": parent]]
            if let parentTweet = tweets.withLock({ $0[parent] }) { object["in_reply_to_user_id"] = parentTweet.authorID }
        }
        return object
    }

    func includes(for tweets: [Tweet]) -> [String: Any] {
        var users: [String: [String: String]] = [:]
        var referenced: [[String: Any]] = []
        for tweet in tweets {
            // X's User object always has id, name and username (tweepy insists on `name`).
            if let user = Self.user(id: tweet.authorID) { users[user.id] = ["id": user.id, "name": user.username.capitalized, "username": user.username] }
            for id in [tweet.retweetOf, tweet.inReplyTo].compactMap({ $0 }) {
                if let other = self.tweets.withLock({ $0[id] }) { referenced.append(tweetObject(other)) }
            }
        }
        return ["users": Array(users.values), "tweets": referenced]
    }

    func streamObject(_ tweet: Tweet) -> [String: Any] { ["data": tweetObject(tweet), "includes": includes(for: [tweet])] }

    static func serialize(_ object: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: serialize(object))))
    }

    static func problem(_ status: HTTPResponse.Status, _ title: String, _ detail: String) -> Response {
        json(["title": title, "detail": detail, "type": "about:blank", "status": status.code], status: status)
    }

    // MARK: Server

    public func start() async throws -> Task<Void, any Error> {
        let router = Router()
        router.get("/2/tweets/search/stream/rules") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.appToken)" else { return Self.problem(.unauthorized, "Unauthorized", "Unauthorized") }
            let current = self.rules.withLock { $0 }
            var body: [String: Any] = ["meta": ["sent": "2026-08-30T12:00:00.000Z", "result_count": current.count]]
            if !current.isEmpty { body["data"] = current.map { ["id": $0.id, "value": $0.value, "tag": $0.tag] } }
            return Self.json(body)
        }
        router.post("/2/tweets/search/stream/rules") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.appToken)" else { return Self.problem(.unauthorized, "Unauthorized", "Unauthorized") }
            self.ruleCalls.withLock { $0 += 1 }
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
                return Self.problem(.badRequest, "Invalid Request", "One or more parameters to your request was invalid.")
            }
            if let delete = (object["delete"] as? [String: Any])?["ids"] as? [String] {
                self.rules.withLock { $0.removeAll { delete.contains($0.id) } }
                return Self.json(["meta": ["sent": "2026-08-30T12:00:00.000Z", "summary": ["deleted": delete.count, "not_deleted": 0]]])
            }
            guard let add = object["add"] as? [[String: String]], add.allSatisfy({ !($0["value"] ?? "").isEmpty && ($0["value"] ?? "").count <= 1_024 }) else {
                return Self.problem(.badRequest, "Invalid Request", "One or more parameters to your request was invalid.")
            }
            let created = add.map { Rule(id: self.newID(), value: $0["value"]!, tag: $0["tag"] ?? "") }
            self.rules.withLock { $0 += created }
            return Self.json(["data": created.map { ["id": $0.id, "value": $0.value, "tag": $0.tag] },
                              "meta": ["sent": "2026-08-30T12:00:00.000Z", "summary": ["created": created.count, "not_created": 0, "valid": created.count, "invalid": 0]]],
                             status: .created)
        }
        router.get("/2/tweets/search/stream") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.appToken)" else { return Self.problem(.unauthorized, "Unauthorized", "Unauthorized") }
            self.streamConnections.withLock { $0.append(request.uri.query ?? "") }
            // One connection per app: this one ends the one before.
            let mine = self.generation.withLock { $0 += 1; return $0 }
            let injected = self.injectedLines.withLock { value -> [String] in defer { value = [] }; return value }
            let cut = self.cutNextStreamWith.withLock { value -> String? in defer { value = nil }; return value }
            let endAfter = self.endNextStreamAfter.withLock { value -> Int? in defer { value = nil }; return value }
            let start = self.streamLog.withLock { $0.count }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                for line in injected { try await writer.write(ByteBuffer(string: line + "\r\n")) }
                if let cut {
                    try await writer.write(ByteBuffer(string: cut))
                    try await writer.finish(nil)
                    return
                }
                var index = start, sent = 0, quiet = 0
                while !Task.isCancelled, self.generation.withLock({ $0 }) == mine {
                    let pending = self.streamLog.withLock { Array($0[min(index, $0.count)...]) }
                    index += pending.count
                    for line in pending {
                        if let endAfter, sent >= endAfter {
                            try await writer.finish(nil)
                            return
                        }
                        try await writer.write(ByteBuffer(string: line + "\r\n"))
                        sent += 1
                    }
                    if pending.isEmpty {
                        quiet += 1
                        if quiet % 10 == 0 { try await writer.write(ByteBuffer(string: "\r\n")) }  // keep-alive
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                try await writer.finish(nil)
            })
        }
        oauth.mount(on: router, authorize: "/i/oauth2/authorize", token: "/2/oauth2/token", revoke: "/2/oauth2/revoke") { Self.user(id: $0) != nil }
        router.get("/2/users/me") { request, _ -> Response in
            guard let user = Self.user(token: request.headers[.authorization]) ?? self.oauth.user(bearer: request.headers[.authorization]).flatMap(Self.user(id:))
            else { return Self.problem(.unauthorized, "Unauthorized", "Unauthorized") }
            return Self.json(["data": ["id": user.id, "name": user.username.capitalized, "username": user.username]])
        }
        router.post("/2/users/{id}/retweets") { request, context -> Response in
            guard let user = Self.user(token: request.headers[.authorization]), user.id == context.parameters.get("id") else {
                return Self.problem(.unauthorized, "Unauthorized", "Unauthorized")
            }
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let tweetID = object["tweet_id"] as? String, self.tweets.withLock({ $0[tweetID] }) != nil
            else { return Self.problem(.badRequest, "Invalid Request", "One or more parameters to your request was invalid.") }
            self.retweet(as: user.id, tweetID)
            return Self.json(["data": ["retweeted": true]])
        }
        router.get("/2/tweets/search/recent") { request, _ -> Response in
            // An app's Bearer token, or a user's (X accepts both for recent search).
            guard request.headers[.authorization] == "Bearer \(Self.appToken)" || Self.user(token: request.headers[.authorization]) != nil else {
                return Self.problem(.unauthorized, "Unauthorized", "Unauthorized")
            }
            let query = request.uri.queryParameters
            // Query strings encode spaces as `+` (requests, tweepy) or `%20` (Hashcart): both are spaces.
            guard let text = query.get("query")?.replacingOccurrences(of: "+", with: " "), !text.isEmpty else {
                return Self.problem(.badRequest, "Invalid Request", "query is required")
            }
            self.searchQueries.withLock { $0.append(request.uri.query ?? "") }
            let since = query.get("since_id").flatMap { UInt64($0) } ?? 0
            let offset = query.get("next_token").flatMap { Int($0) } ?? 0
            let limit = min(Int(query.get("max_results") ?? "") ?? 10, 100)
            let found = self.tweets.withLock { Array($0.values) }.filter { (UInt64($0.id) ?? 0) > since && self.matches($0, query: text) }
                .sorted { (UInt64($0.id) ?? 0) > (UInt64($1.id) ?? 0) }
            let page = Array(found.dropFirst(offset).prefix(limit))
            var meta: [String: Any] = ["result_count": page.count]
            if offset + limit < found.count { meta["next_token"] = String(offset + limit) }
            var body: [String: Any] = ["meta": meta]
            if !page.isEmpty {
                body["data"] = page.map(self.tweetObject)
                body["includes"] = self.includes(for: page)
            }
            return Self.json(body)
        }
        router.post("/2/tweets") { request, _ -> Response in
            self.postCalls.withLock { $0 += 1 }
            guard let user = Self.user(token: request.headers[.authorization]) else { return Self.problem(.unauthorized, "Unauthorized", "Unauthorized") }
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any], let text = object["text"] as? String,
                !text.isEmpty, text.count <= 280
            else { return Self.problem(.badRequest, "Invalid Request", "One or more parameters to your request was invalid.") }
            let parent = (object["reply"] as? [String: String])?["in_reply_to_tweet_id"]
            if let parent, self.tweets.withLock({ $0[parent] }) == nil {
                return Self.problem(.badRequest, "Invalid Request", "The Tweet you are replying to has been deleted or is not visible to you.")
            }
            if self.tweets.withLock({ $0.values.contains { $0.authorID == user.id && $0.text == text } }) {
                return Self.problem(.forbidden, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
            }
            let id = self.post(as: user.id, text, inReplyTo: parent)
            if self.loseNextPostAnswer.withLock({ value in defer { value = false }; return value }) {
                return Self.problem(.serviceUnavailable, "Service Unavailable", "Service Unavailable")
            }
            return Self.json(["data": ["id": id, "text": text, "edit_history_tweet_ids": [id]]], status: .created)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in self.port.withLock { $0 = channel.localAddress?.port } })
        let task = FakeServer.serve(app)
        for _ in 0..<200 where port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
        return task
    }
}
