import AsyncHTTPClient
import Foundation
import HashcartCore
import Logging
import NIOCore
import NIOSSL
import Synchronization
import WSClient

/// Bluesky through its real wire protocols: Jetstream (JSON over WebSocket) in, the official
/// account's PDS (XRPC over HTTP) out.
///
/// **In.** One long-lived subscription to `app.bsky.feed.post` and `app.bsky.feed.repost`, started
/// at the first poll from the stored cursor (Jetstream's `time_us`) rewound by
/// ``BlueskyConfiguration/rewindSeconds``. Each message goes through ``JetstreamIngest`` (the
/// edge filter, then strict decoding); kept events wait in a bounded ``EventBuffer`` that the
/// engine drains with ``events(after:limit:)``, each carrying the cursor to store after it. On a
/// disconnect the reader reconnects with jittered exponential backoff from the newest cursor,
/// rewound: replayed events are dropped here when recently seen and by the engine's
/// (network, event id) key otherwise. Malformed, truncated or oversize messages are refused,
/// counted and logged; the stream goes on.
///
/// **Out.** ``reply(to:text:idempotencyKey:)`` signs in with an app password
/// (`com.atproto.server.createSession`), then `com.atproto.repo.createRecord` with a record key
/// derived from the idempotency key (``RecordKey``): a retry cannot post twice, and finds the
/// first post with `getRecord`. The reply's thread refs need the parent's CID, remembered from the
/// stream or fetched with `app.bsky.feed.getPosts`. HTTP 429 and rate-limit headers stop calls
/// until the reset time.
public final class BlueskyConnector: NetworkConnector {
    public let network = NetworkName.bluesky
    public let configuration: BlueskyConfiguration
    public var officialAccountID: String { configuration.officialDID }

    let clock: any WallClock
    let logger: Logger
    let http: ConnectorHTTP
    let buffer: EventBuffer
    private let state: Mutex<State>
    private let interestVersion = Atomic<Int>(0)

    /// Counters of what the stream did (for logs, metrics and tests).
    public struct Statistics: Sendable, Hashable {
        public var messages = 0
        public var kept = 0
        public var refused = 0
        public var duplicates = 0
        public var connections = 0
    }

    struct Session: Sendable {
        var accessJwt: String
        var did: String
    }

    struct State {
        var interest = ConnectorInterest()
        var reader: Task<Void, Never>?
        var session: Session?
        var statistics = Statistics()
        var health = StreamHealthCounters()
        /// Newest cursor seen (µs), for reconnects.
        var cursor: Int64?
        /// CIDs and thread roots of posts seen on the stream, for replies.
        var references = RecentlySeen<(cid: String, root: BlueskyStrongRef?)>(capacity: BlueskyConnector.maximumRememberedPosts)
        /// Event ids recently handed to the engine, to drop replays after a rewind.
        var recent = RecentlySeen<Void>(capacity: BlueskyConnector.maximumRecentEvents)
    }

    static let maximumRememberedPosts = 100_000
    static let maximumRecentEvents = 50_000
    static let maximumMessageBytes = JetstreamFilter.maximumLineBytes

    public init(configuration: BlueskyConfiguration, clock: any WallClock, client: HTTPClient = .shared,
                logger: Logger = Logger(label: "hashcart.bluesky")) throws {
        self.configuration = try configuration.validated()
        self.clock = clock
        self.logger = logger
        self.buffer = EventBuffer(capacity: configuration.bufferCapacity)
        self.http = ConnectorHTTP(network: .bluesky, client: client, gate: RateLimitGate(network: .bluesky), clock: clock,
                                  timeoutSeconds: configuration.requestTimeoutSeconds)
        self.state = Mutex(State())
    }

