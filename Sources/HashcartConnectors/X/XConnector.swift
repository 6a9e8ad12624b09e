import AsyncHTTPClient
import Foundation
import HashcartCore
import Logging
import NIOCore
import Synchronization

/// X (API v2) through its filtered stream, stream rules, recent search and posts; and, where an
/// app is set up that way, the Account Activity webhook.
///
/// **In.** One filtered-stream connection (X allows one per app), newline-delimited JSON with
/// `\r\n` keep-alives (nothing for ``XConfiguration/idleTimeoutSeconds`` means a dead
/// connection). The stream's rules follow the engine's interest (``XRules``): a rule per live
/// hashtag, one `retweets_of:` the official account for every confirmation, one for mentions.
/// After every (re)connect the gap since the stored cursor (the newest post id taken, rewound ten
/// seconds of snowflake time) is read with recent search (the hashtag rules OR-ed into as few
/// queries as fit, each read at most ``XConfiguration/recoveryPages`` pages), since the stream does not replay;
/// `backfill_minutes` is added where the app's access allows it. Reconnects back off as X
/// asks (network errors linearly from 250 ms to 16 s, HTTP errors exponentially from 5 s to
/// 320 s, 429 from 60 s), less up to a quarter at random.
///
/// **Out.** `POST /2/tweets` with `reply.in_reply_to_tweet_id`, on the official account's user
/// token. X has no idempotency key: every reply text is unique (it carries the order reference),
/// so X refuses a second post of it as duplicate content, and then the connector finds the first
/// one with recent search and returns it.
public final class XConnector: NetworkConnector {
    public let network = NetworkName.x
    public let configuration: XConfiguration
    public var officialAccountID: String { configuration.officialUserID }

    let clock: any WallClock
    let logger: Logger
    let client: HTTPClient
    let http: ConnectorHTTP
    let buffer: EventBuffer
    let decoder: XDecoder
    private let state: Mutex<State>

    public struct Statistics: Sendable, Hashable {
        public var events = 0
        public var refused = 0
        public var duplicates = 0
        public var connections = 0
        public var keepAlives = 0
        public var recovered = 0
        public var ruleSyncs = 0
    }

    struct State {
        var interest = ConnectorInterest()
        var reader: Task<Void, Never>?
        var cursor: String?
        var newest: String?
        var statistics = Statistics()
        var health = StreamHealthCounters()
        var recent = RecentlySeen<Void>(capacity: XConnector.maximumRecent)
        var syncedRules: [XAPI.Rule]?
        var rulesDirty = true
        var sessionEnded = false
    }

    static let maximumRecent = 100_000
    static let fields = "tweet.fields=created_at,author_id,entities,referenced_tweets,in_reply_to_user_id&expansions=author_id,referenced_tweets.id,referenced_tweets.id.author_id&user.fields=username"

    public init(configuration: XConfiguration, clock: any WallClock, client: HTTPClient = .shared, logger: Logger = Logger(label: "hashcart.x")) throws {
        self.configuration = try configuration.validated()
        self.clock = clock
        self.logger = logger
        self.client = client
        self.buffer = EventBuffer(capacity: configuration.bufferCapacity)
        self.decoder = XDecoder(officialUserID: configuration.officialUserID)
        self.http = ConnectorHTTP(network: .x, client: client, gate: RateLimitGate(network: .x), clock: clock, timeoutSeconds: configuration.requestTimeoutSeconds)
        self.state = Mutex(State())
    }

    deinit { state.withLock { $0.reader?.cancel() } }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    public func health() -> ConnectorHealth {
        state.withLock { $0.health.health(network: .x, wanted: $0.reader == nil ? 0 : 1) }
    }

    public func stop() {
        state.withLock {
            $0.reader?.cancel()
            $0.reader = nil
        }
    }

    var appAuthorization: [(String, String)] { [("Authorization", "Bearer \(configuration.bearerToken)")] }

    // MARK: In

    public func updateInterest(_ interest: ConnectorInterest) async {
        state.withLock { state in
            if state.interest.hashtagKeys != interest.hashtagKeys { state.rulesDirty = true }
            state.interest = interest
        }
    }

    public func events(after cursor: String?, limit: Int) async throws -> EventPage {
        if let cursor, !XDecoder.isID(cursor) {
            throw ConnectorError(network: network, message: "cursor \"\(cursor.prefix(40))\" is not a post id", isRetryable: false)
        }
        state.withLock { state in
            guard state.reader == nil else { return }
            state.cursor = cursor
            state.reader = Task { [weak self] in await self?.readForever() }
        }
        let (events, next) = await buffer.drain(limit: limit)
        return EventPage(events: events, nextCursor: next ?? cursor)
    }

