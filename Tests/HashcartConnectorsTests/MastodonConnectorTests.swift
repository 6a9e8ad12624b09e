import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Logging
import Testing

/// The Mastodon connector over real HTTP and Server-Sent Events on loopback, against ``FakeMastodon``.
@Suite("Mastodon connector over loopback", .serialized)
struct MastodonConnectorTests {
    func connector(_ fake: FakeMastodon, token: String = FakeMastodon.shop.token) throws -> MastodonConnector {
        var logger = Logger(label: "test.mastodon")
        logger.logLevel = .critical
        return try MastodonConnector(configuration: MastodonConfiguration(serverURL: fake.baseURL, officialAccountURI: fake.accountURI(FakeMastodon.shop),
                                                                          accessToken: token),
                                     clock: SystemWallClock(), logger: logger)
    }

    @Test("a purchase end to end: hashtag stream → unlisted reply with Idempotency-Key → boost notification → order")
    func purchaseEndToEnd() async throws {
        let fake = FakeMastodon()
        let server = try await fake.start()
        defer { server.cancel() }
        let mastodon = try connector(fake)
        defer { mastodon.stop() }
        let world = try await ConnectorWorld(connector: mastodon, buyer: SocialIdentity(network: .mastodon, userID: fake.accountURI(FakeMastodon.alice), handle: "@alice"),
                                       namespace: "m")
        defer { world.close() }
        let (engine, store) = (world.engine, world.store)

        _ = try await engine.runRound()
        try await eventually("both streams") { fake.streamConnections.withLock { $0.count } >= 2 }
        #expect(Set(fake.streamConnections.withLock { $0 }) == ["/api/v1/streaming/user/notification?", "/api/v1/streaming/hashtag?tag=buyamextee"])

        fake.post(as: FakeMastodon.bob, "nothing to do with the sale #caturday")
        let post = fake.post(as: FakeMastodon.alice, "I want it #BuyAmexTee")
        try await eventually("the confirmation reply") {
            _ = try await engine.runRound()
            return !fake.replies(to: post).isEmpty
        }
        let request = try #require(fake.replies(to: post).first)
        #expect(request.visibility == "unlisted", "a buyer can boost unlisted, not direct or private")
        #expect(request.text.hasPrefix("@alice "))
        #expect(request.text.contains("Repost this within 15 minutes"))

        #expect(fake.reblog(as: FakeMastodon.alice, request.id) != nil)

        try await eventually("the order") {
            _ = try await engine.runRound()
            return await world.soldUnits == 1
        }
        try await eventually("the confirmed reply") {
            _ = try await engine.runRound()
            return fake.replies(to: post).contains { $0.text.contains("Confirmed") }
        }
        let cursor = try #require(try await store.write { try $0.cursor(network: .mastodon) })
        #expect(cursor.contains("\"notifications\""), "\(cursor)")
        #expect(cursor.contains("\"tag:buyamextee\":\"\(post)\""), "\(cursor)")
        #expect(try await store.read { try $0.audit() } == [])
    }

    @Test("after a restart each stream reads what it missed from the REST timelines (min_id), then follows the stream")
    func backfillAfterRestart() async throws {
        let fake = FakeMastodon()
        let server = try await fake.start()
        defer { server.cancel() }
        var cursor: String?
        var seen: [String] = []
        let first = try connector(fake)
        await first.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        _ = try await first.events(after: nil, limit: 10)
        try await eventually("both streams") { fake.streamConnections.withLock { $0.count } >= 2 }
        let before = fake.post(as: FakeMastodon.alice, "#BuyAmexTee one")
        try await eventually("the first post") {
            let page = try await first.events(after: cursor, limit: 10)
            seen += page.events.map(\.eventID)
            cursor = page.nextCursor ?? cursor
            return seen.contains(before)
        }
        first.stop()

        // While nobody listens: two posts and a boost notification.
        let missed = [fake.post(as: FakeMastodon.alice, "#BuyAmexTee two"), fake.post(as: FakeMastodon.bob, "#buyamextee three")]
        let confirmation = fake.post(as: FakeMastodon.shop, "@alice Repost this within 15 minutes to buy. Ref A1", inReplyTo: before, visibility: "unlisted")
        fake.reblog(as: FakeMastodon.alice, confirmation)

        let second = try connector(fake)
        defer { second.stop() }
        await second.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var events: [NetworkEvent] = []
        try await eventually("the backfill") {
            let page = try await second.events(after: cursor, limit: 10)
            events += page.events
            cursor = page.nextCursor ?? cursor
            return Set(events.map(\.eventID)).isSuperset(of: missed) && events.contains { $0.kind == .repost }
        }
        #expect(!events.contains { $0.eventID == before }, "what the engine already took is not read again")
        #expect(events.filter { missed.contains($0.eventID) }.map(\.eventID) == missed, "oldest first")
        let repost = try #require(events.first { $0.kind == .repost })
        #expect(repost.referencedPostID == confirmation)
        #expect(repost.referencedAuthorID == fake.accountURI(FakeMastodon.shop))
        #expect(fake.restCalls.withLock { $0 }.contains { $0.hasPrefix("/api/v1/timelines/tag/buyamextee?") && $0.contains("min_id=\(before)") })
        #expect(second.statistics.backfilled >= 3)
    }

