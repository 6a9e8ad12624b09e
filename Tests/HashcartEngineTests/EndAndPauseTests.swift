import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// Ending or pausing an offer stops sales already in their confirmation window: a confirmation
/// processed after it declines with its reason, releases the unit, charges nothing, and tells the
/// public only the generic reason.
@Suite(.onEveryBackend) struct EndAndPauseTests {
    @Test(arguments: [OfferLifecycle.ended, .paused])
    func aConfirmationAfterTheMerchantStopsTheOfferDeclines(lifecycle: OfferLifecycle) async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 3)
        let (card, alice) = try await world.cardholder(handle: "alice")
        let (post, request) = try await world.post(alice)
        let confirmation = try #require(request)
        #expect(try await world.offerNow(offer.id).reservedUnits == 1)

        _ = try await world.engine.setLifecycle(of: offer.id, to: lifecycle)
        world.clock.advance(seconds: 30)
        try world.sandbox.repost(authorID: alice.id, postID: confirmation.id)
        let outcomes = try await world.settle()
        let reason: DeclineReason = lifecycle == .ended ? .offerEnded : .offerPaused
        #expect(outcomes.contains { if case .declined(_, reason) = $0 { true } else { false } }, "\(outcomes)")

        let purchase = try #require(try await world.purchase(of: post))
        #expect(purchase.state == .declined && purchase.declineReason == reason)
        #expect(try await world.orders().isEmpty)
        let now = try await world.offerNow(offer.id)
        #expect(now.reservedUnits == 0 && now.soldUnits == 0)
        #expect(try await world.creditLine(card).availableCredit == 500_000)  // no hold
        #expect(try await world.notifications(card).contains { $0.kind == "declined" && $0.message.hasSuffix(reason.cardholderMessage) })
        let publicReply = try world.replies(to: post.id).last?.text ?? ""
        #expect(!publicReply.contains("Confirmed"), "\(publicReply)")
        #expect(try await world.audit() == [])
    }

    /// Pause, then resume inside the window: the offer is live when the confirmation comes, so it buys.
    @Test func resumedInTimeTheConfirmationBuys() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 3)
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (post, request) = try await world.post(alice)
        _ = try await world.engine.setLifecycle(of: offer.id, to: .paused)
        _ = try await world.engine.setLifecycle(of: offer.id, to: .published)
        try world.sandbox.repost(authorID: alice.id, postID: try #require(request).id)
        try await world.settle()
        #expect(try await world.purchase(of: post)?.state == .authorized)
        #expect(try await world.orders().count == 1)
        #expect(try await world.audit() == [])
    }

    /// An offer whose scheduled end passes inside a purchase's window declines that confirmation too.
    @Test func aConfirmationAfterTheScheduledEndDeclines() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        var draft = OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "KFHD", price: .usd(14999), hashtag: "#BuyKindleFireHD",
                               quantity: 3)
        draft.endsAt = world.clock.now().adding(seconds: 60)
        let offer = try await world.engine.createOffer(draft)
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (post, request) = try await world.post(alice)
        world.clock.advance(seconds: 120)
        try world.sandbox.repost(authorID: alice.id, postID: try #require(request).id)
        try await world.settle()
        #expect(try await world.purchase(of: post)?.declineReason == .offerEnded)
        #expect(try await world.offerNow(offer.id).reservedUnits == 0)
        #expect(try await world.orders().isEmpty)
        #expect(try await world.audit() == [])
    }
}
