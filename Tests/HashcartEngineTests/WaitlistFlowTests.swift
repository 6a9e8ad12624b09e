import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// A post on a sold-out offer joins its waitlist; units that come back go to the next in line
/// with a fresh confirmation window; the line closes when the offer ends.
@Suite(.onEveryBackend) struct WaitlistFlowTests {
    @Test func aSoldOutPostWaitsAndBuysWhenAUnitComesBack() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 1)
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (bobCard, bob) = try await world.cardholder(handle: "bob")
        let (_, carol) = try await world.cardholder(handle: "carol")

        _ = try await world.post(alice)  // reserves the only unit, and never confirms
        let (bobPost, bobReply) = try await world.post(bob)
        #expect(bobReply?.text == "@bob Kindle Fire HD is sold out for now. You're number 1 in line: if units free up, we'll reply here.")
        let (carolPost, carolReply) = try await world.post(carol)
        #expect(carolReply?.text.contains("You're number 2 in line") == true)
        let waiting = try #require(try await world.purchase(of: bobPost))
        #expect(waiting.state == .waitlisted && waiting.expiresAt == offer.endsAt)
        #expect(try await world.offerNow(offer.id).reservedUnits == 1)  // the line holds nothing
        #expect(try await world.creditLine(bobCard).availableCredit == 500_000)
        #expect(try await world.audit() == [])

        // Alice's window closes: the unit goes to Bob, first in line, with a window of his own.
        world.clock.advance(seconds: 900 + 60)
        try await world.settle()
        let turn = try #require(try world.reply(to: bobPost.id))
        #expect(turn.text.hasPrefix("@bob Your turn: Kindle Fire HD, $155.99 total with tax. Repost this within 15 minutes to buy."), "\(turn.text)")
        #expect(try await world.purchase(of: bobPost)?.state == .awaitingConfirmation)
        #expect(try await world.purchase(of: carolPost)?.state == .waitlisted)
        #expect(try await world.offerNow(offer.id).reservedUnits == 1)

        world.clock.advance(seconds: 600)  // inside Bob's new window, though long after his post
        try world.sandbox.repost(authorID: bob.id, postID: turn.id)
        try await world.settle()
        #expect(try await world.purchase(of: bobPost)?.state == .authorized)
        #expect(try await world.orders().count == 1)
        let kinds = try await world.notifications(bobCard).map(\.kind)
        #expect(kinds.contains("waitlisted") && kinds.contains("waitlist_turn") && kinds.contains("receipt"), "\(kinds)")
        let funnel = try await world.store.read { try $0.funnel(offer: offer.id) }
        #expect(funnel[FunnelMetric.waitlisted.rawValue] == 2 && funnel[FunnelMetric.waitlistTurns.rawValue] == 1)
        #expect(try await world.audit() == [])
    }

    /// Posts that reach the engine in one batch join the line in the order they were made, and
    /// get their turns in that order.
    @Test func aBatchJoinsTheLineInOrder() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 1)
        let (_, alice) = try await world.cardholder(handle: "alice")
        _ = try await world.post(alice)
        var posts: [SandboxPost] = []
        for handle in ["zoe", "bob", "yan", "carl"] {
            let (_, account) = try await world.cardholder(handle: handle)
            posts.append(try world.sandbox.post(authorID: account.id, text: "me too #BuyKindleFireHD"))
        }
        try await world.settle()  // one batch
        for (index, post) in posts.enumerated() {
            #expect(try world.reply(to: post.id)?.text.contains("You're number \(index + 1) in line") == true)
        }
        world.clock.advance(seconds: 900 + 60)
        try await world.settle()
        #expect(try await world.purchase(of: posts[0])?.state == .awaitingConfirmation)
        #expect(try await world.purchase(of: posts[1])?.state == .waitlisted)
        #expect(try await world.offerNow(offer.id).reservedUnits == 1)
    }

    /// With some units left but fewer than asked, a post is declined (it can ask for what is
    /// there); only a sold-out offer puts posts in line.
    @Test func tooFewLeftDeclinesRatherThanWaits() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant, quantity: 3) { $0.perCardholderLimit = 5 }
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (_, bob) = try await world.cardholder(handle: "bob")
        _ = try await world.post(alice, "#BuyKindleFireHD x2")
        let (post, reply) = try await world.post(bob, "#BuyKindleFireHD x2")
        #expect(try await world.purchase(of: post)?.declineReason == .notEnoughLeft)
        #expect(reply?.text.contains("not enough of Kindle Fire HD is left") == true)
        _ = try await world.post(bob, "#BuyKindleFireHD x1")
        let (tooBig, _) = try await world.post(bob, "#BuyKindleFireHD x4")  // sold out now, but more than the offer ever had
        #expect(try await world.purchase(of: tooBig)?.state == .declined)
    }

    /// A turn that comes the day after the post counts against that day's spend cap.
    @Test func aTurnCountsAgainstTheDayItComes() async throws {
        let world = try await TestWorld(configuration: EngineConfiguration(risk: RiskPolicy(dailySpendCap: .usd(20_000), minimumLinkAgeSeconds: 0)))
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant, quantity: 1)
        _ = try await world.offer(merchant: merchant, hashtag: "#BuyCase", price: 5_000)
        let now = world.clock.now()
        world.clock.advance(seconds: 86_400 - (now.millisecondsSinceEpoch / 1_000) % 86_400 - 120)  // two minutes to midnight (UTC)
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (_, bob) = try await world.cardholder(handle: "bob")
        _ = try await world.post(alice)
        let (bobPost, _) = try await world.post(bob)
        #expect(try await world.purchase(of: bobPost)?.state == .waitlisted)
        world.clock.advance(seconds: 900 + 60)  // the next day: Alice's window closes, Bob's turn comes
        try await world.settle()
        #expect(try await world.purchase(of: bobPost)?.state == .awaitingConfirmation)
        // $155.99 held for today; $52.00 more would pass $200.00.
        let (casePost, _) = try await world.post(bob, "#BuyCase")
        #expect(try await world.purchase(of: casePost)?.declineReason == .dailySpendCap)
    }

    /// The earliest entry whose units fit goes first; one asking for more than is free keeps its place.
    @Test func freedUnitsGoToTheFirstEntryTheyFit() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 3) { $0.perCardholderLimit = 3 }
        let (aliceCard, alice) = try await world.cardholder(handle: "alice")
        let (_, dave) = try await world.cardholder(handle: "dave")
        let (_, bob) = try await world.cardholder(handle: "bob")
        let (_, carol) = try await world.cardholder(handle: "carol")
        let (alicePost, _) = try await world.post(alice)
        _ = try await world.post(dave, "#BuyKindleFireHD x2")
        let (bobPost, _) = try await world.post(bob, "#BuyKindleFireHD x2")
        let (carolPost, _) = try await world.post(carol)
        #expect(try await world.purchase(of: bobPost)?.state == .waitlisted)
        #expect(try await world.purchase(of: carolPost)?.state == .waitlisted)

        let alicePurchase = try #require(try await world.purchase(of: alicePost))
        try await world.engine.cancelPurchase(alicePurchase.id, cardAccountID: aliceCard.id)
        try await world.settle()
        #expect(try await world.purchase(of: bobPost)?.state == .waitlisted)  // wants 2, 1 is free
        #expect(try await world.purchase(of: carolPost)?.state == .awaitingConfirmation)
        #expect(try await world.offerNow(offer.id).reservedUnits == 3)
        #expect(try await world.audit() == [])
    }

    /// An order cancelled before shipment gives its unit to the line too.
    @Test func aCancelledOrderGivesItsUnitToTheLine() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 1)
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (_, bob) = try await world.cardholder(handle: "bob")
        let bought = try await world.buy(alice)
        #expect(try await world.offerNow(offer.id).state(at: world.clock.now()) == .soldOut)
        let (bobPost, _) = try await world.post(bob)
        #expect(try await world.purchase(of: bobPost)?.state == .waitlisted)
        _ = try await world.engine.cancel(orderID: Order.id(for: bought.id), by: .merchantCancelled)
        try await world.settle()
        #expect(try await world.purchase(of: bobPost)?.state == .awaitingConfirmation)
        #expect(try await world.audit() == [])
    }

    /// While the offer's kill switch is on, freed units stay free and the line waits; off, it moves.
    @Test func noTurnWhileTheOfferIsStopped() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 1)
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (_, bob) = try await world.cardholder(handle: "bob")
        _ = try await world.post(alice)
        let (bobPost, _) = try await world.post(bob)
        try await world.engine.setKillSwitch(of: offer.id, on: true)
        world.clock.advance(seconds: 900 + 60)
        try await world.settle()
        #expect(try await world.purchase(of: bobPost)?.state == .waitlisted)
        #expect(try await world.offerNow(offer.id).reservedUnits == 0)
        try await world.engine.setKillSwitch(of: offer.id, on: false)
        try await world.settle()
        #expect(try await world.purchase(of: bobPost)?.state == .awaitingConfirmation)
        #expect(try await world.audit() == [])
    }

    /// The line closes when the offer ends, early (the merchant) or on schedule (the timers).
    @Test(arguments: [true, false])
    func theLineClosesWhenTheOfferEnds(endedByMerchant: Bool) async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 1) { $0.endsAt = world.clock.now().adding(seconds: 3_600) }
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (bobCard, bob) = try await world.cardholder(handle: "bob")
        try await world.buy(alice)
        let (bobPost, _) = try await world.post(bob)
        if endedByMerchant {
            _ = try await world.engine.setLifecycle(of: offer.id, to: .ended)
        } else {
            world.clock.advance(seconds: 3_600)
        }
        try await world.settle()
        let closed = try #require(try await world.purchase(of: bobPost))
        #expect(closed.state == .cancelled && closed.cancellationReason == .waitlistClosed)
        #expect(try world.reply(to: bobPost.id)?.text == "@bob Kindle Fire HD has ended before your turn came, so nothing was bought.")
        #expect(try await world.notifications(bobCard).contains { $0.kind == "waitlist_closed" })
        #expect(try await world.creditLine(bobCard).availableCredit == 500_000)
        let funnel = try await world.store.read { try $0.funnel(offer: offer.id) }
        #expect(funnel[FunnelMetric.waitlistClosed.rawValue] == 1)
        #expect(try await world.audit() == [])
    }

    /// Deleting the post, unlinking or cancelling leaves the line at once; a full line declines.
    @Test func leavingTheLineAndAFullLine() async throws {
        var configuration = EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0))
        configuration.maximumWaitlistLength = 3
        let world = try await TestWorld(configuration: configuration)
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant, quantity: 1)
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (_, bob) = try await world.cardholder(handle: "bob")
        let (carolCard, carol) = try await world.cardholder(handle: "carol")
        let (daveCard, dave) = try await world.cardholder(handle: "dave")
        let (_, erin) = try await world.cardholder(handle: "erin")
        try await world.buy(alice)
        let (bobPost, _) = try await world.post(bob)
        let (carolPost, _) = try await world.post(carol)
        let (davePost, _) = try await world.post(dave)
        let (erinPost, erinReply) = try await world.post(erin)  // the line holds 3
        #expect(try await world.purchase(of: erinPost)?.declineReason == .soldOut)
        #expect(erinReply?.text == "@erin Sorry, Kindle Fire HD is sold out.")

        try world.sandbox.delete(authorID: bob.id, postID: bobPost.id)
        try await world.settle()
        #expect(try await world.purchase(of: bobPost)?.cancellationReason == .postDeleted)
        try await world.engine.unlink(cardAccountID: carolCard.id, network: .sandbox)
        #expect(try await world.purchase(of: carolPost)?.cancellationReason == .unlinked)
        let dave1 = try #require(try await world.purchase(of: davePost))
        try await world.engine.cancelPurchase(dave1.id, cardAccountID: daveCard.id)
        #expect(try await world.purchase(of: davePost)?.cancellationReason == .cardholderCancelled)
        #expect(try await world.store.read { try $0.purchaseCounts(offer: dave1.offerID) }[.waitlisted] == nil)
        #expect(try await world.audit() == [])
    }
}