    @Test("a stream that ends is reopened; malformed and oversize events are refused, the stream goes on")
    func reconnectAndGarbage() async throws {
        let fake = FakeMastodon()
        let server = try await fake.start()
        defer { server.cancel() }
        fake.injectedFrames.withLock {
            $0 = ["event: update\ndata: {not json\n\n", "event: update\ndata: " + String(repeating: "x", count: 300_000) + "\n\n",
                  "event: delete\ndata: not-an-id\n\n", "event: filters_changed\n\n", "event: mystery\ndata: {}\n\n"]
        }
        let mastodon = try connector(fake)
        defer { mastodon.stop() }
        await mastodon.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var cursor: String?
        _ = try await mastodon.events(after: nil, limit: 10)
        try await eventually("both streams") { fake.streamConnections.withLock { $0.count } >= 2 }
        fake.endNextStreamAfter.withLock { $0 = 1 }
        var events: [NetworkEvent] = []
        let one = fake.post(as: FakeMastodon.alice, "#BuyAmexTee one")
        try await eventually("the first post") {
            let page = try await mastodon.events(after: cursor, limit: 10)
            events += page.events
            cursor = page.nextCursor ?? cursor
            return events.contains { $0.eventID == one }
        }
        // Force the hashtag stream to end after one event, then keep posting: the connector reconnects.
        let connectionsBefore = fake.streamConnections.withLock { $0.count }
        mastodon.stop()
        let again = try connector(fake)
        defer { again.stop() }
        await again.updateInterest(ConnectorInterest(hashtagKeys: ["buyamextee"]))
        fake.endNextStreamAfter.withLock { $0 = 1 }
        _ = try await again.events(after: cursor, limit: 10)
        try await eventually("new streams") { fake.streamConnections.withLock { $0.count } >= connectionsBefore + 2 }
        let later = [fake.post(as: FakeMastodon.alice, "#BuyAmexTee two"), fake.post(as: FakeMastodon.alice, "#BuyAmexTee three")]
        try await eventually("both later posts") {
            let page = try await again.events(after: cursor, limit: 10)
            events += page.events
            cursor = page.nextCursor ?? cursor
            // Both posts, and the reconnect after the stream that ended (they may race: the
            // backfill of the first connection can bring the posts before the stream ends).
            return Set(events.map(\.eventID)).isSuperset(of: later) && again.statistics.connections >= 3
        }
        #expect(again.statistics.refused >= 3, "\(again.statistics)")
        #expect(again.statistics.connections >= 3, "the ended stream was reopened: \(again.statistics)")
        let health = again.health()
        #expect(health.streamsWanted == 2 && health.reconnects >= 1 && health.refused >= 3 && health.events >= 2, "\(health)")
        #expect(Set(events.map(\.eventID)).count == events.count, "nothing handed over twice")
    }

    @Test("replies: one Idempotency-Key posts once; a 429 pauses calls; a token of another account is refused clearly")
    func replies() async throws {
        let fake = FakeMastodon()
        let server = try await fake.start()
        defer { server.cancel() }
        let mastodon = try connector(fake)
        let post = fake.post(as: FakeMastodon.alice, "#BuyAmexTee")
        let first = try await mastodon.reply(to: post, text: "@alice Repost this within 15 minutes to buy. Ref A1", idempotencyKey: "confirm:p1")
        let again = try await mastodon.reply(to: post, text: "@alice Repost this within 15 minutes to buy. Ref A1", idempotencyKey: "confirm:p1")
        #expect(first.postID == again.postID)
        #expect(fake.replies(to: post).count == 1)

        fake.rateLimitNextPost.withLock { $0 = true }
        let limited = await #expect(throws: ConnectorError.self) { try await mastodon.reply(to: post, text: "x", idempotencyKey: "confirm:p2") }
        #expect(limited?.isRetryable == true)
        let calls = fake.postCalls.withLock { $0 }
        await #expect(throws: ConnectorError.self) { try await mastodon.reply(to: post, text: "y", idempotencyKey: "confirm:p3") }
        #expect(fake.postCalls.withLock { $0 } == calls, "no call during the pause")

        let gone = try connector(fake)
        let missing = await #expect(throws: ConnectorError.self) { try await gone.reply(to: "999", text: "x", idempotencyKey: "k") }
        #expect(missing?.isRetryable == false)

        let impostor = try connector(fake, token: FakeMastodon.bob.token)
        let refused = await #expect(throws: ConnectorError.self) { try await impostor.events(after: nil, limit: 10) }
        #expect(refused?.isRetryable == false)
        #expect(refused?.message.contains("not the configured official account") == true)
        await #expect(throws: ConnectorError.self) { try await mastodon.events(after: "{\"notifications\":\"abc\"}", limit: 10) }
    }

    @Test("an announcement is a public status of its own, posted once per Idempotency-Key")
    func announcement() async throws {
        let fake = FakeMastodon()
        let server = try await fake.start()
        defer { server.cancel() }
        let mastodon = try connector(fake)
        let text = "Amex Tee $25.00 + tax with your linked card. Post #BuyAmexTee to buy. Qty limited."
        let first = try await mastodon.announce(text: text, idempotencyKey: "announce:o1:mastodon")
        let again = try await mastodon.announce(text: text, idempotencyKey: "announce:o1:mastodon")
        #expect(first.postID == again.postID)
        let status = try #require(fake.statuses.withLock { $0[first.postID] })
        #expect(status.text == text && status.inReplyToID == nil && status.visibility == "public" && status.accountID == FakeMastodon.shop.id)
        await #expect(throws: ConnectorError.self) { try await mastodon.announce(text: String(repeating: "x", count: 501), idempotencyKey: "k") }
    }
}
