import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// A post that asks for several units (`#BuyKindleFireHD x2`) reserves, sells, charges, releases
/// and refunds them together, within the per-cardholder limit and the stock left.
@Suite(.onEveryBackend) struct PurchaseQuantityFlowTests {
    @Test func twoUnitsAreBoughtShippedAndRefundedAsOneLine() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc", discountRateBasisPoints: 250)
        let offer = try await world.offer(merchant: merchant, quantity: 5) { $0.perCardholderLimit = 3 }
        let (card, alice) = try await world.cardholder(handle: "alice")

        let (post, request) = try await world.post(alice, "Two please #BuyKindleFireHD x2")
        let reply = try #require(request)
        // 2 × 149.99 = 299.98, NY 4 % on the line = 12.00 (rounded once).
        #expect(reply.text.contains("2 × Kindle Fire HD, $311.98 total with tax"), "\(reply.text)")
        #expect(try await world.offerNow(offer.id).reservedUnits == 2)

        world.clock.advance(seconds: 60)
        try world.sandbox.repost(authorID: alice.id, postID: reply.id)
        try await world.settle()
        let purchase = try #require(try await world.purchase(of: post))
        #expect(purchase.state == .authorized && purchase.units == 2)
        #expect(purchase.unitPrice == .usd(14_999) && purchase.amount == .usd(29_998) && purchase.tax == .usd(1_200))
        #expect(purchase.total == .usd(31_198) && purchase.fee == .usd(750))
        let order = try #require(try await world.orders().first)
        #expect(order.units == 2 && order.amount == .usd(29_998) && order.total == .usd(31_198))
        let stock = try await world.offerNow(offer.id)
        #expect(stock.soldUnits == 2 && stock.reservedUnits == 0)
        #expect(try await world.creditLine(card).availableCredit == 500_000 - 31_198)
        #expect(try await world.notifications(card).contains { $0.kind == "receipt" && $0.message.contains("2 × Kindle Fire HD at $149.99") })
        let funnel = try await world.store.read { try $0.funnel(offer: offer.id) }
        #expect(funnel[FunnelMetric.unitsSold.rawValue] == 2 && funnel[FunnelMetric.revenue.rawValue] == 29_998)

