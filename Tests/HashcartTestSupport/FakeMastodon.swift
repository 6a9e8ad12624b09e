import Foundation
import HTTPTypes
import Hummingbird
import HashcartConnectors
import HashcartCore
import Synchronization

/// A Mastodon server on loopback, speaking the documented API: REST (verify_credentials,
/// statuses, reblog, delete, hashtag timelines, notifications with `min_id`, instance) and the
/// streaming API over Server-Sent Events (`hashtag`, `user`, `user/notification`, heartbeats).
/// Statuses get tags and HTML content as Mastodon renders them; `@acct` in a status notifies that
/// account (a `mention`); a boost notifies the author (a `reblog`). Streams are live only, as
/// Mastodon's are. Faults on demand: end the next stream after N events, answer the next post 429.
public final class FakeMastodon: Sendable {
    public struct Account: Sendable {
        public var id: String
        public var username: String
        public var token: String
    }

    public struct Status: Sendable {
        public var id: String
        public var accountID: String
        public var text: String
        public var tags: [String]
        public var inReplyToID: String?
        public var visibility: String
        public var reblogOf: String?
        public var createdAt: Date
        public var deleted = false
    }

    struct Notification: Sendable {
        var id: String
        var type: String
        var fromAccountID: String
        var toAccountID: String
        var statusID: String
    }

    public static let shop = Account(id: "100", username: "shop", token: "token-shop-0123456789")
    public static let alice = Account(id: "200", username: "alice", token: "token-alice-0123456789")
    public static let bob = Account(id: "300", username: "bob", token: "token-bob-0123456789")
    static let accounts = [shop, alice, bob]

    public let port = Mutex<Int?>(nil)
    public let statuses = Mutex<[String: Status]>([:])
    let notifications = Mutex<[Notification]>([])
    /// (stream, event, data) in order; a stream is `tag:<lowercased tag>` or `notifications:<account id>`.
    public let log = Mutex<[(String, String, String)]>([])
    let nextID = Mutex<Int64>(110_000_000_000_000_000)
    let idempotency = Mutex<[String: String]>([:])
    /// Every streaming connection: its path and query.
    public let streamConnections = Mutex<[String]>([])
    /// Every backfill call's query (`min_id`…), by path.
    public let restCalls = Mutex<[String]>([])
    public let postCalls = Mutex<Int>(0)
    /// Ends the next hashtag stream after this many events.
    public let endNextStreamAfter = Mutex<Int?>(nil)
    public let rateLimitNextPost = Mutex<Bool>(false)
    /// Raw SSE frames to send to every stream before its events (garbage tests).
    public let injectedFrames = Mutex<[String]>([])

    /// The server's OAuth: `/oauth/authorize`, `/oauth/token`, `/oauth/revoke`; its tokens read verify_credentials.
    public let oauth = FakeOAuthServer()

    public init() {}

