import Foundation
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Testing

/// An offer's sales net of what came back: an order cancelled before capture is voided whole, a
/// refund (partial, or on cancelling a captured order) comes off; counted per minute like the rest
/// of the funnel, so a chart over any range nets them too.
@Suite(.onEveryBackend) struct NetSalesTests {
    @Test func cancelsAndRefundsComeOffTheSales() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc", discountRateBasisPoints: 250)
        let held = try await world.offer(merchant: merchant, quantity: 10) { $0.perCardholderLimit = 5 }
        let captured = try await world.offer(merchant: merchant, hashtag: "#BuyNow", price: 10_000, quantity: 10) {
            $0.captureMode = .onConfirmation
            $0.perCardholderLimit = 5
        }
        let (_, alice) = try await world.cardholder(handle: "alice")
        // Three Kindles at $149.99 + 4 % (NY) = $155.99 each; two at $100.00 + 4 % = $104.00, captured at once.
        let k1 = try await world.buy(alice), k2 = try await world.buy(alice), k3 = try await world.buy(alice)
        let n1 = try await world.buy(alice, "#BuyNow"), n2 = try await world.buy(alice, "#BuyNow")
        _ = try await world.engine.cancel(orderID: Order.id(for: k1.id), by: .merchantCancelled)            // voided: 155.99
        _ = try await world.engine.ship(orderID: Order.id(for: k2.id), carrier: "UPS", tracking: "1Z")
        _ = try await world.engine.refund(orderID: Order.id(for: k2.id), amount: .usd(2_000))            // refunded: 20.00
        _ = try await world.engine.refund(orderID: Order.id(for: n1.id), amount: .usd(400))              // refunded: 4.00
        _ = try await world.engine.cancel(orderID: Order.id(for: n1.id), by: .cardholderCancelled)       // refunded: the other 100.00
        _ = (k3, n2)

        func sales(_ offer: Offer) async throws -> [String: Int64] {
            let totals = try await world.store.read { try $0.funnel(offer: offer.id) }
            return NetSales(totals: totals).dictionary
        }
        #expect(try await sales(held) == ["gross": 46_797, "voided": 15_599, "refunded": 2_000, "net": 29_198])
        #expect(try await sales(captured) == ["gross": 20_800, "voided": 0, "refunded": 10_400, "net": 10_400])
        let totals = try await world.store.read { try $0.funnel(offer: captured.id) }
        #expect(totals["orders_cancelled"] == 1 && totals["units_sold"] == 1)
        // Net sales match what the merchant's orders still hold.
        let orders = try await world.orders()
        let kept = orders.filter { $0.offerID == captured.id }.reduce(Int64(0)) { $0 + $1.capturedAmount.minorUnits - $1.refundedAmount.minorUnits }
        #expect(kept == 10_400)
        #expect(try await world.audit().isEmpty)
    }
}