    enum Failure { case network, http, rateLimited }

    private func readForever() async {
        var failures = 0
        var jitter = SplitMix64(seed: UInt64(bitPattern: clock.now().millisecondsSinceEpoch))
        while !Task.isCancelled {
            let began = clock.now()
            var kind = Failure.network
            do {
                try await syncRulesIfNeeded()
                try await session()
                logger.info("X closed the stream; reconnecting")
            } catch let error as StreamFailure {
                kind = error.kind
                logger.warning("X stream failed; reconnecting", metadata: ["error": "\(error.message)"])
            } catch is CancellationError {
                return
            } catch {
                logger.warning("X stream failed; reconnecting", metadata: ["error": "\(error)"])
            }
            if began.milliseconds(until: clock.now()) > 60_000 { failures = 0 }
            failures += 1
            // X's schedule, less up to a quarter at random, so that instances dropped together spread out.
            let delay = Self.delay(after: kind, failures: failures)
            try? await Task.sleep(for: .milliseconds(delay - Int64(jitter.next() % UInt64(delay / 4 + 1))))
        }
    }

    /// X's reconnect schedule (docs: handling disconnections).
    static func delay(after kind: Failure, failures: Int) -> Int64 {
        let n = Int64(max(1, failures))
        switch kind {
        case .network: return min(16_000, 250 * n)
        case .http: return min(320_000, 5_000 << min(n - 1, 6))
        case .rateLimited: return min(960_000, 60_000 << min(n - 1, 4))
        }
    }

    struct StreamFailure: Error {
        var kind: Failure
        var message: String
    }

    /// Keeps Hashcart's stream rules equal to the interest (Hashcart's own rules only).
    func syncRulesIfNeeded() async throws {
        let (dirty, interest) = state.withLock { ($0.rulesDirty, $0.interest) }
        guard dirty else { return }
        let desired = XRules.desired(hashtagKeys: interest.hashtagKeys, officialUsername: configuration.officialUsername,
                                     limit: configuration.maximumHashtagRules)
        let rulesURL = configuration.apiBase + "/2/tweets/search/stream/rules"
        let listed = try await http.send(.GET, rulesURL, headers: appAuthorization)
        guard listed.status == 200 else { throw http.failure("GET stream rules", listed) }
        struct Rules: Decodable { var data: [XAPI.Rule]? }
        guard let current = try? JSONDecoder().decode(Rules.self, from: listed.body) else {
            throw ConnectorError(network: network, message: "GET stream rules: an answer of the wrong shape", isRetryable: true)
        }
        let (add, delete) = XRules.diff(current: current.data ?? [], desired: desired)
        if !delete.isEmpty {
            let body = try JSONSerialization.data(withJSONObject: ["delete": ["ids": delete]])
            let response = try await http.send(.POST, rulesURL, headers: appAuthorization, json: body)
            guard response.status == 200 else { throw http.failure("delete stream rules", response) }
        }
        if !add.isEmpty {
            let body = try JSONSerialization.data(withJSONObject: ["add": add.map { ["value": $0.value, "tag": $0.tag ?? ""] }])
            let response = try await http.send(.POST, rulesURL, headers: appAuthorization, json: body)
            guard response.status == 200 || response.status == 201 else { throw http.failure("add stream rules", response) }
        }
        state.withLock { state in
            if state.interest.hashtagKeys == interest.hashtagKeys { state.rulesDirty = false }
            state.syncedRules = desired
            state.statistics.ruleSyncs += 1
        }
    }