    public var baseURL: String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)" }
    public func accountURI(_ account: Account) -> String { "\(baseURL)/users/\(account.username)" }

    func newID() -> String { nextID.withLock { $0 += 1_000; return String($0) } }

    static func account(token: String?) -> Account? {
        guard let token else { return nil }
        let bare = token.hasPrefix("Bearer ") ? String(token.dropFirst(7)) : token
        return accounts.first { $0.token == bare }
    }

    static func account(id: String) -> Account? { accounts.first { $0.id == id } }

    // MARK: Acting as a user (what a Mastodon client would do through the API)

    /// Posts a status as `account`; returns its id.
    @discardableResult
    public func post(as account: Account, _ text: String, inReplyTo: String? = nil, visibility: String = "public") -> String {
        let id = newID()
        var tags: [String] = []
        let scanner = text.split(whereSeparator: { $0.isWhitespace })
        for word in scanner where word.hasPrefix("#") {
            let tag = word.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !tag.isEmpty { tags.append(String(tag)) }
        }
        let status = Status(id: id, accountID: account.id, text: text, tags: tags, inReplyToID: inReplyTo, visibility: visibility,
                            reblogOf: nil, createdAt: Date())
        statuses.withLock { $0[id] = status }
        let json = statusJSON(status)
        if visibility == "public" {
            for tag in Set(tags.map { $0.lowercased() }) { log.withLock { $0.append(("tag:" + tag, "update", json)) } }
        }
        for other in Self.accounts where other.id != account.id && text.contains("@" + other.username) {
            notify(other, type: "mention", from: account, status: id)
        }
        return id
    }

    /// Boosts a status as `account`; `nil` if Mastodon would refuse (direct or private posts).
    @discardableResult
    public func reblog(as account: Account, _ statusID: String) -> String? {
        guard let original = statuses.withLock({ $0[statusID] }), !original.deleted,
            original.visibility == "public" || original.visibility == "unlisted"
        else { return nil }
        let id = newID()
        statuses.withLock { $0[id] = Status(id: id, accountID: account.id, text: "", tags: [], inReplyToID: nil, visibility: "public",
                                            reblogOf: statusID, createdAt: Date()) }
        if original.accountID != account.id, let author = Self.account(id: original.accountID) {
            notify(author, type: "reblog", from: account, status: statusID)
        }
        return id
    }

    public func delete(_ statusID: String) {
        guard let status = statuses.withLock({ state -> Status? in
            state[statusID]?.deleted = true
            return state[statusID]
        }) else { return }
        for tag in Set(status.tags.map { $0.lowercased() }) { log.withLock { $0.append(("tag:" + tag, "delete", statusID)) } }
    }

    func notify(_ account: Account, type: String, from: Account, status: String) {
        let notification = Notification(id: newID(), type: type, fromAccountID: from.id, toAccountID: account.id, statusID: status)
        notifications.withLock { $0.append(notification) }
        log.withLock { $0.append(("notifications:" + account.id, "notification", notificationJSON(notification))) }
    }

    /// Statuses that reply to `statusID`.
    public func replies(to statusID: String) -> [Status] {
        statuses.withLock { $0.values.filter { $0.inReplyToID == statusID }.sorted { $0.id < $1.id } }
    }

    // MARK: JSON as Mastodon renders it

    func accountObject(_ account: Account) -> [String: Any] {
        ["id": account.id, "username": account.username, "acct": account.username, "display_name": account.username.capitalized,
         "locked": false, "bot": account.id == Self.shop.id, "created_at": "2026-10-14T00:00:00.000Z", "note": "",
         "url": "\(baseURL)/@\(account.username)", "uri": accountURI(account), "avatar": "\(baseURL)/avatars/original/missing.png",
         "avatar_static": "\(baseURL)/avatars/original/missing.png", "header": "\(baseURL)/headers/original/missing.png",
         "header_static": "\(baseURL)/headers/original/missing.png", "followers_count": 0, "following_count": 0, "statuses_count": 1,
         "last_status_at": "2026-10-14", "emojis": [], "fields": []]
    }

    /// `2026-10-14T19:10:29.321Z`, as Mastodon writes times.
    static func iso(_ date: Date) -> String {
        Timestamp.format(Instant(millisecondsSinceEpoch: Int64(date.timeIntervalSince1970 * 1_000)))
    }

    static func html(_ text: String, base: String) -> String {
        var escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
        for word in Set(text.split(whereSeparator: { $0.isWhitespace }).filter { $0.hasPrefix("#") }) {
            let tag = word.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard !tag.isEmpty else { continue }
            escaped = escaped.replacingOccurrences(of: "#" + tag, with: "<a href=\"\(base)/tags/\(tag.lowercased())\" class=\"mention hashtag\" rel=\"tag\">#<span>\(tag)</span></a>")
        }
        return "<p>" + escaped.replacingOccurrences(of: "\n", with: "<br />") + "</p>"
    }

    func statusObject(_ status: Status) -> [String: Any] {
        let account = Self.account(id: status.accountID)!
        let parent = status.inReplyToID.flatMap { id in statuses.withLock { $0[id] } }
        var object: [String: Any] = [
            "id": status.id, "created_at": Self.iso(status.createdAt), "in_reply_to_id": status.inReplyToID ?? NSNull(),
            "in_reply_to_account_id": parent?.accountID ?? NSNull(), "sensitive": false, "spoiler_text": "", "visibility": status.visibility,
            "language": "en", "uri": "\(accountURI(account))/statuses/\(status.id)", "url": "\(baseURL)/@\(account.username)/\(status.id)",
            "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "edited_at": NSNull(), "favourited": false, "reblogged": false,
            "muted": false, "bookmarked": false, "content": status.reblogOf == nil ? Self.html(status.text, base: baseURL) : "",
            "reblog": NSNull(), "account": accountObject(account), "media_attachments": [], "mentions": [],
            "tags": status.tags.map { ["name": $0, "url": "\(baseURL)/tags/\($0.lowercased())"] }, "emojis": [], "card": NSNull(), "poll": NSNull(),
        ]
        if let original = status.reblogOf.flatMap({ id in statuses.withLock { $0[id] } }) { object["reblog"] = statusObject(original) }
        return object
    }

    func statusJSON(_ status: Status) -> String { Self.serialize(statusObject(status)) }

    func notificationObject(_ notification: Notification) -> [String: Any] {
        var object: [String: Any] = ["id": notification.id, "type": notification.type, "created_at": Self.iso(Date()),
                                     "group_key": "ungrouped-\(notification.id)", "account": accountObject(Self.account(id: notification.fromAccountID)!)]
        if let status = statuses.withLock({ $0[notification.statusID] }) { object["status"] = statusObject(status) }
        return object
    }

    func notificationJSON(_ notification: Notification) -> String { Self.serialize(notificationObject(notification)) }

    static func serialize(_ object: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: serialize(object))))
    }

    static func error(_ message: String, status: HTTPResponse.Status) -> Response { json(["error": message], status: status) }

    /// `min_id` pagination as Mastodon does it: the `limit` items just newer than `min_id`, newest first.
    static func page<T>(_ items: [T], id: (T) -> String, query: Request, limit: Int = 40) -> [T] {
        func numeric(_ s: String) -> Int64 { Int64(s) ?? 0 }
        let q = query.uri.queryParameters
        let count = min(Int(q.get("limit") ?? "") ?? limit, 40)
        var sorted = items.sorted { numeric(id($0)) < numeric(id($1)) }
        if let since = q.get("since_id") { sorted = sorted.filter { numeric(id($0)) > numeric(since) } }
        if let max = q.get("max_id") { sorted = sorted.filter { numeric(id($0)) < numeric(max) } }
        if let min = q.get("min_id") {
            return Array(sorted.filter { numeric(id($0)) > numeric(min) }.prefix(count).reversed())
        }
        return Array(sorted.suffix(count).reversed())
    }

    // MARK: Server

    public func start() async throws -> Task<Void, any Error> {
        let router = Router()
        let instance: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            Self.json(["uri": "127.0.0.1", "domain": "127.0.0.1", "title": "Fake Mastodon", "version": "4.3.0",
                       "urls": ["streaming_api": self.baseURL], "configuration": ["urls": ["streaming": self.baseURL]]])
        }
        router.get("/api/v1/instance", use: instance)
        router.get("/api/v2/instance", use: instance)
        oauth.mount(on: router, authorize: "/oauth/authorize", token: "/oauth/token", revoke: "/oauth/revoke") { Self.account(id: $0) != nil }
        router.get("/api/v1/accounts/verify_credentials") { request, _ -> Response in
            guard let account = Self.account(token: request.headers[.authorization])
                ?? self.oauth.user(bearer: request.headers[.authorization]).flatMap(Self.account(id:)) else { return Self.error("The access token is invalid", status: .unauthorized) }
            return Self.json(self.accountObject(account))
        }
        router.post("/api/v1/statuses") { request, _ -> Response in
            self.postCalls.withLock { $0 += 1 }
            guard let account = Self.account(token: request.headers[.authorization]) else { return Self.error("The access token is invalid", status: .unauthorized) }
            if self.rateLimitNextPost.withLock({ value in defer { value = false }; return value }) {
                var response = Self.error("Too many requests", status: .tooManyRequests)
                response.headers[HTTPField.Name("X-RateLimit-Remaining")!] = "0"
                response.headers[HTTPField.Name("X-RateLimit-Reset")!] = Self.iso(Date().addingTimeInterval(3_600))
                return response
            }
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 16))
            var fields: [String: String] = [:]
            if request.headers[.contentType]?.hasPrefix("application/json") == true {
                for (key, value) in (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] {
                    if let text = value as? String { fields[key] = text } else if let number = value as? NSNumber { fields[key] = number.stringValue }
                }
            } else {
                for pair in body.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
                    if parts.count == 2 { fields[parts[0]] = parts[1] }
                }
            }
            guard let text = fields["status"], !text.isEmpty else { return Self.error("Validation failed: Text can't be blank", status: .unprocessableContent) }
            if let parent = fields["in_reply_to_id"], self.statuses.withLock({ $0[parent] }) == nil {
                return Self.error("Record not found", status: .notFound)
            }
            let key = request.headers[HTTPField.Name("Idempotency-Key")!].map { account.id + ":" + $0 }
            if let key, let existing = self.idempotency.withLock({ $0[key] }), let status = self.statuses.withLock({ $0[existing] }) {
                return Self.json(self.statusObject(status))
            }
            let id = self.post(as: account, text, inReplyTo: fields["in_reply_to_id"], visibility: fields["visibility"] ?? "public")
            if let key { self.idempotency.withLock { $0[key] = id } }
            return Self.json(self.statusObject(self.statuses.withLock { $0[id]! }))
        }
        router.get("/api/v1/statuses/{id}") { _, context -> Response in
            guard let status = self.statuses.withLock({ $0[context.parameters.get("id") ?? ""] }), !status.deleted else {
                return Self.error("Record not found", status: .notFound)
            }
            return Self.json(self.statusObject(status))
        }
        router.post("/api/v1/statuses/{id}/reblog") { request, context -> Response in
            guard let account = Self.account(token: request.headers[.authorization]) else { return Self.error("The access token is invalid", status: .unauthorized) }
            guard let id = self.reblog(as: account, context.parameters.get("id") ?? "") else {
                return Self.error("This action is not allowed", status: .forbidden)
            }
            return Self.json(self.statusObject(self.statuses.withLock { $0[id]! }))
        }
        router.get("/api/v1/timelines/tag/{tag}") { request, context -> Response in
            let tag = (context.parameters.get("tag") ?? "").lowercased()
            self.restCalls.withLock { $0.append("/api/v1/timelines/tag/\(tag)?\(request.uri.query ?? "")") }
            let tagged = self.statuses.withLock { $0.values.filter { !$0.deleted && $0.visibility == "public" && $0.tags.contains { $0.lowercased() == tag } } }
            return Self.json(Self.page(tagged, id: \.id, query: request).map(self.statusObject))
        }
        router.get("/api/v1/notifications") { request, _ -> Response in
            guard let account = Self.account(token: request.headers[.authorization]) else { return Self.error("The access token is invalid", status: .unauthorized) }
            self.restCalls.withLock { $0.append("/api/v1/notifications?\(request.uri.query ?? "")") }
            let types = request.uri.queryParameters.getAll("types[]")
            let mine = self.notifications.withLock { $0.filter { $0.toAccountID == account.id && (types.isEmpty || types.contains($0.type)) } }
            return Self.json(Self.page(mine, id: \.id, query: request).map(self.notificationObject))
        }
        router.get("/api/v1/streaming/health") { _, _ in "OK" }
        for path in ["/api/v1/streaming/hashtag", "/api/v1/streaming/user", "/api/v1/streaming/user/notification"] {
            router.get(RouterPath(path)) { request, _ -> Response in
                let token = request.headers[.authorization] ?? request.uri.queryParameters.get("access_token")
                guard let account = Self.account(token: token) else { return Self.error("Error while trying to authenticate", status: .unauthorized) }
                let stream: String
                if path.hasSuffix("hashtag") {
                    guard let tag = request.uri.queryParameters.get("tag"), !tag.isEmpty else { return Self.error("No tag for stream provided", status: .badRequest) }
                    stream = "tag:" + tag.lowercased()
                } else {
                    stream = "notifications:" + account.id
                }
                self.streamConnections.withLock { $0.append("\(path)?\(request.uri.query ?? "")") }
                let endAfter = stream.hasPrefix("tag:") ? self.endNextStreamAfter.withLock { value -> Int? in defer { value = nil }; return value } : nil
                let injected = self.injectedFrames.withLock { $0 }
                let start = self.log.withLock { $0.count }
                return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: ":)\n"))
                    for frame in injected { try await writer.write(ByteBuffer(string: frame)) }
                    var index = start, sent = 0, quiet = 0
                    while !Task.isCancelled {
                        let pending = self.log.withLock { Array($0[min(index, $0.count)...]) }
                        index += pending.count
                        for (target, event, data) in pending where target == stream {
                            if let endAfter, sent >= endAfter {
                                try await writer.finish(nil)
                                return
                            }
                            try await writer.write(ByteBuffer(string: "event: \(event)\ndata: \(data)\n\n"))
                            sent += 1
                        }
                        if pending.isEmpty {
                            quiet += 1
                            if quiet % 20 == 0 { try await writer.write(ByteBuffer(string: ":thump\n")) }
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    }
                    try await writer.finish(nil)
                })
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in self.port.withLock { $0 = channel.localAddress?.port } })
        let task = FakeServer.serve(app)
        for _ in 0..<200 where port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
        return task
    }
}
