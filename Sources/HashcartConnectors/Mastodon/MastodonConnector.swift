import AsyncHTTPClient
import Foundation
import HashcartCore
import Logging
import NIOCore
import Synchronization

/// Any server speaking the Mastodon API, through its streaming API (Server-Sent Events) and REST.
///
/// **In.** One SSE stream per live offer's hashtag (`/api/v1/streaming/hashtag?tag=`: `update`,
/// `delete`) and one of the official account's notifications (`/api/v1/streaming/user/notification`:
/// `reblog` = a confirmation, `mention` = a link code or a reply). Streams follow the engine's
/// interest: a new offer opens its stream, an ended one closes it. Mastodon streams have no
/// replay, so after every (re)connect each stream first reads what it missed from the REST
/// timeline (`/api/v1/timelines/tag/:tag`, `/api/v1/notifications`) from its last position
/// (`min_id`), then follows the stream. The cursor stored with the events holds each stream's
/// position; a stream's position moves only when its events have been taken by the engine.
///
/// **Out.** `POST /api/v1/statuses` with `in_reply_to_id`, visibility `unlisted` (the buyer must be
/// able to boost it; `direct` and `private` cannot be boosted) and the reply's key as
/// `Idempotency-Key` (Mastodon keeps it an hour). `X-RateLimit-*` headers and 429 pause calls.
public final class MastodonConnector: NetworkConnector {
    public let network = NetworkName.mastodon
    public let configuration: MastodonConfiguration
    public var officialAccountID: String { configuration.officialAccountURI }

    let clock: any WallClock
    let logger: Logger
    let client: HTTPClient
    let http: ConnectorHTTP
    let buffer: EventBuffer
    private let state: Mutex<State>

    public struct Statistics: Sendable, Hashable {
        public var events = 0
        public var refused = 0
        public var duplicates = 0
        public var connections = 0
        public var backfilled = 0
    }

    /// Which stream an event came from, and its part of the cursor.
    enum StreamKey: Hashable, Sendable {
        case notifications
        case hashtag(String)

        var cursorKey: String {
            switch self {
            case .notifications: "notifications"
            case .hashtag(let tag): "tag:" + tag
            }
        }
    }

    struct State {
        var started = false
        var interest = ConnectorInterest()
        var streams: [StreamKey: Task<Void, Never>] = [:]
        /// Positions stored with the last drained events (the engine's committed view).
        var positions: [String: String] = [:]
        var officialLocalID: String?
        var statistics = Statistics()
        var health = StreamHealthCounters()
        /// Streams that have connected at least once (bounded by the streams there are).
        var connectedOnce: Set<String> = []
        var recent = RecentlySeen<Void>(capacity: MastodonConnector.maximumRemembered)
        /// Authors of statuses handed over, for deletes (which name only the status id).
        var authors = RecentlySeen<SocialIdentity>(capacity: MastodonConnector.maximumRemembered)
        var fatal: ConnectorError?
    }

    static let maximumRemembered = 100_000

    public init(configuration: MastodonConfiguration, clock: any WallClock, client: HTTPClient = .shared,
                logger: Logger = Logger(label: "hashcart.mastodon")) throws {
        self.configuration = try configuration.validated()
        self.clock = clock
        self.logger = logger
        self.client = client
        self.buffer = EventBuffer(capacity: configuration.bufferCapacity)
        self.http = ConnectorHTTP(network: .mastodon, client: client, gate: RateLimitGate(network: .mastodon), clock: clock,
                                  timeoutSeconds: configuration.requestTimeoutSeconds)
        self.state = Mutex(State())
    }

    deinit { stop() }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    public func health() -> ConnectorHealth {
        state.withLock { $0.health.health(network: .mastodon, wanted: $0.streams.count) }
    }

    public func stop() {
        state.withLock { state in
            for task in state.streams.values { task.cancel() }
            state.streams.removeAll()
            state.started = false
        }
    }

    var authorization: [(String, String)] { [("Authorization", "Bearer \(configuration.accessToken)")] }

    // MARK: Cursor