    private func session() async throws {
        let reconnecting = state.withLock { $0.statistics.connections > 0 }
        var url = configuration.apiBase + "/2/tweets/search/stream?" + Self.fields
        if reconnecting, configuration.backfillMinutes > 0 { url += "&backfill_minutes=\(configuration.backfillMinutes)" }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.bearerToken)")
        request.headers.add(name: "User-Agent", value: "Hashcart")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(configuration.requestTimeoutSeconds))
        } catch {
            throw StreamFailure(kind: .network, message: "\(error)")
        }
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 4_096)).map { String(buffer: $0) } ?? ""
            throw StreamFailure(kind: response.status.code == 429 ? .rateLimited : .http, message: "HTTP \(response.status.code) \(body.prefix(300))")
        }
        state.withLock {
            $0.statistics.connections += 1
            $0.health.opened(first: $0.health.connections == 0)
        }
        defer { state.withLock { $0.health.closed() } }
        try await recover()
        let lastActivity = LastActivity(clock.now().millisecondsSinceEpoch)
        let idleLimit = configuration.idleTimeoutSeconds * 1_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                var line: [UInt8] = []
                var oversize = false
                for try await chunk in response.body {
                    lastActivity.value.store(clock.now().millisecondsSinceEpoch, ordering: .relaxed)
                    for byte in chunk.readableBytesView {
                        guard byte == 0x0A else {
                            if line.count < XDecoder.maximumLineBytes { line.append(byte) } else { oversize = true }
                            continue
                        }
                        defer {
                            line.removeAll(keepingCapacity: true)
                            oversize = false
                        }
                        if oversize {
                            refused(WireFormatError(network: .x, message: "a stream line over \(XDecoder.maximumLineBytes) bytes"))
                            continue
                        }
                        if try await handle(line) { return }
                    }
                }
            }
            group.addTask { [self] in
                while true {
                    try await Task.sleep(for: .seconds(1))
                    if lastActivity.value.load(ordering: .relaxed) + idleLimit < clock.now().millisecondsSinceEpoch {
                        throw StreamFailure(kind: .network, message: "no data or keep-alive for \(idleLimit / 1_000) s")
                    }
                    if state.withLock({ $0.rulesDirty }) { try await syncRulesIfNeeded() }
                }
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// Handles one stream line; true when X said the stream is over.
    private func handle(_ line: [UInt8]) async throws -> Bool {
        do {
            switch try decoder.streamLine(line) {
            case .keepAlive:
                state.withLock { $0.statistics.keepAlives += 1 }
                return false
            case .disconnect(let reason):
                logger.warning("X ended the stream", metadata: ["reason": "\(reason)"])
                return true
            case .event(let event):
                await hand(event)
                return false
            }
        } catch {
            refused(error)
            return false
        }
    }

    private func hand(_ event: NetworkEvent) async {
        let now = clock.now()
        let cursor = state.withLock { state -> String? in
            guard state.recent.insert(event.eventID) else {
                state.statistics.duplicates += 1
                return nil
            }
            state.statistics.events += 1
            state.health.handed(createdAt: event.createdAt, at: now)
            if state.newest.map({ Wire.isNewer(event.eventID, than: $0) }) ?? true { state.newest = event.eventID }
            return state.newest
        }
        guard let cursor else { return }
        await buffer.push(EventBuffer.Entry(event: event, cursorAfter: cursor))
    }

    func refused(_ error: WireFormatError) {
        state.withLock {
            $0.statistics.refused += 1
            $0.health.refused += 1
        }
        logger.warning("X payload refused; the stream goes on", metadata: ["error": "\(error.description)"])
    }

    /// Ten seconds of snowflake time (ids are milliseconds << 22): the rewind before recovery.
    static let rewind: UInt64 = 10_000 << 22

    /// Reads what the stream missed since the cursor with recent search, per rule, bounded.
    private func recover() async throws {
        guard configuration.recoveryPages > 0, let since = state.withLock({ $0.newest ?? $0.cursor }), let value = UInt64(since) else { return }
        let sinceID = String(value > Self.rewind ? value - Self.rewind : 1)
        let rules = XRules.recoveryQueries(for: state.withLock { $0.syncedRules } ?? [])
        for rule in rules {
            var next: String?
            for _ in 0..<configuration.recoveryPages {
                var url = configuration.apiBase + "/2/tweets/search/recent?max_results=100&since_id=\(sinceID)&" + Self.fields
                    + "&query=" + Wire.percentEncoded(rule.value)
                if let next { url += "&next_token=" + Wire.percentEncoded(next) }
                let response = try await http.send(.GET, url, headers: appAuthorization)
                guard response.status == 200 else { throw http.failure("recent search", response) }
                struct Page: Decodable {
                    struct Meta: Decodable {
                        var nextToken: String?
                        enum CodingKeys: String, CodingKey { case nextToken = "next_token" }
                    }
                    var data: [XAPI.Tweet]?
                    var includes: XAPI.Includes?
                    var meta: Meta?
                }
                guard let page = try? JSONDecoder().decode(Page.self, from: response.body) else {
                    throw ConnectorError(network: network, message: "recent search: an answer of the wrong shape", isRetryable: true)
                }
                let tweets = (page.data ?? []).sorted { Wire.isNewer($1.id, than: $0.id) }
                for tweet in tweets {
                    do {
                        let matching = rule.tag.map { [XAPI.MatchingRule(id: nil, tag: $0)] } ?? []
                        await hand(try decoder.event(for: tweet, includes: page.includes, rules: matching))
                        state.withLock { $0.statistics.recovered += 1 }
                    } catch {
                        refused(error)
                    }
                }
                guard let token = page.meta?.nextToken else { break }
                next = token
            }
        }
    }

    // MARK: Account Activity webhook

    /// Answers the CRC challenge: the JSON body to return with 200, or `nil` without a consumer secret.
    public func crcResponse(crcToken: String) -> Data? {
        guard let secret = configuration.consumerSecret, !crcToken.isEmpty, crcToken.utf8.count <= 1_024 else { return nil }
        let token = XWebhookSecurity.crcResponseToken(crcToken: crcToken, consumerSecret: secret)
        return try? JSONSerialization.data(withJSONObject: ["response_token": token])
    }

    /// Takes an Account Activity POST: checks its signature, then hands its events to the engine.
    /// Returns false (answer 401, change nothing) when the signature is missing or wrong.
    public func receiveActivity(body: Data, signature: String?) async throws(WireFormatError) -> Bool {
        guard let secret = configuration.consumerSecret,
            XWebhookSecurity.isValidSignature(signature, body: body, consumerSecret: secret)
        else { return false }
        let events: [NetworkEvent]
        do {
            events = try decoder.activity(body, receivedAt: clock.now())
        } catch {
            state.withLock { $0.health.refused += 1 }
            throw error
        }
        for event in events { await hand(event) }
        return true
    }

    // MARK: Out

    public func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        guard XDecoder.isID(postID) else { throw ConnectorError(network: network, message: "\"\(postID.prefix(40))\" is not a post id", isRetryable: false) }
        return try await createPost(text: text, inReplyTo: postID)
    }

    /// A post of the official account's own. X has no idempotency key: a second identical post
    /// is refused as duplicate content, and the first is then found with recent search.
    public func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        try await createPost(text: text, inReplyTo: nil)
    }

    private func createPost(text: String, inReplyTo postID: String?) async throws -> PostedReply {
        guard text.count <= 280 else { throw ConnectorError(network: network, message: "a post holds at most 280 characters", isRetryable: false) }
        var fields: [String: Any] = ["text": text]
        if let postID { fields["reply"] = ["in_reply_to_tweet_id": postID] }
        let body = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        let response = try await http.send(.POST, configuration.apiBase + "/2/tweets", headers: [("Authorization", "Bearer \(configuration.userToken)")], json: body)
        if response.status == 200 || response.status == 201 {
            struct Created: Decodable {
                struct Post: Decodable { var id: String }
                var data: Post
            }
            guard let created = try? JSONDecoder().decode(Created.self, from: response.body), XDecoder.isID(created.data.id) else {
                throw ConnectorError(network: network, message: "POST /2/tweets: an answer of the wrong shape", isRetryable: true)
            }
            return PostedReply(postID: created.data.id, createdAt: clock.now())
        }
        if response.status == 403, String(decoding: response.body.prefix(2_000), as: UTF8.self).lowercased().contains("duplicate content") {
            // Posted before (the answer was lost, or the process died): find that post.
            if let existing = try await findPost(inReplyTo: postID, text: text) { return existing }
            throw ConnectorError(network: network, message: "X says this post was already made, but search does not show it yet", isRetryable: true)
        }
        throw http.failure("POST /2/tweets", response)
    }

    /// The official account's post with exactly `text` (in reply to `postID`, or of its own),
    /// found with recent search.
    private func findPost(inReplyTo postID: String?, text: String) async throws -> PostedReply? {
        let query = "from:\(configuration.officialUsername)" + (postID.map { " in_reply_to_tweet_id:\($0)" } ?? " -is:reply")
        let url = configuration.apiBase + "/2/tweets/search/recent?max_results=100&tweet.fields=created_at&query=" + Wire.percentEncoded(query)
        let response = try await http.send(.GET, url, headers: appAuthorization)
        guard response.status == 200 else { throw http.failure("recent search for the earlier reply", response) }
        struct Page: Decodable { var data: [XAPI.Tweet]? }
        guard let page = try? JSONDecoder().decode(Page.self, from: response.body) else { return nil }
        guard let found = page.data?.first(where: { $0.text == text }) else { return nil }
        return PostedReply(postID: found.id, createdAt: found.createdAt.flatMap(Timestamp.parse) ?? clock.now())
    }
}
