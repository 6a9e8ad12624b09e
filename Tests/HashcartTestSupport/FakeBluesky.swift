import Foundation
import HashcartConnectors
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Synchronization

/// Bluesky on loopback, speaking the real wire formats: a Jetstream v1 `/subscribe` WebSocket
/// (cursor = `time_us`, replayed inclusively; no cursor = live tail) and the PDS's XRPC routes
/// createSession, createRecord (a repeated rkey is refused, as a PDS does), getRecord and
/// app.bsky.feed.getPosts. Created posts appear on the stream, as on the real network.
/// Faults on demand: drop the connection after N messages, answer createRecord with 429.
public final class FakeBluesky: Sendable {
    public init() {}

    public struct Record: Sendable {
        public var uri: String
        public var cid: String
        public var text: String
        public var createdAt: String
        public var parent: BlueskyStrongRef?
        public var root: BlueskyStrongRef?
    }

    public static let officialDID = "did:plc:shopbotbbbbbbbbbbbbbbbbb"
    public static let handle = "shop.example.com"
    public static let appPassword = "abcd-efgh-ijkl-mnop"

    /// The stream: (time_us, line).
    public let stream = Mutex<[(Int64, String)]>([])
    public let clockMicroseconds = Mutex<Int64>(1_783_175_888_000_000)
    public let records = Mutex<[String: Record]>([:])
    /// Posts the fake knows (for getPosts): uri → (cid, root).
    public let posts = Mutex<[String: (String, BlueskyStrongRef?)]>([:])
    /// The `cursor` query of each connection, in order (nil: live tail).
    public let connections = Mutex<[Int64?]>([])
    public let dropAfterMessages = Mutex<Int?>(nil)
    /// The lines each connection wrote, in connection order (a write that threw is not listed).
    public let sentPerConnection = Mutex<[[String]]>([])
    public let rateLimitNextCreate = Mutex<Bool>(false)
    public let createCalls = Mutex<Int>(0)
    /// The raw body of every createRecord call, in order.
    public let createBodies = Mutex<[Data]>([])
    public let sessionCalls = Mutex<Int>(0)
    public let port = Mutex<Int?>(nil)

