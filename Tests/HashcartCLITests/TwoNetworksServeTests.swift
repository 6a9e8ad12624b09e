import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HashcartConnectors
import HashcartTestSupport
import Testing

/// `hashcart serve` with two real networks at once (Mastodon and Bluesky, on loopback): one
/// cardholder linked on both posts the hashtag on each, reposts neither, and each purchase expires
/// on its own network: its timer fires once, its "window closed" reply goes to the network the
/// purchase was made on, and nothing of one network's purchase reaches the other.
@Suite struct TwoNetworksServeTests {
    static let alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"

    // The shortest window (60 s) and the grace (30 s) are waited out in real time; a loaded
    // machine running the whole suite in a debug build took over 4 minutes.
    @Test(.timeLimit(.minutes(8)))
    func aPurchaseOnEachOfTwoNetworksExpiresOnItsOwnNetwork() async throws {
        let mastodon = FakeMastodon()
        let mastodonServer = try await mastodon.start()
        defer { mastodonServer.cancel() }
        let bluesky = FakeBluesky()
        let blueskyServer = try await bluesky.start()
        defer { blueskyServer.cancel() }
        let serve = try NetworkServe(label: "two-networks-serve", config: """
            networks:
              mastodon:
                server: \(mastodon.baseURL)
                official_account: \(mastodon.accountURI(FakeMastodon.shop))
              bluesky:
                jetstream: \(bluesky.jetstreamURL)
                service: \(bluesky.serviceURL)
                official_did: \(FakeBluesky.officialDID)
                identifier: \(FakeBluesky.handle)
            """, environment: [
                "HASHCART_MASTODON_ACCESS_TOKEN": FakeMastodon.shop.token,
                "HASHCART_BLUESKY_APP_PASSWORD": FakeBluesky.appPassword,
            ])
        try await serve.start()
        defer { serve.stop() }
        #expect(serve.log.contains("mastodon") && serve.log.contains("bluesky"), "\(serve.log)")
        try await serve.eventually("the Jetstream connection") { !bluesky.connections.withLock { $0 }.isEmpty }

        // One shop, one offer with the shortest window (60 s), one cardholder linked on both networks.
        let admin = NetworkServe.adminToken
        let merchant = try await serve.api("POST", "/v1/merchants", token: admin, body: ["name": "Amex Tees"])["id"] as! String
        let apiKey = try await serve.api("POST", "/v1/merchants/\(merchant)/api_keys", token: admin)["secret"] as! String
        let offer = try await serve.api("POST", "/v1/offers", token: apiKey, body: [
            "title": "Amex Tee", "sku": "TEE-1", "price": 2500, "hashtag": "#BuyAmexTee", "quantity": 5,
            "confirmation_window_seconds": 60,
        ])["id"] as! String
        // Mastodon's streams (notifications and the offer's hashtag) open once there is an offer.
        try await serve.eventually("the Mastodon streams") { mastodon.streamConnections.withLock { $0.count } >= 2 }
        // Two cardholders, one linked on each network (one cardholder's second open purchase of
        // the same offer would be declined by the risk rules, whatever the network).
        let mastodonToken = try await cardholder(serve, name: "Jane Roe", network: "mastodon") { code in
            mastodon.post(as: FakeMastodon.alice, "@shop linking my card \(code)", visibility: "direct")
        }
        let blueskyToken = try await cardholder(serve, name: "John Doe", network: "bluesky") { code in
            bluesky.appendPost(did: Self.alice, rkey: "3mlinkcode333", text: "Linking my card \(code)")
        }

        // A purchase on each network; each gets its confirmation request on its own network.
        let toot = mastodon.post(as: FakeMastodon.alice, "I want it #BuyAmexTee")
        let skeet = bluesky.appendPost(did: Self.alice, rkey: "3mpurchase333", text: "I want it #BuyAmexTee", tagFacets: ["BuyAmexTee"])
        try await serve.eventually("both confirmation requests") {
            mastodon.replies(to: toot).contains { $0.text.contains("Repost this within") }
                && bluesky.records.withLock { $0.values.contains { $0.parent == skeet && $0.text.contains("Repost this within") } }
        }
        let mastodonReference = try #require(reference(in: mastodon.replies(to: toot).first?.text))
        let blueskyReference = try #require(reference(in: bluesky.records.withLock { $0.values.first { $0.parent == skeet }?.text }))
        #expect(mastodonReference != blueskyReference)
        let reserved = try await serve.api("GET", "/v1/offers/\(offer)", token: apiKey)
        #expect(reserved["units_reserved"] as? Int == 2)

        // Nobody reposts: after the window (60 s) and the grace for reposts in flight (30 s), each
        // purchase expires and its "window closed" reply goes under its own post, on its own network.
        for _ in 0..<3_000 {
            let mastodonDone = mastodon.replies(to: toot).contains { $0.text.contains("has closed") }
            let blueskyDone = bluesky.records.withLock { $0.values.contains { $0.parent == skeet && $0.text.contains("has closed") } }
            if mastodonDone && blueskyDone { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(mastodon.replies(to: toot).filter { $0.text.contains("has closed") }.count == 1, "\(serve.log)")
        #expect(bluesky.records.withLock { $0.values.filter { $0.parent == skeet && $0.text.contains("has closed") }.count } == 1, "\(serve.log)")
        // Each network carried exactly its own purchase's two replies (request, closed): none crossed over.
        #expect(mastodon.replies(to: toot).count == 2)
        #expect(bluesky.records.withLock { $0.values.filter { $0.parent == skeet }.count } == 2)
        // Bluesky's only other records are the "linked" reply under the link post and the offer's announcement.
        #expect(bluesky.records.withLock { $0.values.filter { $0.parent != skeet }.map(\.text) }.sorted()
                == ["Amex Tee $25.00 + tax with your linked card. Post #BuyAmexTee to buy. Qty limited.",
                    "Your account is now linked to your card. Happy shopping!"])
        #expect(!bluesky.records.withLock { $0.values.contains { $0.text.contains(mastodonReference) } })
        #expect(!mastodon.statuses.withLock { $0.values.contains { $0.text.contains(blueskyReference) } })

        for token in [mastodonToken, blueskyToken] {
            let purchases = try await serve.api("GET", "/v1/purchases", token: token)["data"] as? [[String: Any]] ?? []
            #expect(purchases.count == 1)
            #expect(purchases.first?["state"] as? String == "expired", "\(purchases)")
        }
        let released = try await serve.api("GET", "/v1/offers/\(offer)", token: apiKey)
        #expect(released["units_reserved"] as? Int == 0)
        #expect(released["units_sold"] as? Int == 0)
        #expect(try await serve.orderCount(NetworkServe.Shop(apiKey: apiKey, cardholderToken: mastodonToken, linkCode: "")) == 0)
        // No engine round failed on the way.
        #expect(!serve.log.contains("engine round failed"), "\(serve.log)")
        let check = try await serve.stopAndCheck()
        #expect(check.status == 0, "\(check)")
    }

    /// The purchase reference a reply names ("… Ref AB12CD").
    private func reference(in text: String?) -> String? {
        guard let text, let range = text.range(of: "Ref ") else { return nil }
        return String(text[range.upperBound...].prefix { $0.isLetter || $0.isNumber })
    }

    /// A cardholder with a token, linked on `network` by the post `link` makes with the code.
    private func cardholder(_ serve: NetworkServe, name: String, network: String, link: (String) -> Void) async throws -> String {
        let admin = NetworkServe.adminToken
        let card = try await serve.api("POST", "/v1/cardholders", token: admin, body: [
            "credit_limit": 100_000, "billing_name": name, "card_last4": "4242",
            "address": ["line1": "1 Main St", "city": "Albany", "state": "NY", "postal_code": "12207"],
        ])["id"] as! String
        let token = try await serve.api("POST", "/v1/cardholders/\(card)/tokens", token: admin)["secret"] as! String
        let code = try await serve.api("POST", "/v1/links", token: token, body: ["network": network])["code"] as! String
        link(code)
        try await serve.eventually("the \(network) link") {
            ((try await serve.api("GET", "/v1/links", token: token)["data"] as? [Any]) ?? []).count == 1
        }
        return token
    }
}
