import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Logging
import Testing

/// The Bluesky connector over real WebSocket and HTTP on loopback, against ``FakeBluesky``.
@Suite("Bluesky connector over loopback", .serialized)
struct BlueskyConnectorTests {
    static let alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"

    func connector(_ fake: FakeBluesky, password: String = FakeBluesky.appPassword, clock: any WallClock = SystemWallClock()) throws -> BlueskyConnector {
        var configuration = BlueskyConfiguration(jetstreamURL: fake.jetstreamURL, serviceURL: fake.serviceURL, officialDID: FakeBluesky.officialDID,
                                                 identifier: FakeBluesky.handle, appPassword: password)
        configuration.rewindSeconds = 1
        var logger = Logger(label: "test.bluesky")
        logger.logLevel = .critical
        return try BlueskyConnector(configuration: configuration, clock: clock, logger: logger)
    }

    /// Polls until `condition` holds (at most ~10 s), returning everything the polls gave.
    func poll(_ connector: BlueskyConnector, cursor: inout String?, until condition: ([NetworkEvent]) -> Bool) async throws -> [NetworkEvent] {
        var events: [NetworkEvent] = []
        // Up to ~30 s: CI machines are busy.
        for _ in 0..<1_500 {
            let page = try await connector.events(after: cursor, limit: 100)
            events += page.events
            cursor = page.nextCursor ?? cursor
            if condition(events) { return events }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out; got \(events.map(\.eventID))")
        return events
    }

    func waitForConnections(_ fake: FakeBluesky, _ count: Int) async throws {
        for _ in 0..<1_500 where fake.connections.withLock({ $0.count }) < count { try await Task.sleep(for: .milliseconds(20)) }
        #expect(fake.connections.withLock { $0.count } >= count)
    }

    @Test("a purchase end to end: post on the firehose → confirmation reply via createRecord → repost → order")
    func purchaseEndToEnd() async throws {
        let fake = FakeBluesky()
        let server = try await fake.start()
        defer { server.cancel() }
        let database = try TestDatabase(.sqlite)
        let store = try await database.open(key: AddressCipher.generateEncodedKey())
        defer { store.closeLater() }
        let clock = SystemWallClock()
        let bluesky = try connector(fake)
        defer { bluesky.stop() }
        let engine = try await Engine(store: store, connector: bluesky, clock: clock, ids: SequentialIDGenerator(namespace: "t"),
                                taxTable: try BundledTaxTable.load(), configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0)))
        let merchant = try await engine.createMerchant(name: "Amex Tees")
        let offer = try await engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Amex Tee", sku: "TEE", price: .usd(2500), hashtag: "#BuyAmexTee", quantity: 3))
        let card = try await engine.createCardAccount(creditLimit: .usd(100_000),
                                                billing: BillingAddress(name: "Alice", line1: "1 Main St", city: "Albany", state: .NY, postalCode: "12207"),
                                                cardLast4: "4242")
        try await engine.link(cardAccountID: card.id, identity: SocialIdentity(network: .bluesky, userID: Self.alice, handle: ""),
                        at: clock.now().adding(seconds: -86_400))

        _ = try await engine.runRound()  // tells the connector the interest and opens the stream
        try await waitForConnections(fake, 1)
        #expect(fake.connections.withLock { $0 } == [nil], "no stored cursor: live tail")

