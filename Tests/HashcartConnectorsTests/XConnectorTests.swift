import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Logging
import Testing

/// The X connector over real HTTP on loopback, against ``FakeX``.
@Suite("X connector over loopback", .serialized)
struct XConnectorTests {
    func connector(_ fake: FakeX) throws -> XConnector {
        var logger = Logger(label: "test.x")
        logger.logLevel = .critical
        var configuration = XConfiguration(apiURL: fake.baseURL, officialUserID: "999", officialUsername: "ShopBot",
                                           bearerToken: FakeX.appToken, userToken: FakeX.shopToken)
        configuration.idleTimeoutSeconds = 10
        return try XConnector(configuration: configuration, clock: SystemWallClock(), logger: logger)
    }

    @Test("a purchase end to end: rules synced, the stream brings the post, POST /2/tweets replies, the retweet confirms")
    func purchaseEndToEnd() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        fake.rules.withLock { $0 = [FakeX.Rule(id: "7", value: "cat has:images", tag: "someone else's")] }
        let x = try connector(fake)
        defer { x.stop() }
        let world = try await ConnectorWorld(connector: x, buyer: SocialIdentity(network: .x, userID: "111", handle: "@alice"), namespace: "x")
        defer { world.close() }
        let (engine, store) = (world.engine, world.store)

        _ = try await engine.runRound()
        try await eventually("the stream") { !fake.streamConnections.withLock { $0 }.isEmpty }
        let rules = fake.rules.withLock { $0 }
        #expect(Set(rules.map(\.value)) == ["cat has:images", "retweets_of:ShopBot", "@ShopBot -is:retweet", "#buyamextee -is:retweet"])

