import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// The cardholder hears of every change to a purchase in their account, with the exact reason and
/// amount (which never go to a network), once per change.
@Suite(.onEveryBackend) struct CardholderNotificationTests {
    func messages(_ world: TestWorld, _ card: CardAccount, kind: String) async throws -> [String] {
        try await world.notifications(card).filter { $0.kind == kind }.map(\.message)
    }

    @Test func confirmedShippedRefundedAndCancelled() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant) { $0.perCardholderLimit = 2 }
        let (card, alice) = try await world.cardholder(handle: "alice")
        let bought = try await world.buy(alice)
        let orderID = Order.id(for: bought.id)
        #expect(try await messages(world, card, kind: "receipt").count == 1)

        _ = try await world.engine.ship(orderID: orderID, carrier: "UPS", tracking: "1Z999")
        _ = try await world.engine.ship(orderID: orderID, carrier: "UPS", tracking: "1Z999")  // a retried call
        #expect(try await messages(world, card, kind: "shipped")
                == ["Kindle Fire HD (ref \(bought.reference)) has shipped to your billing address: UPS tracking 1Z999. $155.99 was charged to your card."])
        _ = try await world.engine.refund(orderID: orderID, amount: .usd(5_000))
        _ = try await world.engine.refund(orderID: orderID, amount: .usd(1_000))
        #expect(try await messages(world, card, kind: "refunded") == [
            "$50.00 was refunded to your card for Kindle Fire HD (ref \(bought.reference)); $50.00 of $155.99 refunded in all.",
            "$10.00 was refunded to your card for Kindle Fire HD (ref \(bought.reference)); $60.00 of $155.99 refunded in all.",
        ])

        // A second purchase the merchant cancels before shipping: the hold is released.
        let second = try await world.buy(alice, "again #BuyKindleFireHD")
        _ = try await world.engine.cancel(orderID: Order.id(for: second.id), by: .merchantCancelled)
        #expect(try await messages(world, card, kind: "cancelled")
                == ["The merchant cancelled order \(second.reference) (Kindle Fire HD). The hold on your card was released; nothing was charged."])
        #expect(try await world.audit() == [])
    }

    @Test func expiredAndCancelledBeforeConfirming() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant) { $0.perCardholderLimit = 3 }
        let (card, alice) = try await world.cardholder(handle: "alice")
        let (first, _) = try await world.post(alice)
        let (second, _) = try await world.post(alice, "one more #BuyKindleFireHD")
        let secondPurchase = try #require(try await world.purchase(of: second))
        try await world.engine.cancelPurchase(secondPurchase.id, cardAccountID: card.id)
        world.clock.advance(seconds: 900 + 60)
        try await world.settle()
        let expired = try #require(try await world.purchase(of: first))
        #expect(expired.state == .expired)
        #expect(try await messages(world, card, kind: "expired")
                == ["Kindle Fire HD (ref \(expired.reference)): the window to repost closed, so nothing was bought or charged."])
        #expect(try await messages(world, card, kind: "cancelled")
                == ["Kindle Fire HD (ref \(secondPurchase.reference)) was cancelled because you cancelled it; nothing was charged."])
        // Nothing of this went to the network beyond the generic expiry reply.
        #expect(try world.officialPosts().allSatisfy { !$0.text.contains("charged") })
    }

    /// A hold that lapses before shipment cancels the order, and says so.
    @Test func aLapsedHoldIsExplained() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant) { $0.endsAt = world.clock.now().adding(seconds: 30 * 86_400) }
        let (card, alice) = try await world.cardholder(handle: "alice")
        let bought = try await world.buy(alice)
        world.clock.advance(seconds: 7 * 86_400 + 60)
        try await world.settle()
        #expect(try await messages(world, card, kind: "cancelled").first?.hasPrefix("The authorization lapsed before the merchant shipped, which cancelled order \(bought.reference)") == true)
        #expect(try await world.audit() == [])
    }
}
