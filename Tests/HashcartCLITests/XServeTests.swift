import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HashcartConnectors
import HashcartTestSupport
import Testing

/// `hashcart serve --config hashcart.yaml` with X configured (filtered stream and the Account
/// Activity webhook), as a real process, against an X API on loopback: the purchase post comes
/// on the stream, the reply goes out with POST /2/tweets, and the confirming retweet arrives as
/// a signed Account Activity delivery to /webhooks/x.
@Suite struct XServeTests {
    static let adminToken = "x-serve-admin-token-0123456"
    static let consumerSecret = "consumer-secret-for-tests"

    static func post(_ url: String, body: Data, signature: String?) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let signature { request.setValue(signature, forHTTPHeaderField: "x-twitter-webhooks-signature") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    static func sign(_ body: Data) -> String {
        "sha256=" + Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(consumerSecret.utf8)))).base64EncodedString()
    }

    @Test(.timeLimit(.minutes(3)))
    func aPurchaseOverXThroughServe() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        let folder = TemporaryFolder("x-serve")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        let config = folder.file("hashcart.yaml")
        try """
            sandbox: false
            networks:
              x:
                api: \(fake.baseURL)
                official_user_id: "999"
                official_username: ShopBot
                account_activity: true
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let port = Int.random(in: 40_000...49_000)
        let instance = MultiInstanceTests.Instance(port: port, arguments: [
            "serve", "--data", folder.file("data"), "--config", config, "--port", String(port), "--admin-token", Self.adminToken,
            "--min-link-age", "0", "--no-webhook-delivery",
        ], log: folder.file("serve.log"), environment: [
            "HASHCART_X_BEARER_TOKEN": FakeX.appToken, "HASHCART_X_USER_TOKEN": FakeX.shopToken, "HASHCART_X_CONSUMER_SECRET": Self.consumerSecret,
        ])
        try instance.start()
        defer { instance.stop() }
        try await MultiInstanceTests.waitHealthy(instance)
        func api(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil, expect: Range<Int> = 200..<300) async throws -> [String: Any] {
            try await MultiInstanceTests.call(method, instance.base + path, token: token, body: body, expect: expect)
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

        // The CRC challenge, answered with the consumer secret.
        let crc = try await api("GET", "/webhooks/x?crc_token=crc-token-abc")
        #expect(crc["response_token"] as? String == XWebhookSecurity.crcResponseToken(crcToken: "crc-token-abc", consumerSecret: Self.consumerSecret))
        _ = try await api("GET", "/webhooks/x", expect: 400..<401)
        _ = try await api("GET", "/webhooks/mastodon?crc_token=a", expect: 404..<405)

        let merchant = try await api("POST", "/v1/merchants", token: Self.adminToken, body: ["name": "Amex Tees"])["id"] as! String
        let apiKey = try await api("POST", "/v1/merchants/\(merchant)/api_keys", token: Self.adminToken)["secret"] as! String
        _ = try await api("POST", "/v1/offers", token: apiKey, body: ["title": "Amex Tee", "sku": "TEE-1", "price": 2500, "hashtag": "#BuyAmexTee", "quantity": 5])
        let card = try await api("POST", "/v1/cardholders", token: Self.adminToken, body: [
            "credit_limit": 100_000, "billing_name": "Jane Roe", "card_last4": "4242",
            "address": ["line1": "1 Main St", "city": "Albany", "state": "NY", "postal_code": "12207"],
        ])["id"] as! String
        let token = try await api("POST", "/v1/cardholders/\(card)/tokens", token: Self.adminToken)["secret"] as! String
        let code = try await api("POST", "/v1/links", token: token, body: ["network": "x"])["code"] as! String
        try await eventually("the stream and its rules") {
            !fake.streamConnections.withLock { $0 }.isEmpty && fake.rules.withLock { $0 }.contains { $0.value == "#buyamextee -is:retweet" }
        }
        fake.post(as: "111", "@ShopBot linking my card \(code)")
        try await eventually("the link") { !((try await api("GET", "/v1/links", token: token)["data"] as? [Any]) ?? []).isEmpty }
        let post = fake.post(as: "111", "I want it #BuyAmexTee")
        try await eventually("the confirmation request") { fake.replies(to: post).contains { $0.text.contains("Repost this within") } }
        let request = try #require(fake.replies(to: post).first { $0.text.contains("Repost this within") })

        // The retweet, delivered by the Account Activity API: a wrong signature changes nothing.
        let activity = Data("""
            {"for_user_id":"999","tweet_create_events":[{"created_at":"Sun Aug 30 12:03:00 +0000 2026","id_str":"1930000000000000009",
             "text":"RT @ShopBot: \(request.text)","user":{"id_str":"111","screen_name":"alice"},"entities":{"hashtags":[]},
             "retweeted_status":{"id_str":"\(request.id)","text":"\(request.text)","user":{"id_str":"999","screen_name":"ShopBot"}}}]}
            """.utf8)
        let (forged, _) = try await Self.post(instance.base + "/webhooks/x", body: activity, signature: "sha256=" + Data(repeating: 1, count: 32).base64EncodedString())
        #expect(forged == 401)
        let (unsigned, _) = try await Self.post(instance.base + "/webhooks/x", body: activity, signature: nil)
        #expect(unsigned == 401)
        let garbage = Data("{\"tweet_create_events\":[{\"id_str\":\"x\"}]}".utf8)
        let (refused, _) = try await Self.post(instance.base + "/webhooks/x", body: garbage, signature: Self.sign(garbage))
        #expect(refused == 400)
        try await Task.sleep(for: .milliseconds(500))
        #expect(((try await api("GET", "/v1/orders", token: apiKey)["data"] as? [[String: Any]]) ?? []).isEmpty, "nothing bought by a forged delivery")

        let (accepted, _) = try await Self.post(instance.base + "/webhooks/x", body: activity, signature: Self.sign(activity))
        #expect(accepted == 200)
        try await eventually("the order") { ((try await api("GET", "/v1/orders", token: apiKey)["data"] as? [[String: Any]]) ?? []).count == 1 }
        instance.stop()
        let key = try String(contentsOfFile: folder.file("data/encryption.key"), encoding: .utf8)
        let check = try hashcart(["check", "--data", folder.file("data"), "--encryption-key", key])
        #expect(check.status == 0, "\(check)")
    }
}