    deinit {
        state.withLock { $0.reader?.cancel() }
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    public func health() -> ConnectorHealth {
        state.withLock { $0.health.health(network: .bluesky, wanted: $0.reader == nil ? 0 : 1) }
    }

    /// Stops the stream reader (the buffer keeps what it holds).
    public func stop() {
        state.withLock {
            $0.reader?.cancel()
            $0.reader = nil
        }
    }

    // MARK: In

    public func updateInterest(_ interest: ConnectorInterest) async {
        let changed = state.withLock { state -> Bool in
            guard state.interest != interest else { return false }
            state.interest = interest
            return true
        }
        if changed { interestVersion.add(1, ordering: .releasing) }
    }

    public func events(after cursor: String?, limit: Int) async throws -> EventPage {
        if let cursor, Int64(cursor) == nil {
            throw ConnectorError(network: network, message: "cursor \"\(cursor.prefix(40))\" is not a Jetstream time_us", isRetryable: false)
        }
        startReaderIfNeeded(from: cursor.flatMap { Int64($0) })
        let (events, next) = await buffer.drain(limit: limit)
        return EventPage(events: events, nextCursor: next ?? cursor)
    }

    private func startReaderIfNeeded(from cursor: Int64?) {
        state.withLock { state in
            guard state.reader == nil else { return }
            state.cursor = cursor
            state.reader = Task { [weak self] in await self?.readForever() }
        }
    }

    private func readForever() async {
        var backoff = ReconnectBackoff(baseMilliseconds: 500, capMilliseconds: 60_000, seed: UInt64(bitPattern: clock.now().millisecondsSinceEpoch))
        while !Task.isCancelled {
            let began = clock.now()
            let resume = state.withLock { $0.cursor }.map { max(0, $0 - configuration.rewindSeconds * 1_000_000) }
            do {
                try await readSession(from: resume)
                logger.info("Jetstream closed the connection; reconnecting")
            } catch {
                logger.warning("Jetstream connection failed; reconnecting", metadata: ["error": "\(error)"])
            }
            if began.milliseconds(until: clock.now()) > 30_000 { backoff.reset() }
            let delay = backoff.nextDelay()
            try? await Task.sleep(for: .milliseconds(delay))
        }
    }

    func subscribeURL(cursor: Int64?) -> String {
        var url = configuration.jetstreamURL + "?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.repost"
        if let cursor { url += "&cursor=\(cursor)" }
        return url
    }

    private func readSession(from cursor: Int64?) async throws {
        let url = subscribeURL(cursor: cursor)
        let tls: TLSConfiguration? = url.hasPrefix("wss://") ? .makeClientConfiguration() : nil
        let wsConfiguration = WebSocketClientConfiguration(maxFrameSize: 1 << 20, autoPing: .enabled(timePeriod: .seconds(30)))
        state.withLock { $0.statistics.connections += 1 }
        logger.info("connecting to Jetstream", metadata: ["url": "\(url)"])
        try await WebSocketClient.connect(url: url, configuration: wsConfiguration, tlsConfiguration: tls, logger: logger) {
            [self] inbound, _, _ in
            state.withLock { $0.health.opened(first: $0.health.connections == 0) }
            defer { state.withLock { $0.health.closed() } }
            var ingest = JetstreamIngest(filter: currentFilter())
            var version = interestVersion.load(ordering: .acquiring)
            var message: [UInt8] = []
            var oversize = false
            var sinceAdvance = 0
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .binary, .continuation:
                    if !oversize {
                        if message.count + frame.data.readableBytes > Self.maximumMessageBytes {
                            oversize = true
                            message.removeAll(keepingCapacity: true)
                        } else {
                            message.append(contentsOf: frame.data.readableBytesView)
                        }
                    }
                }
                guard frame.fin else { continue }
                defer {
                    message.removeAll(keepingCapacity: true)
                    oversize = false
                }
                let latest = interestVersion.load(ordering: .acquiring)
                if latest != version {
                    version = latest
                    ingest.filter = currentFilter()
                }
                if oversize {
                    recordRefusal(WireFormatError(network: .bluesky, message: "a Jetstream message over the \(Self.maximumMessageBytes)-byte limit"))
                    continue
                }
                let outcome = ingest.accept(message)
                let cursor = ingest.cursor
                sinceAdvance += 1
                switch outcome {
                case .skipped:
                    state.withLock {
                        $0.statistics.messages += 1
                        $0.cursor = cursor
                    }
                    if sinceAdvance >= 256, let cursor {
                        sinceAdvance = 0
                        await buffer.advance(to: String(cursor))
                    }
                case .refused(let error):
                    recordRefusal(error)
                case .event(let decoded):
                    let fresh = remember(decoded, cursor: cursor)
                    if fresh, let cursor {
                        await buffer.push(EventBuffer.Entry(event: decoded.event, cursorAfter: String(cursor)))
                        sinceAdvance = 0
                    }
                }
            }
            if let cursor = ingest.cursor { await buffer.advance(to: String(cursor)) }
        }
    }

    private func currentFilter() -> JetstreamFilter {
        JetstreamFilter(officialDID: configuration.officialDID, interest: state.withLock { $0.interest })
    }

    private func recordRefusal(_ error: WireFormatError) {
        state.withLock {
            $0.statistics.messages += 1
            $0.statistics.refused += 1
            $0.health.refused += 1
        }
        logger.warning("Jetstream message refused; the stream goes on", metadata: ["error": "\(error.description)"])
    }

    /// Remembers a kept event (and its post's CID); false when it was handed over recently.
    private func remember(_ decoded: JetstreamDecoder.Decoded, cursor: Int64?) -> Bool {
        let now = clock.now()
        return state.withLock { state in
            state.statistics.messages += 1
            state.cursor = cursor
            guard state.recent.insert(decoded.event.eventID) else {
                state.statistics.duplicates += 1
                return false
            }
            state.statistics.kept += 1
            state.health.handed(createdAt: decoded.event.createdAt, at: now)
            if let cid = decoded.cid, decoded.event.kind != .repost, decoded.event.kind != .delete {
                state.references.remember(decoded.event.eventID, (cid, decoded.replyRoot))
            }
            return true
        }
    }

    // MARK: Out

    public func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        guard text.utf8.count <= 3_000, text.count <= 300 else {
            throw ConnectorError(network: network, message: "a Bluesky post holds at most 300 characters", isRetryable: false)
        }
        guard JetstreamDecoder.did(inURI: postID) != nil else {
            throw ConnectorError(network: network, message: "\"\(postID.prefix(80))\" is not a Bluesky post URI", isRetryable: false)
        }
        let session = try await currentSession()
        let (parent, root) = try await threadReferences(of: postID, session: session)
        return try await createPost(text: text, reply: ["root": ["uri": root.uri, "cid": root.cid ?? ""], "parent": ["uri": parent.uri, "cid": parent.cid ?? ""]],
                                    idempotencyKey: idempotencyKey, session: session)
    }

    /// A post of the official account's own, under the record key its idempotency key gives, so a
    /// retry finds the first one.
    public func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        guard text.utf8.count <= 3_000, text.count <= 300 else {
            throw ConnectorError(network: network, message: "a Bluesky post holds at most 300 characters", isRetryable: false)
        }
        return try await createPost(text: text, reply: nil, idempotencyKey: idempotencyKey, session: try await currentSession())
    }

    private func createPost(text: String, reply: [String: [String: String]]?, idempotencyKey: String, session: Session) async throws -> PostedReply {
        let rkey = RecordKey.tid(forIdempotencyKey: idempotencyKey)
        let now = clock.now()
        var record: [String: Any] = ["$type": JetstreamDecoder.postCollection, "text": text, "createdAt": Timestamp.format(now)]
        if let reply { record["reply"] = reply }
        let body: [String: Any] = ["repo": session.did, "collection": JetstreamDecoder.postCollection, "rkey": rkey, "record": record]
        let response = try await authorized(session) { session in
            try await http.send(.POST, xrpc("com.atproto.repo.createRecord"), headers: [("Authorization", "Bearer \(session.accessJwt)")],
                                json: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        }
        if response.status == 200, let created = try? JSONDecoder().decode(CreatedRecord.self, from: response.body) {
            return PostedReply(postID: created.uri, createdAt: now)
        }
        // The record may exist from an earlier attempt whose answer was lost: that post is the reply.
        if (400..<500).contains(response.status), response.status != 429, let existing = try await existingReply(rkey: rkey, session: session, text: text) {
            return existing
        }
        throw http.failure("createRecord", response)
    }

    struct CreatedRecord: Decodable {
        var uri: String
        var cid: String?
    }

    func xrpc(_ method: String) -> String { Wire.trimmedBase(configuration.serviceURL) + "/xrpc/" + method }

    private func existingReply(rkey: String, session: Session, text: String) async throws -> PostedReply? {
        struct Found: Decodable {
            struct Value: Decodable {
                var text: String?
                var createdAt: String?
            }
            var uri: String
            var value: Value
        }
        let query = "repo=\(Wire.percentEncoded(session.did))&collection=\(JetstreamDecoder.postCollection)&rkey=\(rkey)"
        let response = try await http.send(.GET, xrpc("com.atproto.repo.getRecord") + "?" + query,
                                           headers: [("Authorization", "Bearer \(session.accessJwt)")])
        guard response.status == 200, let found = try? JSONDecoder().decode(Found.self, from: response.body), found.value.text == text else {
            return nil
        }
        return PostedReply(postID: found.uri, createdAt: found.value.createdAt.flatMap(Timestamp.parse) ?? clock.now())
    }

    /// The parent's strongRef and the thread's root: from the stream, else `app.bsky.feed.getPosts`.
    private func threadReferences(of postID: String, session: Session) async throws -> (BlueskyStrongRef, BlueskyStrongRef) {
        if let known = state.withLock({ $0.references[postID] }) {
            let parent = BlueskyStrongRef(uri: postID, cid: known.cid)
            return (parent, known.root ?? parent)
        }
        struct Posts: Decodable {
            struct Post: Decodable {
                struct Record: Decodable {
                    struct Reply: Decodable { var root: BlueskyStrongRef }
                    var reply: Reply?
                }
                var uri: String
                var cid: String
                var record: Record?
            }
            var posts: [Post]
        }
        let response = try await authorized(session) { session in
            try await http.send(.GET, xrpc("app.bsky.feed.getPosts") + "?uris=" + Wire.percentEncoded(postID),
                                headers: [("Authorization", "Bearer \(session.accessJwt)")])
        }
        guard response.status == 200 else { throw http.failure("getPosts", response) }
        guard let posts = try? JSONDecoder().decode(Posts.self, from: response.body) else {
            throw ConnectorError(network: network, message: "getPosts: an answer of the wrong shape", isRetryable: true)
        }
        guard let post = posts.posts.first(where: { $0.uri == postID }) else {
            throw ConnectorError(network: network, message: "the post \(postID) is gone (deleted or hidden)", isRetryable: false)
        }
        let parent = BlueskyStrongRef(uri: post.uri, cid: post.cid)
        return (parent, post.record?.reply?.root ?? parent)
    }

    // MARK: Session

    private func currentSession() async throws -> Session {
        if let session = state.withLock({ $0.session }) { return session }
        struct Created: Decodable {
            var accessJwt: String
            var did: String
        }
        let body = try JSONSerialization.data(withJSONObject: ["identifier": configuration.identifier, "password": configuration.appPassword])
        let response = try await http.send(.POST, xrpc("com.atproto.server.createSession"), json: body)
        guard response.status == 200 else {
            // A wrong password will not fix itself; say so without echoing the password.
            throw http.failure("createSession as \(configuration.identifier)", response)
        }
        guard let created = try? JSONDecoder().decode(Created.self, from: response.body), JetstreamDecoder.isDID(created.did) else {
            throw ConnectorError(network: network, message: "createSession: an answer of the wrong shape", isRetryable: true)
        }
        let session = Session(accessJwt: created.accessJwt, did: created.did)
        state.withLock { $0.session = session }
        return session
    }

    /// Runs `call`; on an expired or refused token, signs in again once and retries.
    private func authorized(_ session: Session, _ call: (Session) async throws -> ConnectorHTTP.Response) async throws -> ConnectorHTTP.Response {
        let response = try await call(session)
        let expired = response.status == 401
            || (response.status == 400 && String(decoding: response.body.prefix(200), as: UTF8.self).contains("ExpiredToken"))
        guard expired else { return response }
        state.withLock { $0.session = nil }
        return try await call(try await currentSession())
    }
}
