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
        let serve = try NetworkServe(label: "x-serve", config: """
            sandbox: false
            networks:
              x:
                api: \(fake.baseURL)
                official_user_id: "999"
                official_username: ShopBot
                account_activity: true
            """, environment: [
                "HASHCART_X_BEARER_TOKEN": FakeX.appToken, "HASHCART_X_USER_TOKEN": FakeX.shopToken, "HASHCART_X_CONSUMER_SECRET": Self.consumerSecret,
            ])
        try await serve.start()
        defer { serve.stop() }
        let instance = serve.instance

        // The CRC challenge, answered with the consumer secret.
        let crc = try await serve.api("GET", "/webhooks/x?crc_token=crc-token-abc")
        #expect(crc["response_token"] as? String == XWebhookSecurity.crcResponseToken(crcToken: "crc-token-abc", consumerSecret: Self.consumerSecret))
        _ = try await serve.api("GET", "/webhooks/x", expect: 400..<401)
        _ = try await serve.api("GET", "/webhooks/mastodon?crc_token=a", expect: 404..<405)

        let shop = try await serve.openShop(network: "x")
        try await serve.eventually("the stream and its rules") {
            !fake.streamConnections.withLock { $0 }.isEmpty && fake.rules.withLock { $0 }.contains { $0.value == "#buyamextee -is:retweet" }
        }
        fake.post(as: "111", "@ShopBot linking my card \(shop.linkCode)")
        try await serve.eventually("the link") { try await serve.isLinked(shop) }
        let post = fake.post(as: "111", "I want it #BuyAmexTee")
        try await serve.eventually("the confirmation request") { fake.replies(to: post).contains { $0.text.contains("Repost this within") } }
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
        #expect(try await serve.orderCount(shop) == 0, "nothing bought by a forged delivery")

        let (accepted, _) = try await Self.post(instance.base + "/webhooks/x", body: activity, signature: Self.sign(activity))
        #expect(accepted == 200)
        try await serve.eventually("the order") { try await serve.orderCount(shop) == 1 }
        let check = try await serve.stopAndCheck()
        #expect(check.status == 0, "\(check)")
    }

    /// "Sign in with X" through `serve`: the cardholder starts it over the API, X sends them back to
    /// the callback, and the account X proved buys with its next post (the stream names the same id).
    @Test(.timeLimit(.minutes(3)))
    func aCardLinkedBySigningInWithXBuys() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        let redirect = "http://127.0.0.1:9/oauth/x/callback"
        fake.oauth.register(.init(id: "hashcart-app", secret: "app-secret", redirectURI: redirect, secretInBody: false))
        let serve = try NetworkServe(label: "x-oauth-serve", config: """
            sandbox: false
            networks:
              x:
                api: \(fake.baseURL)
                official_user_id: "999"
                official_username: ShopBot
                oauth_client_id: hashcart-app
                oauth_redirect_uri: \(redirect)
                oauth_authorize_url: \(fake.authorizeURL)
            """, environment: [
                "HASHCART_X_BEARER_TOKEN": FakeX.appToken, "HASHCART_X_USER_TOKEN": FakeX.shopToken, "HASHCART_X_OAUTH_CLIENT_SECRET": "app-secret",
            ])
        try await serve.start()
        defer { serve.stop() }
        let shop = try await serve.openShop(network: "x")
        let started = try await serve.api("POST", "/v1/links/oauth", token: shop.cardholderToken, body: ["network": "x"])
        let authorize = try #require(started["authorize_url"] as? String)
        let back = try #require(try await FakeOAuthServer.approve(authorize, as: "222"))
        let link = try await MultiInstanceTests.call("GET", serve.base + FakeOAuthServer.pathAndQuery(back))
        #expect(link["user_id"] as? String == "222" && link["handle"] as? String == "@bob" && link["livemode"] as? Bool == true)
        // The same callback again links nothing more.
        _ = try await MultiInstanceTests.call("GET", serve.base + FakeOAuthServer.pathAndQuery(back), expect: 409..<410)

        try await serve.eventually("the stream and its rules") {
            !fake.streamConnections.withLock { $0 }.isEmpty && fake.rules.withLock { $0 }.contains { $0.value == "#buyamextee -is:retweet" }
        }
        let post = fake.post(as: "222", "Mine #BuyAmexTee")
        try await serve.eventually("the confirmation request") { fake.replies(to: post).contains { $0.text.contains("Repost this within") } }
        let check = try await serve.stopAndCheck()
        #expect(check.status == 0, "\(check)")
    }
}
