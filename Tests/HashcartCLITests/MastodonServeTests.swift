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
    static let adminToken = "mastodon-serve-admin-token-0123"

    @Test(.timeLimit(.minutes(3)))
    func aPurchaseOverMastodonThroughServe() async throws {
        let fake = FakeMastodon()
        let server = try await fake.start()
        defer { server.cancel() }
        let folder = TemporaryFolder("mastodon-serve")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        let config = folder.file("hashcart.yaml")
        try """
            # Mastodon on loopback; the token comes from HASHCART_MASTODON_ACCESS_TOKEN
            sandbox: false
            networks:
              mastodon:
                server: \(fake.baseURL)
                official_account: \(fake.accountURI(FakeMastodon.shop))
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let port = Int.random(in: 40_000...49_000)
        let instance = MultiInstanceTests.Instance(port: port, arguments: [
            "serve", "--data", folder.file("data"), "--config", config, "--port", String(port), "--admin-token", Self.adminToken,
            "--min-link-age", "0", "--no-webhook-delivery",
        ], log: folder.file("serve.log"), environment: ["HASHCART_MASTODON_ACCESS_TOKEN": FakeMastodon.shop.token])
        try instance.start()
        defer { instance.stop() }
        try await MultiInstanceTests.waitHealthy(instance)
        func api(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil) async throws -> [String: Any] {
            try await MultiInstanceTests.call(method, instance.base + path, token: token, body: body)
        }
        func log() -> String { (try? String(contentsOfFile: instance.log, encoding: .utf8)).map { String($0.suffix(3000)) } ?? "" }
        func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
            for _ in 0..<800 {
                if try await condition() { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("timed out waiting for \(what); log: \(log())")
            throw CancellationError()
        }
        #expect(log().contains("networks: mastodon"), "\(log())")

        let merchant = try await api("POST", "/v1/merchants", token: Self.adminToken, body: ["name": "Amex Tees"])["id"] as! String
        let apiKey = try await api("POST", "/v1/merchants/\(merchant)/api_keys", token: Self.adminToken)["secret"] as! String
        _ = try await api("POST", "/v1/offers", token: apiKey, body: ["title": "Amex Tee", "sku": "TEE-1", "price": 2500, "hashtag": "#BuyAmexTee", "quantity": 5])
        let card = try await api("POST", "/v1/cardholders", token: Self.adminToken, body: [
            "credit_limit": 100_000, "billing_name": "Jane Roe", "card_last4": "4242",
            "address": ["line1": "1 Main St", "city": "Albany", "state": "NY", "postal_code": "12207"],
        ])["id"] as! String
        let token = try await api("POST", "/v1/cardholders/\(card)/tokens", token: Self.adminToken)["secret"] as! String
        let code = try await api("POST", "/v1/links", token: token, body: ["network": "mastodon"])["code"] as! String
        try await eventually("the streams") { fake.streamConnections.withLock { $0.count } >= 2 }

        fake.post(as: FakeMastodon.alice, "@shop linking my card \(code)", visibility: "direct")
        try await eventually("the link") { !((try await api("GET", "/v1/links", token: token)["data"] as? [Any]) ?? []).isEmpty }
        let post = fake.post(as: FakeMastodon.alice, "I want it #BuyAmexTee")
        try await eventually("the confirmation request") { fake.replies(to: post).contains { $0.text.contains("Repost this within") } }
        let request = try #require(fake.replies(to: post).first { $0.text.contains("Repost this within") })
        #expect(request.visibility == "unlisted")
        #expect(fake.reblog(as: FakeMastodon.alice, request.id) != nil)
        try await eventually("the order") { ((try await api("GET", "/v1/orders", token: apiKey)["data"] as? [[String: Any]]) ?? []).count == 1 }
        instance.stop()
        let key = try String(contentsOfFile: folder.file("data/encryption.key"), encoding: .utf8)
        let check = try hashcart(["check", "--data", folder.file("data"), "--encryption-key", key])
        #expect(check.status == 0, "\(check)")
    }
}