        fake.post(as: "222", "just a cat #caturday")
        let post = fake.post(as: "111", "I want it #BuyAmexTee")
        try await eventually("the confirmation reply") {
            _ = try await engine.runRound()
            return !fake.replies(to: post).isEmpty
        }
        let request = try #require(fake.replies(to: post).first)
        #expect(request.authorID == "999")
        #expect(request.text.hasPrefix("@alice "))
        fake.retweet(as: "111", request.id)
        try await eventually("the order") {
            _ = try await engine.runRound()
            return await world.soldUnits == 1
        }
        let cursor = try #require(try await store.write { try $0.cursor(network: .x) })
        #expect(UInt64(cursor)! >= UInt64(post)!)
        #expect(try await store.read { try $0.audit() } == [])
    }

    @Test("after a restart the gap is read with recent search from the cursor (rewound), duplicates dropped")
    func recoveryAfterRestart() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        var cursor: String?
        var seen: [String] = []
        let first = try connector(fake)
        await first.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        _ = try await first.events(after: nil, limit: 10)
        try await eventually("the stream") { !fake.streamConnections.withLock { $0 }.isEmpty }
        let before = fake.post(as: "111", "#BuyAmexTee one")
        try await eventually("the first post") {
            let page = try await first.events(after: cursor, limit: 10)
            seen += page.events.map(\.eventID)
            cursor = page.nextCursor ?? cursor
            return seen.contains(before)
        }
        first.stop()
        let missed = [fake.post(as: "111", "#BuyAmexTee two"), fake.post(as: "222", "#buyamextee three")]
        let confirmation = fake.post(as: "999", "@alice Repost this within 15 minutes to buy. Ref A1", inReplyTo: before)
        let retweet = fake.retweet(as: "111", confirmation)

        let second = try connector(fake)
        defer { second.stop() }
        await second.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var events: [NetworkEvent] = []
        try await eventually("the recovery") {
            let page = try await second.events(after: cursor, limit: 10)
            events += page.events
            cursor = page.nextCursor ?? cursor
            return Set(events.map(\.eventID)).isSuperset(of: missed + [retweet])
        }
        let repost = try #require(events.first { $0.eventID == retweet })
        #expect(repost.kind == .repost)
        #expect(repost.referencedPostID == confirmation)
        #expect(repost.referencedAuthorID == "999")
        #expect(Set(events.map(\.eventID)).count == events.count, "nothing handed over twice")
        #expect(second.statistics.recovered >= 3)
        #expect(fake.searchQueries.withLock { $0 }.contains { $0.contains("since_id=") })
    }

    @Test("a lost answer: the retry meets X's duplicate-content refusal and returns the first post")
    func duplicateContentReconciled() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        let x = try connector(fake)
        let post = fake.post(as: "111", "#BuyAmexTee")
        fake.loseNextPostAnswer.withLock { $0 = true }
        let text = "@alice Amex Tee, $27.19 total with tax. Repost this within 15 minutes to buy. Ref K7Q2MX"
        let lost = await #expect(throws: ConnectorError.self) { try await x.reply(to: post, text: text, idempotencyKey: "confirm:p1") }
        #expect(lost?.isRetryable == true)
        let retried = try await x.reply(to: post, text: text, idempotencyKey: "confirm:p1")
        #expect(fake.replies(to: post).count == 1, "posted once")
        #expect(retried.postID == fake.replies(to: post).first?.id)
        await #expect(throws: ConnectorError.self) { try await x.reply(to: "not-a-number", text: "x", idempotencyKey: "k") }
        let long = await #expect(throws: ConnectorError.self) { try await x.reply(to: post, text: String(repeating: "x", count: 281), idempotencyKey: "k") }
        #expect(long?.isRetryable == false)
    }

    @Test("garbage lines are refused, keep-alives counted, the stream goes on; a disconnect problem reconnects")
    func garbageAndDisconnect() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        fake.injectedLines.withLock {
            $0 = ["{not json", "{\"data\":{\"id\":\"x1\",\"text\":\"t\",\"author_id\":\"1\",\"created_at\":\"2024-01-15T10:35:00.000Z\"}}", "", "[]",
                  "{\"data\":{\"text\":\"" + String(repeating: "x", count: 600_000) + "\"}}",
                  "{\"errors\":[{\"title\":\"operational-disconnect\",\"disconnect_type\":\"UpstreamOperationalDisconnect\"}]}"]
        }
        let x = try connector(fake)
        defer { x.stop() }
        await x.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var cursor: String?
        _ = try await x.events(after: nil, limit: 10)
        try await eventually("a reconnect after the disconnect problem") { fake.streamConnections.withLock { $0.count } >= 2 }
        let post = fake.post(as: "111", "#BuyAmexTee after the reconnect")
        var events: [NetworkEvent] = []
        try await eventually("the post") {
            let page = try await x.events(after: cursor, limit: 10)
            events += page.events
            cursor = page.nextCursor ?? cursor
            return events.contains { $0.eventID == post }
        }
        #expect(x.statistics.refused == 4, "not JSON, a non-numeric id, an array, an oversize line: \(x.statistics)")
        #expect(x.statistics.keepAlives >= 1, "\(x.statistics)")
        let health = x.health()
        #expect(health.refused == 4 && health.reconnects >= 1 && health.events >= 1 && health.streamsWanted == 1, "\(health)")
        #expect(health.lagMilliseconds != nil, "\(health)")
        x.stop()
        try await eventually("the stopped stream closes") { x.health().streamsWanted == 0 && x.health().streamsOpen == 0 }
    }

    @Test("a connection cut in the middle of a line: the half line is never read as a post, the post comes whole after the reconnect")
    func cutMidLine() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        let x = try connector(fake)
        defer { x.stop() }
        await x.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var cursor: String?
        var events: [NetworkEvent] = []
        // A first post, so there is a cursor to recover from.
        _ = try await x.events(after: nil, limit: 10)
        try await eventually("the stream") { !fake.streamConnections.withLock { $0 }.isEmpty }
        let first = fake.post(as: "111", "#BuyAmexTee first")
        try await eventually("the first post") {
            let page = try await x.events(after: cursor, limit: 10)
            events += page.events
            cursor = page.nextCursor ?? cursor
            return events.contains { $0.eventID == first }
        }
        x.stop()
        // The next connection sends half of a post's line and dies; the post itself exists on X.
        let second = fake.post(as: "111", "#BuyAmexTee second")
        let whole = "{\"data\":{\"id\":\"\(second)\",\"text\":\"#BuyAmexTee second\",\"author_id\":\"111\",\"created_at\":\"2026-08-30T12:00:00.000Z\"}}"
        fake.cutNextStreamWith.withLock { $0 = String(whole.prefix(40)) }
        let again = try connector(fake)
        defer { again.stop() }
        await again.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var later: [NetworkEvent] = []
        try await eventually("the second post, whole") {
            let page = try await again.events(after: cursor, limit: 10)
            later += page.events
            cursor = page.nextCursor ?? cursor
            return later.contains { $0.eventID == second } && again.statistics.connections >= 2
        }
        let post = try #require(later.first { $0.eventID == second })
        #expect(post.text == "#BuyAmexTee second")
        #expect(again.statistics.refused == 0, "the half line was dropped with the connection, not parsed")
    }

    @Test("an announcement is a post of its own; a lost answer meets the duplicate refusal and finds the first post")
    func announcement() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        let x = try connector(fake)
        let text = "Amex Tee $25.00 + tax with your linked card. Post #BuyAmexTee to buy. Qty limited."
        fake.loseNextPostAnswer.withLock { $0 = true }
        let lost = await #expect(throws: ConnectorError.self) { try await x.announce(text: text, idempotencyKey: "announce:o1:x") }
        #expect(lost?.isRetryable == true)
        let posted = try await x.announce(text: text, idempotencyKey: "announce:o1:x")
        let mine = fake.tweets.withLock { Array($0.values) }.filter { $0.text == text }
        #expect(mine.count == 1 && mine.first?.inReplyTo == nil && mine.first?.id == posted.postID)
        #expect(mine.first?.authorID == FakeX.users.first { $0.token == FakeX.shopToken }?.id)
        let long = await #expect(throws: ConnectorError.self) { try await x.announce(text: String(repeating: "x", count: 281), idempotencyKey: "k") }
        #expect(long?.isRetryable == false)
    }
}
