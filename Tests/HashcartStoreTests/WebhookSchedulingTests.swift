import Foundation
import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

/// Which events an endpoint gets: those recorded after it was created, by the order the store
/// recorded them, whatever their timestamps say (found by `hashcart sim` with the host's clock
/// stepping back: an order recorded after the endpoint, stamped before it, was never delivered).
@Suite(.onEveryBackend) struct WebhookSchedulingTests {
    @Test func anEndpointGetsEventsRecordedAfterItEvenWhenTheClockSteppedBack() async throws {
        let fixture = try await StoreFixture()
        let now = StoreFixture.now
        let before = MerchantEvent(merchantID: StoreFixture.merchantID, type: .offerEnded, objectID: "offer_before", createdAt: now)
        try await fixture.store.write { tx in try tx.addMerchantEvent(before) }
        _ = try await fixture.store.createWebhookEndpoint(id: "we_1", merchantID: StoreFixture.merchantID, url: "https://shop.example/hooks",
                                                    secret: "whsec_test", at: now.adding(seconds: 10))
        // The host's clock stepped back 8 s: recorded after the endpoint, stamped before it.
        let after = MerchantEvent(merchantID: StoreFixture.merchantID, type: .offerSoldOut, objectID: "offer_after",
                                  createdAt: now.adding(seconds: 2))
        try await fixture.store.write { tx in try tx.addMerchantEvent(after) }

        #expect(try await fixture.store.scheduleWebhookDeliveries(now: now.adding(seconds: 20)) == 1)
        let delivery = try await fixture.store.merchantEvents(merchantID: StoreFixture.merchantID, limit: 10, startingAfter: nil)
            .reduce(into: [String: String]()) { $0[$1.event.id] = $1.delivery }
        #expect(delivery == [before.id: "none", after.id: "pending"])
        let due = try await fixture.store.claimDueWebhookDeliveries(now: now.adding(seconds: 20), limit: 10, leaseMilliseconds: 60_000)
        #expect(due.map(\.event.id) == [after.id])
    }
}
