import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

@Suite(.onEveryBackend) struct OfficialAccountTests {
    /// The network echoes the issuer's own posts: an announcement or an "expired" reply naming the
    /// hashtag must never count as a purchase post, invite the official account, or buy.
    @Test func theOfficialAccountsOwnPostsAreIgnored() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Shop")
        let offer = try await world.offer(merchant: merchant)
        try world.sandbox.post(authorID: world.sandbox.official.id, text: offer.announcement)
        let (_, alice) = try await world.cardholder(handle: "alice")
        let post = try world.sandbox.post(authorID: alice.id, text: "#BuyKindleFireHD")
        try await world.settle()
        world.clock.advance(seconds: 20 * 60)  // alice never confirms: the expiry reply names the hashtag
        try await world.settle()
        try await world.settle()

        let funnel = try await world.store.read { try $0.funnel(offer: offer.id) }
        #expect(funnel[FunnelMetric.posts.rawValue] == 1)
        #expect(funnel[FunnelMetric.unlinkedPosts.rawValue] == nil)
        #expect(funnel[FunnelMetric.expired.rawValue] == 1)
        let official = try world.sandbox.posts(authorID: world.sandbox.official.id, limit: 100)
        #expect(official.contains { $0.text.contains("has closed") && $0.referencedPostID == post.id })
        #expect(!official.contains { $0.text.contains("Link your card") })
        #expect(try await world.audit() == [])
    }
}