        // Noise from the real firehose, then Alice's post with a tag facet, in a different case.
        for line in try JetstreamFilterTests.lines("jetstream-v1-real-152.jsonl").prefix(40) { fake.append(raw: String(decoding: line, as: UTF8.self)) }
        let post = fake.appendPost(did: Self.alice, rkey: "3mabcxyz22a2b", text: "Buying now #buyamextee", tagFacets: ["buyamextee"])
        var outcomes: [EventOutcome] = []
        for _ in 0..<300 where !outcomes.contains(where: { if case .purchaseRequested = $0 { true } else { false } }) {
            outcomes += try await engine.runRound().outcomes
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(outcomes.count == 1, "only Alice's post reaches the engine: \(outcomes)")
        // The confirmation request went out through createRecord, threaded under Alice's post.
        // (The offer's announcement went out first, as a post of its own.)
        for _ in 0..<300 where !fake.records.withLock({ $0.values.contains { $0.parent != nil } }) {
            _ = try await engine.runRound()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(fake.records.withLock { $0.values.filter { $0.parent == nil }.map(\.text) } == [
            "Amex Tee $25.00 + tax with your linked card. Post #BuyAmexTee to buy. Qty limited.",
        ])
        let request = try #require(fake.records.withLock { Array($0.values) }.first { $0.parent != nil })
        #expect(request.parent == post)
        #expect(request.root == post)
        #expect(request.text.contains("Repost this within 15 minutes"))

        // Alice reposts the confirmation request: the order is made and "confirmed" goes out.
        fake.appendRepost(did: Self.alice, rkey: "3mrepost1", of: BlueskyStrongRef(uri: request.uri, cid: request.cid))
        var confirmed = false
        for _ in 0..<300 where !confirmed {
            confirmed = try await engine.runRound().outcomes.contains { if case .confirmed = $0 { true } else { false } }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(confirmed)
        for _ in 0..<300 where fake.records.withLock({ $0.count }) < 3 {
            _ = try await engine.runRound()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(fake.records.withLock { $0.count } == 3, "the announcement, the confirmation request and \"confirmed\"")
        let sold = try await store.read { try $0.offers() }.first { $0.id == offer.id }
        #expect(sold?.soldUnits == 1)
        // The cursor is stored with the events: Jetstream time_us, at least the repost's.
        let cursor = try #require(try await store.write { try $0.cursor(network: .bluesky) })
        #expect(Int64(cursor)! >= fake.stream.withLock { $0.last { $0.1.contains("3mrepost1") }!.0 })
        #expect(try await store.read { try $0.audit() } == [])
    }

    @Test("a dropped connection resumes from the cursor, rewound, and replayed events are not handed over twice")
    func reconnectAndResume() async throws {
        let fake = FakeBluesky()
        let server = try await fake.start()
        defer { server.cancel() }
        let bluesky = try connector(fake)
        defer { bluesky.stop() }
        await bluesky.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var cursor: String?
        _ = try await bluesky.events(after: nil, limit: 10)
        try await waitForConnections(fake, 1)
        fake.dropAfterMessages.withLock { $0 = nil }
        for index in 0..<5 { fake.appendPost(did: Self.alice, rkey: "3mfirst\(index)aaaa", text: "#BuyAmexTee \(index)") }
        let first = try await poll(bluesky, cursor: &cursor) { $0.count == 5 }
        #expect(first.count == 5)
        // The next connection will carry 2 messages and drop; the connector reconnects on its own.
        fake.dropAfterMessages.withLock { $0 = 2 }
        // Force a reconnect: the server closes after 2 more messages of the *next* connection, so
        // end this one by stopping and restarting from the stored cursor, as after a crash.
        bluesky.stop()
        let restarted = try connector(fake)
        defer { restarted.stop() }
        await restarted.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        for index in 0..<6 { fake.appendPost(did: Self.alice, rkey: "3msecond\(index)aaa", text: "#BuyAmexTee \(index)") }
        let second = try await poll(restarted, cursor: &cursor) { events in
            Set(events.map(\.eventID)).isSuperset(of: (0..<6).map { "at://\(Self.alice)/app.bsky.feed.post/3msecond\($0)aaa" })
        }
        let connections = fake.connections.withLock { $0 }
        #expect(connections.count >= 3, "the dropped connection was reopened: \(connections)")
        // Every reconnect asked for the stored cursor rewound by 1 s (Jetstream replays inclusively).
        let resumed = try #require(connections.dropFirst().first ?? nil)
        #expect(resumed <= Int64(try #require(cursor))!)
        #expect(Int64(first.last!.createdAt.millisecondsSinceEpoch) * 1_000 - resumed <= 1_000_000 + 1_000)
        // Replays after the rewind were dropped inside one connector; the engine's key covers the rest.
        #expect(Set(second.map(\.eventID)).count == second.count)
        // Every message the restarted connector read was kept once or dropped as a duplicate; when
        // it read more messages than the fake had distinct lines for it, the drop's replay reached
        // it and must have been dropped. (On a loaded machine its first connection can fail before
        // reading anything; then nothing is replayed to it and there is nothing to drop.)
        let statistics = restarted.statistics
        let distinctSent = Set(fake.sentPerConnection.withLock { $0.dropFirst().flatMap { $0 } }).count
        #expect(statistics.kept + statistics.duplicates == statistics.messages)
        if statistics.messages > distinctSent {
            #expect(statistics.duplicates >= statistics.messages - distinctSent, "the replay after the drop re-sent events already handed over")
        }
    }

    @Test("malformed, truncated, oversize and unknown messages are refused; the stream goes on")
    func badMessages() async throws {
        let fake = FakeBluesky()
        let server = try await fake.start()
        defer { server.cancel() }
        let bluesky = try connector(fake)
        defer { bluesky.stop() }
        await bluesky.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var cursor: String?
        _ = try await bluesky.events(after: nil, limit: 10)
        try await waitForConnections(fake, 1)
        let good = ##"{"did":"did:plc:aliceaaaaaaaaaaaaaaaaaaa","time_us":1783175889000000,"kind":"commit","commit":{"rev":"3m","operation":"create","collection":"app.bsky.feed.post","rkey":"3mgood","record":{"text":"#BuyAmexTee"},"cid":"bafy"}}"##
        fake.append(raw: "not json at all")
        fake.append(raw: String(good.prefix(90)))  // truncated
        fake.append(raw: ##"{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"bad rkey","record":{"text":"#BuyAmexTee"}}}"##)
        fake.append(raw: ##"{"did":"did:plc:x","time_us":1,"kind":"mystery","mystery":{}}"##)  // unknown kind: skipped
        fake.append(raw: "{\"pad\":\"" + String(repeating: "x", count: 300_000) + "\"}")  // oversize
        fake.append(raw: good)
        let events = try await poll(bluesky, cursor: &cursor) { !$0.isEmpty }
        #expect(events.map(\.eventID) == ["at://did:plc:aliceaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3mgood"])
        let statistics = bluesky.statistics
        #expect(statistics.refused == 4, "\(statistics)")
        #expect(statistics.connections == 1, "no reconnect was needed: \(statistics)")
        // What the operator's console and /metrics show.
        let health = bluesky.health()
        #expect(health.network == .bluesky && health.connected && health.streamsOpen == 1 && health.streamsWanted == 1, "\(health)")
        #expect(health.refused == 4 && health.reconnects == 0 && health.events == 1, "\(health)")
        #expect(health.lastEventAt != nil && (health.lagMilliseconds ?? -1) >= 0, "\(health)")
    }

    @Test("replies: the same idempotency key never posts twice; a wrong password and a rate limit fail clearly")
    func replies() async throws {
        let fake = FakeBluesky()
        let server = try await fake.start()
        defer { server.cancel() }
        let bluesky = try connector(fake)
        let post = fake.appendPost(did: Self.alice, rkey: "3mparentpost1", text: "#BuyAmexTee")
        let first = try await bluesky.reply(to: post.uri, text: "Repost this within 15 minutes to buy. Ref A1", idempotencyKey: "confirm:p1")
        let again = try await bluesky.reply(to: post.uri, text: "Repost this within 15 minutes to buy. Ref A1", idempotencyKey: "confirm:p1")
        #expect(first.postID == again.postID)
        #expect(first.postID.hasPrefix("at://\(FakeBluesky.officialDID)/app.bsky.feed.post/"))
        #expect(fake.records.withLock { $0.count } == 1)
        #expect(fake.sessionCalls.withLock { $0 } == 1, "the session is reused")
        // The parent's CID came from getPosts (this connector never saw the post on its stream).
        #expect(fake.records.withLock { $0.values.first?.parent } == post)

        fake.rateLimitNextCreate.withLock { $0 = true }
        let limited = await #expect(throws: ConnectorError.self) {
            try await bluesky.reply(to: post.uri, text: "second", idempotencyKey: "confirm:p2")
        }
        #expect(limited?.isRetryable == true)
        let calls = fake.createCalls.withLock { $0 }
        // Until the reset time, no call reaches the network.
        await #expect(throws: ConnectorError.self) { try await bluesky.reply(to: post.uri, text: "third", idempotencyKey: "confirm:p3") }
        #expect(fake.createCalls.withLock { $0 } == calls)

        let wrong = try connector(fake, password: "not-the-password")
        let refused = await #expect(throws: ConnectorError.self) {
            try await wrong.reply(to: post.uri, text: "x", idempotencyKey: "confirm:p4")
        }
        #expect(refused?.isRetryable == false)
        #expect(refused?.message.contains("createSession") == true)
        #expect(refused?.message.contains("not-the-password") == false)

        await #expect(throws: ConnectorError.self) { try await bluesky.reply(to: "https://evil.example/x", text: "x", idempotencyKey: "k") }
    }

    @Test("record keys are TIDs derived from the idempotency key")
    func recordKeys() {
        let a = RecordKey.tid(forIdempotencyKey: "confirm:pur_1")
        #expect(a == RecordKey.tid(forIdempotencyKey: "confirm:pur_1"))
        #expect(a != RecordKey.tid(forIdempotencyKey: "confirm:pur_2"))
        #expect(a.count == 13)
        #expect(a.allSatisfy { "234567abcdefghijklmnopqrstuvwxyz".contains($0) })
        #expect("234567abcdefghij".contains(a.first!), "the top bit of a TID is zero")
    }

    @Test("configuration: each wrong setting is named", arguments: [
        ("http://jet/subscribe", "http://pds", "did:plc:a", "h", "p", "bluesky.jetstream"),
        ("ws://jet/subscribe?x=1", "http://pds", "did:plc:a", "h", "p", "bluesky.jetstream"),
        ("ws://jet/subscribe", "ftp://pds", "did:plc:a", "h", "p", "bluesky.service"),
        ("ws://jet/subscribe", "http://pds", "alice", "h", "p", "bluesky.official_did"),
        ("ws://jet/subscribe", "http://pds", "did:plc:a", "", "p", "bluesky.identifier"),
        ("ws://jet/subscribe", "http://pds", "did:plc:a", "h", "", "HASHCART_BLUESKY_APP_PASSWORD"),
    ])
    func configuration(_ jet: String, _ service: String, _ did: String, _ identifier: String, _ password: String, _ field: String) {
        let configuration = BlueskyConfiguration(jetstreamURL: jet, serviceURL: service, officialDID: did, identifier: identifier, appPassword: password)
        #expect(throws: ValidationError.self) { try configuration.validated() }
        #expect((try? configuration.validated()) == nil)
        do { _ = try configuration.validated() } catch { #expect(error.field == field) }
    }

    @Test("an announcement is a post of its own under the key's record key: a retry finds it, never a second post")
    func announcement() async throws {
        let fake = FakeBluesky()
        let server = try await fake.start()
        defer { server.cancel() }
        let bluesky = try connector(fake)
        let text = "Amex Tee $25.00 + tax with your linked card. Post #BuyAmexTee to buy. Qty limited."
        let first = try await bluesky.announce(text: text, idempotencyKey: "announce:o1:bluesky")
        let again = try await bluesky.announce(text: text, idempotencyKey: "announce:o1:bluesky")
        #expect(first.postID == again.postID)
        #expect(first.postID == "at://\(FakeBluesky.officialDID)/app.bsky.feed.post/\(RecordKey.tid(forIdempotencyKey: "announce:o1:bluesky"))")
        let records = fake.records.withLock { Array($0.values) }
        #expect(records.count == 1 && records.first?.text == text && records.first?.parent == nil && records.first?.root == nil)
        let body = try #require(fake.createBodies.withLock { $0.first })
        let record = try #require((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["record"] as? [String: Any])
        #expect(record["reply"] == nil)
        await #expect(throws: ConnectorError.self) { try await bluesky.announce(text: String(repeating: "x", count: 301), idempotencyKey: "k") }
    }
}