    public var jetstreamURL: String { "ws://127.0.0.1:\(port.withLock { $0 } ?? 0)/subscribe" }
    public var serviceURL: String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)" }

    public func nextTime() -> Int64 {
        clockMicroseconds.withLock {
            $0 += 1_000
            return $0
        }
    }

    /// Appends a raw line with its time (for garbage, the time is only used to order replays).
    public func append(raw line: String, time: Int64? = nil) {
        let at = time ?? nextTime()
        stream.withLock { $0.append((at, line)) }
    }

    /// Appends a post create event; returns its URI and CID.
    @discardableResult
    public func appendPost(did: String, rkey: String, text: String, tagFacets: [String] = [], reply: (BlueskyStrongRef, BlueskyStrongRef)? = nil) -> BlueskyStrongRef {
        let time = nextTime()
        let cid = "bafyrei" + String(rkey.utf8.map { String($0, radix: 16) }.joined().prefix(40))
        var record: [String: Any] = ["$type": "app.bsky.feed.post", "createdAt": "2026-07-04T14:38:06.240Z", "langs": ["en"], "text": text]
        if !tagFacets.isEmpty {
            record["facets"] = tagFacets.map { tag -> [String: Any] in
                let range = (text as NSString).range(of: "#" + tag)
                let start = text.utf8.count - String(text.dropFirst(range.location)).utf8.count
                return ["features": [["$type": "app.bsky.richtext.facet#tag", "tag": tag]], "index": ["byteStart": start, "byteEnd": start + 1 + tag.utf8.count]]
            }
        }
        if let (root, parent) = reply {
            record["reply"] = ["root": ["uri": root.uri, "cid": root.cid ?? ""], "parent": ["uri": parent.uri, "cid": parent.cid ?? ""]]
        }
        let uri = "at://\(did)/app.bsky.feed.post/\(rkey)"
        posts.withLock { $0[uri] = (cid, reply?.0) }
        appendCommit(did: did, time: time, commit: ["rev": "3mrev", "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey, "record": record, "cid": cid])
        return BlueskyStrongRef(uri: uri, cid: cid)
    }

    public func appendRepost(did: String, rkey: String, of subject: BlueskyStrongRef) {
        let record: [String: Any] = ["$type": "app.bsky.feed.repost", "createdAt": "2026-07-04T14:38:07.705Z",
                                     "subject": ["uri": subject.uri, "cid": subject.cid ?? ""]]
        appendCommit(did: did, time: nextTime(), commit: ["rev": "3mrev", "operation": "create", "collection": "app.bsky.feed.repost",
                                                          "rkey": rkey, "record": record, "cid": "bafyreirepost\(rkey)"])
    }

    public func appendDelete(did: String, rkey: String) {
        appendCommit(did: did, time: nextTime(), commit: ["rev": "3mrev", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": rkey])
    }

    private func appendCommit(did: String, time: Int64, commit: [String: Any]) {
        let envelope: [String: Any] = ["did": did, "time_us": time, "kind": "commit", "commit": commit]
        let data = try! JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys, .withoutEscapingSlashes])
        stream.withLock { $0.append((time, String(decoding: data, as: UTF8.self))) }
    }

    public func start() async throws -> Task<Void, any Error> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/subscribe") { _, _ in .upgrade() } onUpgrade: { _, outbound, context in
            let query = context.request.uri.queryParameters
            let wanted = query.getAll("wantedCollections")
            precondition(wanted.contains("app.bsky.feed.post") && wanted.contains("app.bsky.feed.repost"), "the connector must ask for posts and reposts")
            let cursor = query.get("cursor").flatMap { Int64($0) }
            let ordinal = self.connections.withLock { connections in
                connections.append(cursor)
                return connections.count - 1
            }
            self.sentPerConnection.withLock { while $0.count <= ordinal { $0.append([]) } }
            let dropAfter = self.dropAfterMessages.withLock { value -> Int? in
                defer { value = nil }
                return value
            }
            // Jetstream replays from the cursor inclusively; without one it tails live.
            var index = self.stream.withLock { stream in cursor.map { c in stream.firstIndex { $0.0 >= c } ?? stream.count } ?? stream.count }
            var sent = 0
            while !Task.isCancelled {
                let pending = self.stream.withLock { Array($0[min(index, $0.count)...]) }
                if pending.isEmpty {
                    try await Task.sleep(for: .milliseconds(10))
                    continue
                }
                for (_, line) in pending {
                    if let dropAfter, sent >= dropAfter { return }  // closes the connection mid-stream
                    try await outbound.write(.text(line))
                    self.sentPerConnection.withLock { $0[ordinal].append(line) }
                    sent += 1
                    index += 1
                }
            }
        }
        router.post("/xrpc/com.atproto.server.createSession") { request, _ -> Response in
            self.sessionCalls.withLock { $0 += 1 }
            let body = try await request.body.collect(upTo: 1 << 16)
            let input = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: String] ?? [:]
            guard input["identifier"] == Self.handle, input["password"] == Self.appPassword else {
                return Self.json(["error": "AuthenticationRequired", "message": "Invalid identifier or password"], status: .unauthorized)
            }
            return Self.json(["accessJwt": "access-\(UUID().uuidString)", "refreshJwt": "refresh", "did": Self.officialDID, "handle": Self.handle])
        }
        router.post("/xrpc/com.atproto.repo.createRecord") { request, _ -> Response in
            self.createCalls.withLock { $0 += 1 }
            guard request.headers[.authorization]?.hasPrefix("Bearer access-") == true else {
                return Self.json(["error": "AuthenticationRequired", "message": "Authentication Required"], status: .unauthorized)
            }
            if self.rateLimitNextCreate.withLock({ value in defer { value = false }; return value }) {
                var response = Self.json(["error": "RateLimitExceeded", "message": "Rate Limit Exceeded"], status: .tooManyRequests)
                response.headers[HTTPField.Name("ratelimit-remaining")!] = "0"
                response.headers[HTTPField.Name("ratelimit-reset")!] = String(Int(Date().timeIntervalSince1970) + 3_600)
                return response
            }
            let body = try await request.body.collect(upTo: 1 << 16)
            self.createBodies.withLock { $0.append(Data(body.readableBytesView)) }
            guard let input = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                input["repo"] as? String == Self.officialDID, input["collection"] as? String == "app.bsky.feed.post",
                let rkey = input["rkey"] as? String, rkey.count == 13,
                let record = input["record"] as? [String: Any], let text = record["text"] as? String,
                let createdAt = record["createdAt"] as? String
            else {
                return Self.json(["error": "InvalidRequest", "message": "Input/record is not a valid app.bsky.feed.post"], status: .badRequest)
            }
            // A reply names its parent and root, each with a cid; a post of its own has no reply at all.
            var thread: (root: BlueskyStrongRef, parent: BlueskyStrongRef)?
            if let replyField = record["reply"] {
                guard let reply = replyField as? [String: [String: String]], let root = reply["root"], let parent = reply["parent"],
                    let rootURI = root["uri"], let parentURI = parent["uri"], parent["cid"]?.isEmpty == false
                else {
                    return Self.json(["error": "InvalidRequest", "message": "Input/record/reply is not a valid reply ref"], status: .badRequest)
                }
                thread = (BlueskyStrongRef(uri: rootURI, cid: root["cid"]), BlueskyStrongRef(uri: parentURI, cid: parent["cid"]))
            }
            let uri = "at://\(Self.officialDID)/app.bsky.feed.post/\(rkey)"
            let cid = "bafyreiconfirm\(rkey)"
            let created = self.records.withLock { records -> Bool in
                guard records[rkey] == nil else { return false }
                records[rkey] = Record(uri: uri, cid: cid, text: text, createdAt: createdAt, parent: thread?.parent, root: thread?.root)
                return true
            }
            guard created else {
                return Self.json(["error": "InvalidRequest", "message": "Record already exists"], status: .badRequest)
            }
            // The official account's post goes out on the firehose like anyone's.
            self.appendPost(did: Self.officialDID, rkey: rkey, text: text, reply: thread.map { ($0.root, $0.parent) })
            return Self.json(["uri": uri, "cid": cid, "commit": ["cid": "bafyreicommit", "rev": "3mrev"], "validationStatus": "valid"])
        }
        router.get("/xrpc/com.atproto.repo.getRecord") { request, _ -> Response in
            guard let rkey = request.uri.queryParameters.get("rkey"), let record = self.records.withLock({ $0[rkey] }) else {
                return Self.json(["error": "RecordNotFound", "message": "Could not locate record"], status: .badRequest)
            }
            return Self.json(["uri": record.uri, "cid": record.cid, "value": ["$type": "app.bsky.feed.post", "text": record.text, "createdAt": record.createdAt]])
        }
        router.get("/xrpc/app.bsky.feed.getPosts") { request, _ -> Response in
            let uris = request.uri.queryParameters.getAll("uris")
            let found: [[String: Any]] = uris.compactMap { uri in
                guard let (cid, root) = self.posts.withLock({ $0[uri] }) else { return nil }
                var record: [String: Any] = ["$type": "app.bsky.feed.post", "text": ""]
                if let root { record["reply"] = ["root": ["uri": root.uri, "cid": root.cid ?? ""], "parent": ["uri": root.uri, "cid": root.cid ?? ""]] }
                return ["uri": uri, "cid": cid, "record": record]
            }
            return Self.json(["posts": found])
        }
        let app = Application(router: router, server: .http1WebSocketUpgrade(webSocketRouter: router),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in self.port.withLock { $0 = channel.localAddress?.port } })
        let task = FakeServer.serve(app)
        for _ in 0..<200 where port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
        return task
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
