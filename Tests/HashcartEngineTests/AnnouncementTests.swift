import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// The issuer's official account announces each offer once when it goes live, on its network.
@Suite(.onEveryBackend) struct AnnouncementTests {
    func announcements(_ world: TestWorld) throws -> [SandboxPost] {
        try world.officialPosts().filter { $0.kind == .post }
    }

    @Test func aLiveOfferIsAnnouncedOnceAndBuysFromIt() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant)
        try await world.settle()
        let posted = try announcements(world)
        #expect(posted.map(\.text) == ["Kindle Fire HD $149.99 + tax with your linked card. Post #BuyKindleFireHD to buy. Qty limited."])
        #expect(posted.first?.referencedPostID == nil)
        for _ in 0..<3 {
            world.clock.advance(seconds: 5)
            try await world.settle()
        }
        #expect(try announcements(world).count == 1, "announced once")
        // People share and answer the announcement: nothing is bought, and nothing waits as an early confirmation.
        let (_, fan) = try await world.cardholder(handle: "fan")
        let announcement = try #require(try announcements(world).first)
        try world.sandbox.repost(authorID: fan.id, postID: announcement.id)
        _ = try world.sandbox.post(authorID: fan.id, text: "can't wait", inReplyTo: announcement.id)
        let outcomes = try await world.settle()
        #expect(!outcomes.contains(.parked), "\(outcomes)")
        #expect(try await world.store.read { try $0.count("parked_events") } == 0)
        // The announcement came back on the stream from the official account: never a purchase.
        #expect(try await world.purchases().isEmpty)
        let (_, alice) = try await world.cardholder(handle: "alice")
        #expect(try await world.buy(alice).state == .authorized)
        #expect(try await world.offerNow(offer.id).soldUnits == 1)
    }

    @Test func aScheduledOfferIsAnnouncedWhenItStartsAndOnlyIfItAsks() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let start = world.clock.now().adding(seconds: 3_600)
        _ = try await world.offer(merchant: merchant) { $0.startsAt = start }
        _ = try await world.offer(merchant: merchant, hashtag: "#QuietLaunch") { $0.announce = false }
        _ = try await world.offer(merchant: merchant, hashtag: "#DraftOnly") { $0.publish = false }
        try await world.settle()
        #expect(try announcements(world).isEmpty)
        world.clock.advance(seconds: 3_600)
        try await world.settle()
        #expect(try announcements(world).map(\.text).allSatisfy { $0.contains("#BuyKindleFireHD") })
        #expect(try announcements(world).count == 1)
    }

    /// The merchant has seen its buyers' names and shipping addresses: an offer titled with one is
    /// never announced, and the outbox keeps why.
    @Test(arguments: ["Kindle 65 Broadway edition", "Signed by Ada Lovelace", "Albany 12207 local deal"])
    func anAnnouncementRevealingABuyerIsNotPosted(title: String) async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant)
        let (_, alice) = try await world.cardholder(handle: "alice")  // Ada Lovelace, 65 Broadway, Albany NY 12207, 4242
        try await world.buy(alice)
        world.clock.advance(seconds: 5)
        let revealing = try await world.offer(merchant: merchant, hashtag: "#BuyAgain") { $0.title = title }
        try await world.settle()
        #expect(try announcements(world).count == 1, "only the first offer's")
        #expect(try world.officialPosts().allSatisfy { !$0.text.contains(title) })
        let refused = try #require(try await world.store.read { try $0.outboundPosts() }.first { $0.key == "announce:\(revealing.id):sandbox" })
        #expect(refused.state == .failed && refused.lastError?.hasPrefix("not posted: the text would reveal") == true, "\(refused)")
        world.clock.advance(seconds: 5)
        try await world.settle()
        #expect(try announcements(world).count == 1, "not tried again")
        #expect(try await world.audit() == [])
    }

    /// What the merchant cannot know (a buyer's card digits, limit, balance) is not held against a
    /// title or price that happens to match it; a card number is.
    @Test func onlyWhatTheMerchantKnowsWithholdsAnAnnouncement() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant)
        let (_, alice) = try await world.cardholder(handle: "alice")  // card 4242, limit $5,000.00
        try await world.buy(alice)
        _ = try await world.offer(merchant: merchant, hashtag: "#BigTV", price: 500_000) { $0.title = "Model 4242 TV" }
        _ = try await world.offer(merchant: merchant, hashtag: "#CardCase") { $0.title = "Case for 4111 1111 1111 1111" }
        world.clock.advance(seconds: 5)
        try await world.settle()
        let texts = try announcements(world).map(\.text)
        #expect(texts.contains("Model 4242 TV $5,000.00 + tax with your linked card. Post #BigTV to buy. Qty limited."), "\(texts)")
        #expect(!texts.contains { $0.contains("4111") })
        #expect(try await world.audit() == [])
    }

    /// While the issuer has stopped everything, or the offer, nothing is announced; afterwards it is.
    @Test func noAnnouncementWhileStopped() async throws {
        let world = try await TestWorld()
        try await world.engine.setIssuerKillSwitch(on: true, reason: "incident")
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let stopped = try await world.offer(merchant: merchant, hashtag: "#Stopped")
        try await world.engine.setKillSwitch(of: stopped.id, on: true)
        _ = try await world.offer(merchant: merchant)
        try await world.settle()
        #expect(try announcements(world).isEmpty)
        try await world.engine.setIssuerKillSwitch(on: false, reason: "resolved")
        world.clock.advance(seconds: 5)
        try await world.settle()
        #expect(try announcements(world).map(\.text).allSatisfy { $0.contains("#BuyKindleFireHD") })
        #expect(try announcements(world).count == 1)
    }

    /// A network that is down when the offer goes live gets the announcement once it is back, once.
    @Test func anOutageDelaysTheAnnouncementButNeverDoublesIt() async throws {
        let world = try await TestWorld()
        let outage = OutageConnector(inner: world.engine.connector)
        try await world.use(connector: outage)
        outage.isDown = true
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant)
        try await world.settle()
        #expect(try announcements(world).isEmpty)
        outage.isDown = false
        world.clock.advance(seconds: 600)
        try await world.settle()
        #expect(try announcements(world).count == 1)
        let outbox = try await world.store.read { try $0.outboundPosts() }.filter { $0.purpose == .announcement }
        #expect(outbox.count == 1 && outbox.first?.state == .sent && outbox.first?.inReplyTo == "")
    }
}
