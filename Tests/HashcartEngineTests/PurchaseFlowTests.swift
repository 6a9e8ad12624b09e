import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

@Suite(.onEveryBackend) struct PurchaseFlowTests {
    @Test func postRepostBuysAndBalancesTheLedger() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc", discountRateBasisPoints: 250)
        let offer = try await world.offer(merchant: merchant)
        let (card, alice) = try await world.cardholder(handle: "alice")

        let post = try world.sandbox.post(authorID: alice.id, text: "I want it #BuyKindleFireHD")
        try await world.settle()
        let request = try #require(try world.reply(to: post.id))
        #expect(request.text.contains("$155.99 total with tax"))  // 149.99 + 4 % NY = 6.00
        #expect(request.text.contains("Repost this within 15 minutes"))

        world.clock.advance(seconds: 60)
        try world.sandbox.repost(authorID: alice.id, postID: request.id)
        try await world.settle()

        let purchase = try #require(try await world.store.read { try $0.purchase(Purchase.id(network: .sandbox, postID: post.id)) })
        #expect(purchase.state == .authorized)
        #expect(purchase.tax == .usd(600) && purchase.total == .usd(15599) && purchase.fee == .usd(375))
        let orders = try await world.store.read { try $0.orders() }
        #expect(orders.count == 1 && orders[0].status == .created && orders[0].total == .usd(15599))
        let line = try #require(try await world.store.read { try $0.ledgerAccount(LedgerAccounts.creditLine(card.id).id) })
        #expect(line.debitsPending == 15599 && line.availableCredit == 500_000 - 15599)
        let confirmed = try world.sandbox.posts(authorID: world.sandbox.official.id, inReplyTo: post.id).last
        #expect(confirmed?.text.contains("Confirmed, ref \(purchase.reference)") == true)
        let stock = try #require(try await world.store.read { try $0.offers() }.first { $0.id == offer.id })
        #expect(stock.soldUnits == 1 && stock.reservedUnits == 0)

        // Ship captures; a partial then a full refund return exactly the total.
        _ = try await world.engine.ship(orderID: orders[0].id, carrier: "UPS", tracking: "1Z999")
        _ = try await world.engine.refund(orderID: orders[0].id, amount: .usd(5000))
        let refunded = try await world.engine.refund(orderID: orders[0].id, amount: .usd(10599))
        #expect(refunded.status == .refunded)
        await #expect(throws: EngineError.self) { try await world.engine.refund(orderID: orders[0].id, amount: .usd(1)) }
        let after = try #require(try await world.store.read { try $0.ledgerAccount(LedgerAccounts.creditLine(card.id).id) })
        #expect(after.availableCredit == 500_000)
        #expect(try await world.audit() == [])
    }
}