        _ = try await world.engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z999")
        let payable = try #require(try await world.store.read { try $0.ledgerAccount(LedgerAccounts.merchantPayable(merchant.id).id) })
        #expect(payable.creditsPosted == 29_998 - 750)
        _ = try await world.engine.refund(orderID: order.id, amount: .usd(15_599))  // one unit back, with its tax
        let refunded = try await world.engine.refund(orderID: order.id, amount: .usd(15_599))
        #expect(refunded.status == .refunded)
        #expect(try await world.creditLine(card).availableCredit == 500_000)
        #expect(try await world.audit() == [])
    }

    @Test func expiryAndCancellationReleaseEveryUnit() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 4) { $0.perCardholderLimit = 3 }
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (card, bob) = try await world.cardholder(handle: "bob")

        _ = try await world.post(alice, "#BuyKindleFireHD x3")
        #expect(try await world.offerNow(offer.id).reservedUnits == 3)
        world.clock.advance(seconds: 900 + 120)
        try await world.engine.runTimers()
        #expect(try await world.offerNow(offer.id).reservedUnits == 0)

        let bought = try await world.buy(bob, "#BuyKindleFireHD x3")
        #expect(bought.state == .authorized && bought.units == 3)
        try await world.engine.cancelPurchase(bought.id, cardAccountID: card.id)
        let stock = try await world.offerNow(offer.id)
        #expect(stock.soldUnits == 0 && stock.reservedUnits == 0)
        #expect(try await world.creditLine(card).availableCredit == 500_000)
        #expect(try await world.audit() == [])
    }

    /// Over the per-cardholder limit (at once or in total) declines; so does asking for more than is left.
    @Test func limitsAndStockCountUnits() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 3) { $0.perCardholderLimit = 2 }
        let (card, alice) = try await world.cardholder(handle: "alice")
        let (_, bob) = try await world.cardholder(handle: "bob")

        let (tooMany, _) = try await world.post(alice, "#BuyKindleFireHD x3")
        #expect(try await world.purchase(of: tooMany)?.declineReason == .perCardholderLimit)
        #expect(try await world.offerNow(offer.id).reservedUnits == 0)
        #expect(try await world.creditLine(card).availableCredit == 500_000)

        #expect(try await world.buy(alice, "#BuyKindleFireHD").state == .authorized)
        let (overTotal, _) = try await world.post(alice, "#BuyKindleFireHD x2")
        #expect(try await world.purchase(of: overTotal)?.declineReason == .perCardholderLimit)

        // One unit sold, two left: Bob's x2 fits, and leaves none.
        let (fits, request) = try await world.post(bob, "#BuyKindleFireHD x2")
        #expect(try await world.purchase(of: fits)?.state == .awaitingConfirmation)
        #expect(request?.text.contains("2 × Kindle Fire HD") == true)
        #expect(try await world.offerNow(offer.id).availableUnits == 0)

        let (_, carol) = try await world.cardholder(handle: "carol")
        let (soldOut, soldOutReply) = try await world.post(carol, "#BuyKindleFireHD x2")
        #expect(try await world.purchase(of: soldOut)?.state == .waitlisted)
        #expect(soldOutReply?.text.contains("sold out for now. You're number 1 in line") == true)
        #expect(try await world.audit() == [])
    }

    /// With waitlists off; with them on, the post would wait in line (WaitlistFlowTests).
    @Test func askingForMoreThanIsLeftDeclinesWithoutReserving() async throws {
        var configuration = EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0))
        configuration.maximumWaitlistLength = 0
        let world = try await TestWorld(configuration: configuration)
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 3) { $0.perCardholderLimit = 3 }
        let (_, alice) = try await world.cardholder(handle: "alice")
        let (card, bob) = try await world.cardholder(handle: "bob")
        _ = try await world.post(alice, "#BuyKindleFireHD x2")
        let (post, reply) = try await world.post(bob, "#BuyKindleFireHD x2")
        #expect(try await world.purchase(of: post)?.declineReason == .notEnoughLeft)
        #expect(reply?.text.contains("not enough of Kindle Fire HD is left") == true, "\(reply?.text ?? "")")
        #expect(try await world.notifications(card).contains { $0.message.hasSuffix(DeclineReason.notEnoughLeft.cardholderMessage) })
        #expect(try await world.offerNow(offer.id).reservedUnits == 2)
        #expect(try await world.creditLine(card).availableCredit == 500_000)
        let (one, _) = try await world.post(bob, "#BuyKindleFireHD x1")
        #expect(try await world.purchase(of: one)?.units == 1)
        #expect(try await world.audit() == [])
    }

    /// A quantity that cannot be read reserves nothing, charges nothing and says how to write one;
    /// the full-width spelling of a good count is the count.
    @Test(arguments: ["#BuyKindleFireHD x0", "#BuyKindleFireHD x1.5", "#BuyKindleFireHD x٢", "#BuyKindleFireHD x-1",
                      "#BuyKindleFireHD x2 #BuyKindleFireHD x3", "#BuyKindleFireHD x99999999999999999999"])
    func anUnreadableQuantityDeclinesAndChangesNothing(text: String) async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 5) { $0.perCardholderLimit = 5 }
        let (card, alice) = try await world.cardholder(handle: "alice")
        let (post, reply) = try await world.post(alice, text)
        let purchase = try #require(try await world.purchase(of: post))
        #expect(purchase.state == .declined && purchase.declineReason == .quantityUnreadable)
        #expect(reply?.text.contains("We couldn't read that quantity. Post #BuyKindleFireHD x2") == true, "\(reply?.text ?? "")")
        #expect(try await world.offerNow(offer.id).reservedUnits == 0)
        #expect(try await world.creditLine(card).availableCredit == 500_000)
        #expect(try await world.audit() == [])

        let (fullWidth, _) = try await world.post(alice, "#BuyKindleFireHD ｘ２")
        #expect(try await world.purchase(of: fullWidth)?.units == 2)
    }
}