    /// The cursor: each stream's last position, as sorted JSON (`{"notifications":"…","tag:…":"…"}`).
    static func encode(_ positions: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: positions, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeCursor(_ cursor: String) throws(ConnectorError) -> [String: String] {
        guard cursor.utf8.count <= 1 << 20, let object = try? JSONSerialization.jsonObject(with: Data(cursor.utf8)) as? [String: String],
            object.values.allSatisfy(isStatusID)
        else {
            throw ConnectorError(network: .mastodon, message: "cursor \"\(cursor.prefix(40))\" is not a Mastodon cursor", isRetryable: false)
        }
        return object
    }

    /// Mastodon ids are decimal snowflakes in strings.
    static func isStatusID(_ id: String) -> Bool { (1...30).contains(id.utf8.count) && id.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }


    // MARK: In

    public func updateInterest(_ interest: ConnectorInterest) async {
        let started = state.withLock { state -> Bool in
            state.interest = interest
            return state.started
        }
        if started { reconcileStreams() }
    }

    public func events(after cursor: String?, limit: Int) async throws -> EventPage {
        if let fatal = state.withLock({ $0.fatal }) { throw fatal }
        let stored = try cursor.map(Self.decodeCursor) ?? [:]
        let first = state.withLock { state -> Bool in
            guard !state.started else { return false }
            state.started = true
            state.positions = stored
            return true
        }
        if first {
            try await verifyAccount()
            reconcileStreams()
        }
        let entries = await buffer.drainEntries(limit: limit)
        let positions = state.withLock { state -> [String: String] in
            for entry in entries where !entry.cursorAfter.isEmpty {
                let parts = entry.cursorAfter.split(separator: "\u{1F}", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                if let current = state.positions[parts[0]], !Wire.isNewer(parts[1], than: current) { continue }
                state.positions[parts[0]] = parts[1]
            }
            return state.positions
        }
        return EventPage(events: entries.map(\.event), nextCursor: positions.isEmpty ? cursor : Self.encode(positions))
    }

    /// Checks the token belongs to the official account and learns its local id.
    func verifyAccount() async throws {
        let response = try await http.send(.GET, configuration.serverBase + "/api/v1/accounts/verify_credentials", headers: authorization)
        guard response.status == 200 else {
            let error = http.failure("verify_credentials (is HASHCART_MASTODON_ACCESS_TOKEN the official account's?)", response)
            if !error.isRetryable { state.withLock { $0.fatal = error } }
            state.withLock { $0.started = false }
            throw error
        }
        guard let account = try? JSONDecoder().decode(Mastodon.Account.self, from: response.body) else {
            state.withLock { $0.started = false }
            throw ConnectorError(network: network, message: "verify_credentials: an answer of the wrong shape", isRetryable: true)
        }
        guard account.stableID == configuration.officialAccountURI || account.url == configuration.officialAccountURI else {
            let error = ConnectorError(network: network, message: "the access token belongs to \(account.stableID ?? account.acct), not the configured official account \(configuration.officialAccountURI)", isRetryable: false)
            state.withLock { $0.fatal = error }
            throw error
        }
        state.withLock { $0.officialLocalID = account.id }
    }

    /// Opens the notification stream and one stream per live hashtag (bounded); closes the rest.
    func reconcileStreams() {
        state.withLock { state in
            guard state.started else { return }
            var wanted: Set<StreamKey> = [.notifications]
            for tag in state.interest.hashtagKeys.sorted().prefix(configuration.maximumHashtagStreams) { wanted.insert(.hashtag(tag)) }
            if state.interest.hashtagKeys.count > configuration.maximumHashtagStreams {
                logger.warning("more live hashtags than hashtag streams; some are not followed",
                               metadata: ["live": "\(state.interest.hashtagKeys.count)", "streams": "\(configuration.maximumHashtagStreams)"])
            }
            for (key, task) in state.streams where !wanted.contains(key) {
                task.cancel()
                state.streams[key] = nil
            }
            for key in wanted where state.streams[key] == nil {
                state.streams[key] = Task { [weak self] in await self?.follow(key) }
            }
        }
    }

    private func follow(_ key: StreamKey) async {
        var backoff = ReconnectBackoff(baseMilliseconds: 500, capMilliseconds: 60_000, seed: UInt64(bitPattern: Int64(key.cursorKey.hashValue)))
        while !Task.isCancelled {
            let began = clock.now()
            do {
                try await session(key)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("Mastodon stream failed; reconnecting", metadata: ["stream": "\(key.cursorKey)", "error": "\(error)"])
            }
            if began.milliseconds(until: clock.now()) > 30_000 { backoff.reset() }
            try? await Task.sleep(for: .milliseconds(backoff.nextDelay()))
        }
    }

    func streamPath(_ key: StreamKey) -> String {
        switch key {
        case .notifications: "/api/v1/streaming/user/notification"
        case .hashtag(let tag): "/api/v1/streaming/hashtag?tag=" + Wire.percentEncoded(tag)
        }
    }

    /// One connection: open the stream, read what was missed, then follow it until it ends or idles.
    private func session(_ key: StreamKey) async throws {
        var request = HTTPClientRequest(url: configuration.streamingBase + streamPath(key))
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.accessToken)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "User-Agent", value: "Hashcart")
        let response = try await client.execute(request, timeout: .seconds(configuration.requestTimeoutSeconds))
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 4_096)
            throw ConnectorError(network: network, message: "stream \(key.cursorKey): HTTP \(response.status.code) \(body.map { String(buffer: $0) }.map { String($0.prefix(200)) } ?? "")",
                                 isRetryable: true)
        }
        state.withLock { state in
            state.statistics.connections += 1
            state.health.opened(first: state.connectedOnce.insert(key.cursorKey).inserted)
        }
        defer { state.withLock { $0.health.closed() } }
        try await backfill(key)
        let lastActivity = LastActivity(clock.now().millisecondsSinceEpoch)
        let idleLimit = configuration.idleTimeoutSeconds * 1_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                var parser = ServerSentEventParser(maximumEventBytes: MastodonDecoder.maximumPayloadBytes)
                var oversize = 0
                for try await chunk in response.body {
                    lastActivity.value.store(clock.now().millisecondsSinceEpoch, ordering: .relaxed)
                    for event in parser.feed(chunk.readableBytesView) { await handle(event, from: key) }
                    if parser.oversize > oversize {
                        oversize = parser.oversize
                        refused(WireFormatError(network: .mastodon, message: "a streamed event over \(MastodonDecoder.maximumPayloadBytes) bytes"))
                    }
                }
            }
            group.addTask { [self] in
                while true {
                    try await Task.sleep(for: .seconds(2))
                    if lastActivity.value.load(ordering: .relaxed) + idleLimit < clock.now().millisecondsSinceEpoch {
                        throw ConnectorError(network: .mastodon, message: "stream \(key.cursorKey) idle for \(idleLimit / 1_000) s", isRetryable: true)
                    }
                }
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    func timelineURL(_ key: StreamKey, after since: String?, limit: Int) -> String {
        let after = since.map { "&min_id=" + $0 } ?? ""
        switch key {
        case .notifications:
            return configuration.serverBase + "/api/v1/notifications?types[]=mention&types[]=reblog&limit=\(limit)" + after
        case .hashtag(let tag):
            return configuration.serverBase + "/api/v1/timelines/tag/" + Wire.percentEncoded(tag) + "?limit=\(limit)" + after
        }
    }

    /// Reads what the stream missed since its stored position, oldest first, bounded. A stream
    /// seen for the first time starts at the newest item there is (what came before is not
    /// for this engine), and that position is stored, so a crash right after loses nothing.
    private func backfill(_ key: StreamKey) async throws {
        guard var since = state.withLock({ $0.positions[key.cursorKey] }) else {
            let response = try await http.send(.GET, timelineURL(key, after: nil, limit: 1), headers: authorization)
            guard response.status == 200, let items = try? JSONSerialization.jsonObject(with: response.body) as? [[String: Any]] else {
                throw http.failure("the newest item of \(key.cursorKey)", response)
            }
            let newest = (items.first?["id"] as? String).flatMap { Self.isStatusID($0) ? $0 : nil } ?? "0"
            state.withLock { state in
                if state.positions[key.cursorKey] == nil { state.positions[key.cursorKey] = newest }
            }
            return
        }
        for _ in 0..<configuration.backfillPages {
            let url = timelineURL(key, after: since, limit: 40)
            let response = try await http.send(.GET, url, headers: authorization)
            guard response.status == 200 else { throw http.failure("backfill \(key.cursorKey)", response) }
            guard let items = try? JSONSerialization.jsonObject(with: response.body) as? [Any] else {
                throw ConnectorError(network: network, message: "backfill \(key.cursorKey): not a JSON array", isRetryable: true)
            }
            var page: [(id: String, payload: String)] = []
            for item in items {
                guard let object = item as? [String: Any], let id = object["id"] as? String, Self.isStatusID(id),
                    let data = try? JSONSerialization.data(withJSONObject: object)
                else { continue }
                page.append((id, String(decoding: data, as: UTF8.self)))
            }
            guard !page.isEmpty else { return }
            page.sort { Wire.isNewer($1.id, than: $0.id) }
            for item in page {
                let kind = key == .notifications ? "notification" : "update"
                await handle(ServerSentEvent(event: kind, data: item.payload, id: nil), from: key)
                state.withLock { $0.statistics.backfilled += 1 }
            }
            since = page.last!.id
        }
    }

    func refused(_ error: WireFormatError) {
        state.withLock {
            $0.statistics.refused += 1
            $0.health.refused += 1
        }
        logger.warning("Mastodon payload refused; the stream goes on", metadata: ["error": "\(error.description)"])
    }

    private func handle(_ message: ServerSentEvent, from key: StreamKey) async {
        let decoder = MastodonDecoder(officialAccountURI: configuration.officialAccountURI,
                                      officialLocalID: state.withLock { $0.officialLocalID })
        do {
            let event: NetworkEvent?
            var position: String?
            switch message.event {
            case "update":
                event = try decoder.status(message.data)
                position = event.map { Self.isStatusID($0.eventID) ? $0.eventID : "" }
            case "notification":
                let notification = try MastodonDecoder.decode(Mastodon.Notification.self, message.data, what: "notification")
                event = try decoder.event(for: notification)
                position = Self.isStatusID(notification.id) ? notification.id : nil
            case "delete":
                let id = message.data.trimmingCharacters(in: .whitespaces)
                guard Self.isStatusID(id) else { throw WireFormatError(network: .mastodon, message: "a delete of \"\(id.prefix(40))\", not a status id") }
                event = state.withLock { $0.authors[id] }.map { author in
                    NetworkEvent(network: .mastodon, eventID: "delete:\(id)", kind: .delete, author: author, referencedPostID: id,
                                 referencedAuthorID: author.userID, createdAt: clock.now())
                }
            default:
                return  // status.update, filters_changed, announcements…: nothing for the engine
            }
            // Nothing for the engine (a favourite, a follow): its position is not kept; a backfill
            // after a reconnect reads it again and drops it again.
            guard let event else { return }
            guard remember(event) else { return }
            let part = position.flatMap { $0.isEmpty ? nil : key.cursorKey + "\u{1F}" + $0 } ?? ""
            await buffer.push(EventBuffer.Entry(event: event, cursorAfter: part))
        } catch let error as WireFormatError {
            refused(error)
        } catch {
            refused(WireFormatError(network: .mastodon, message: "\(error)"))
        }
    }

    /// Remembers an event; false when it was handed over recently (a backfill overlapping the stream).
    private func remember(_ event: NetworkEvent) -> Bool {
        let now = clock.now()
        return state.withLock { state in
            guard state.recent.insert(event.eventID) else {
                state.statistics.duplicates += 1
                return false
            }
            if event.kind == .post || event.kind == .reply || event.kind == .quote { state.authors.remember(event.eventID, event.author) }
            state.statistics.events += 1
            state.health.handed(createdAt: event.createdAt, at: now)
            return true
        }
    }

    // MARK: Out

    public func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        guard Self.isStatusID(postID) else {
            throw ConnectorError(network: network, message: "\"\(postID.prefix(40))\" is not a Mastodon status id", isRetryable: false)
        }
        return try await postStatus(["status": text, "in_reply_to_id": postID, "visibility": "unlisted"], idempotencyKey: idempotencyKey)
    }

    /// A public status of the official account's own; Mastodon keeps the Idempotency-Key an hour.
    public func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        try await postStatus(["status": text, "visibility": "public"], idempotencyKey: idempotencyKey)
    }

    private func postStatus(_ fields: [String: String], idempotencyKey: String) async throws -> PostedReply {
        guard (fields["status"] ?? "").count <= 500 else {
            throw ConnectorError(network: network, message: "a Mastodon status holds at most 500 characters", isRetryable: false)
        }
        let body = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        let response = try await http.send(.POST, configuration.serverBase + "/api/v1/statuses",
                                           headers: authorization + [("Idempotency-Key", idempotencyKey)], json: body)
        guard response.status == 200 else { throw http.failure("POST /api/v1/statuses", response) }
        guard let status = try? JSONDecoder().decode(Mastodon.Status.self, from: response.body), Self.isStatusID(status.id) else {
            throw ConnectorError(network: network, message: "POST /api/v1/statuses: an answer of the wrong shape", isRetryable: true)
        }
        return PostedReply(postID: status.id, createdAt: Timestamp.parse(status.createdAt) ?? clock.now())
    }
}

/// When a stream last delivered a byte (heartbeats count), shared with its idle watchdog.
final class LastActivity: Sendable {
    let value: Atomic<Int64>
    init(_ milliseconds: Int64) { value = Atomic(milliseconds) }
}
