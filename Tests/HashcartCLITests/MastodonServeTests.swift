import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HashcartTestSupport
import Testing

/// `hashcart serve --config hashcart.yaml` with Mastodon configured, as a real process, against a
/// Mastodon-API server on loopback: a cardholder links by mentioning the shop with the code, buys
/// with the hashtag, boosts the reply, and the order is made.
@Suite struct MastodonServeTests {
    @Test(.timeLimit(.minutes(3)))
    func aPurchaseOverMastodonThroughServe() async throws {
        let fake = FakeMastodon()
        let server = try await fake.start()
        defer { server.cancel() }
        let serve = try NetworkServe(label: "mastodon-serve", config: """
            # Mastodon on loopback; the token comes from HASHCART_MASTODON_ACCESS_TOKEN
            sandbox: false
            networks:
              mastodon:
                server: \(fake.baseURL)
                official_account: \(fake.accountURI(FakeMastodon.shop))
            """, environment: ["HASHCART_MASTODON_ACCESS_TOKEN": FakeMastodon.shop.token])
        try await serve.start()
        defer { serve.stop() }
        #expect(serve.log.contains("networks: mastodon"), "\(serve.log)")

        let shop = try await serve.openShop(network: "mastodon")
        try await serve.eventually("the streams") { fake.streamConnections.withLock { $0.count } >= 2 }
        fake.post(as: FakeMastodon.alice, "@shop linking my card \(shop.linkCode)", visibility: "direct")
        try await serve.eventually("the link") { try await serve.isLinked(shop) }
        let post = fake.post(as: FakeMastodon.alice, "I want it #BuyAmexTee")
        try await serve.eventually("the confirmation request") { fake.replies(to: post).contains { $0.text.contains("Repost this within") } }
        let request = try #require(fake.replies(to: post).first { $0.text.contains("Repost this within") })
        #expect(request.visibility == "unlisted")
        #expect(fake.reblog(as: FakeMastodon.alice, request.id) != nil)
        try await serve.eventually("the order") { try await serve.orderCount(shop) == 1 }
        let check = try await serve.stopAndCheck()
        #expect(check.status == 0, "\(check)")
    }
}
