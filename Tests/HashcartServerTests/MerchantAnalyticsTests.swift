import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /v1/analytics?from&to`: a merchant's funnel across its offers over a range of time, and
/// nobody else's; garbage ranges are refused naming the parameter.
@Suite(.onEveryBackend) struct MerchantAnalyticsTests {
    @Test func acrossOffersOverARange() async throws {
        let world = try await ServerWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets")
        let key = try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret!
        let other = try await world.engine.createMerchant(name: "Other")
        let kindle = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "K", price: .usd(14_999),
                                                                   hashtag: "#BuyKindleFireHD", quantity: 5))
        let xbox = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Xbox", sku: "X", price: .usd(19_999),
                                                                 hashtag: "#BuyXbox", quantity: 5))
        _ = try await world.engine.createOffer(OfferDraft(merchantID: other.id, title: "Theirs", sku: "T", price: .usd(1_000),
                                                          hashtag: "#BuyTheirs", quantity: 5))
        let start = world.clock.now().millisecondsSinceEpoch / 1000
        _ = try await world.linkedBuyerPosts("#BuyKindleFireHD", handle: "ann")
        _ = try await world.linkedBuyerPosts("#BuyTheirs", handle: "bea")
        world.clock.advance(seconds: 7_200)
        let later = world.clock.now().millisecondsSinceEpoch / 1000
        _ = try await world.linkedBuyerPosts("#BuyXbox", handle: "cy")
        _ = try await world.linkedBuyerPosts("#BuyXbox", handle: "dee")

        try await world.app.test(.live) { client in
            func analytics(_ query: String) async throws -> [String: Any] {
                try await client.execute(uri: "/v1/analytics" + query, method: .get, headers: bearer(key)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    return try object(response)
                }
            }
            let all = try await analytics("?from=\(start - 60)")
            let totals = try #require(all["totals"] as? [String: Any])
            #expect(totals["posts"] as? Int == 3 && totals["confirmations_sent"] as? Int == 3)
            let offers = try #require(all["offers"] as? [[String: Any]])
            #expect(Set(offers.compactMap { $0["offer"] as? String }) == [kindle.id.rawValue, xbox.id.rawValue])
            #expect(offers.first { $0["offer"] as? String == xbox.id.rawValue }?["title"] as? String == "Xbox")
            #expect((all["sales"] as? [String: Any])?["net"] as? Int == 0)

            // From an hour after the first posts: the Xbox's posts only (the Kindle's there is its
            // confirmation request expiring, counted when it expired).
            let recent = try await analytics("?from=\(later - 60)&to=\(later + 3_600)")
            let recentOffers = try #require(recent["offers"] as? [[String: Any]])
            #expect((recentOffers.first { $0["offer"] as? String == xbox.id.rawValue }?["totals"] as? [String: Any])?["posts"] as? Int == 2)
            let kindleLater = recentOffers.first { $0["offer"] as? String == kindle.id.rawValue }?["totals"] as? [String: Any]
            #expect(kindleLater?["posts"] == nil && kindleLater?["expired"] as? Int == 1)
            #expect((recent["totals"] as? [String: Any])?["posts"] as? Int == 2)
            #expect(recent["from"] as? Int == Int((later - 60) / 60 * 60))
            // The default: the last day, which holds all three.
            #expect(((try await analytics(""))["totals"] as? [String: Any])?["posts"] as? Int == 3)

            for (query, param) in [("?from=abc", "from"), ("?from=-5", "from"), ("?to=1e9", "to"), ("?from=\(later)&to=\(start)", "from"),
                                   ("?from=0&to=\(later)", "from"), ("?from=99999999999999", "from")] {
                try await client.execute(uri: "/v1/analytics" + query, method: .get, headers: bearer(key)) {
                    try expectError($0, .badRequest, code: "parameter_invalid", param: param)
                }
            }
            try await client.execute(uri: "/v1/analytics", method: .get, headers: admin) { #expect($0.status == .unauthorized || $0.status == .forbidden) }
        }
    }
}
