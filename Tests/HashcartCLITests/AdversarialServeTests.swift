import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The project's own attack suite: `hashcart serve` as a real process on loopback, tried from
/// outside as the outside attacker tried it, class by class (docs/SECURITY.md), each attack in
/// several spellings, with the outcome asserted and nothing changed behind it.
@Suite(.serialized) final class AdversarialServeTests {
    static let adminToken = "adversarial-admin-token-0123456789"
    let folder = TemporaryFolder("adversarial")
    let instance: MultiInstanceTests.Instance

    init() async throws {
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        instance = MultiInstanceTests.Instance(port: 0, arguments: [
            "serve", "--data", folder.file("data"), "--port", "0", "--admin-token", Self.adminToken, "--min-link-age", "0",
            "--no-webhook-delivery", "--auth-failures", "40",
        ], log: folder.file("serve.log"))
        try await instance.start()
    }

    deinit { instance.stop() }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: [String: Any]
        var code: String? { (body["error"] as? [String: Any])?["code"] as? String }
    }

    /// One request, whatever it answers.
    func send(_ method: String, _ path: String, token: String? = nil, headers: [String: String] = [:], body: Any? = nil) async throws -> Answer {
        var request = URLRequest(url: URL(string: instance.base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields[String(describing: name).lowercased()] = String(describing: value) }
        return Answer(status: http.statusCode, headers: fields, body: (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    /// A request that must succeed; its body.
    @discardableResult
    func ok(_ method: String, _ path: String, token: String? = nil, body: Any? = nil) async throws -> [String: Any] {
        let answer = try await send(method, path, token: token, body: body)
        try #require((200..<300).contains(answer.status), "\(method) \(path): \(answer.status) \(answer.body)")
        return answer.body
    }

    /// A merchant with a test key, a linked cardholder with a sandbox account, and an offer.
    func shop() async throws -> (key: String, cardholderToken: String, account: String, accountToken: String, offer: String) {
        try await MultiInstanceTests.waitHealthy(instance)
        let merchant = try await ok("POST", "/v1/merchants", token: Self.adminToken, body: ["name": "Gadgets"])["id"] as! String
        let key = try await ok("POST", "/v1/merchants/\(merchant)/api_keys", token: Self.adminToken)["secret"] as! String
        let offer = try await ok("POST", "/v1/offers", token: key, body: [
            "title": "Kindle Fire HD", "sku": "KFHD", "price": 14999, "hashtag": "#BuyKindleFireHD", "quantity": 5,
        ])["id"] as! String
        let card = try await ok("POST", "/v1/cardholders", token: Self.adminToken, body: [
            "credit_limit": 500_000, "billing_name": "Ada Lovelace", "card_last4": "4242",
            "address": ["line1": "65 Broadway", "city": "New York", "state": "NY", "postal_code": "10006"],
        ])["id"] as! String
        let token = try await ok("POST", "/v1/cardholders/\(card)/tokens", token: Self.adminToken)["secret"] as! String
        let code = try await ok("POST", "/v1/links", token: token, body: ["network": "sandbox"])["code"] as! String
        let account = try await ok("POST", "/sandbox/accounts", token: Self.adminToken, body: ["handle": "ada"])
        let accountID = account["id"] as! String, accountToken = account["token"] as! String
        try await ok("POST", "/sandbox/posts", token: accountToken, body: ["author_id": accountID, "text": "Linking my card \(code)"])
        for _ in 0..<200 {
            if !((try await ok("GET", "/v1/links", token: token)["data"] as? [Any]) ?? []).isEmpty { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return (key, token, accountID, accountToken, offer)
    }

    // Class 1: the sandbox is not wired into live money, needs credentials, and nobody acts as
    // someone else (the official account included).
    @Test func theSandboxNeedsCredentialsAndNobodyActsAsAnotherAccount() async throws {
        let shop = try await shop()
        let official = "u1"
        let victimPost = try await ok("POST", "/sandbox/posts", token: shop.accountToken, body: ["author_id": shop.account, "text": "hello"])["id"] as! String
        let mallory = try await ok("POST", "/sandbox/accounts", token: Self.adminToken, body: ["handle": "mallory"])
        let malloryToken = mallory["token"] as! String
        // No credential, or a broken one, in several spellings: 401 (never a post).
        for headers in [[:], ["Authorization": "Bearer"], ["Authorization": "bearer \(shop.accountToken)"], ["Authorization": "Basic \(shop.accountToken)"],
                        ["Authorization": "Bearer \(shop.accountToken)x"], ["Authorization": "Bearer hc_sbx_"], ["Authorization": "Bearer \(shop.accountToken.uppercased())"]] {
            let answer = try await send("POST", "/sandbox/posts", headers: headers, body: ["author_id": shop.account, "text": "#BuyKindleFireHD"])
            #expect(answer.status == 401, "\(headers): \(answer.status)")
        }
        // Acting as another account, or as the official one: 403, whoever asks.
        for (token, author) in [(malloryToken, shop.account), (malloryToken, official), (shop.key, shop.account), (shop.cardholderToken, shop.account),
                                (Self.adminToken, official), (shop.accountToken, official)] {
            let answer = try await send("POST", "/sandbox/posts", token: token, body: ["author_id": author, "text": "#BuyKindleFireHD"])
            #expect(answer.status == 403, "as \(author): \(answer.status) \(answer.body)")
        }
        // Nobody deletes another's post or the official account's.
        let replies = try await ok("GET", "/sandbox/posts?author_id=\(official)", token: shop.accountToken)["data"] as? [[String: Any]] ?? []
        for (token, author, post) in [(malloryToken, shop.account, victimPost), (malloryToken, mallory["id"] as! String, victimPost),
                                      (Self.adminToken, official, replies.first?["id"] as? String ?? "p1")] {
            let answer = try await send("DELETE", "/sandbox/posts/\(post)?author_id=\(author)", token: token)
            #expect(answer.status == 403, "delete \(post) as \(author): \(answer.status) \(answer.body)")
        }
        // A live credential's shape on a test-only server is no credential.
        for token in [shop.key.replacingOccurrences(of: "hc_test_", with: "hc_live_"),
                      shop.cardholderToken.replacingOccurrences(of: "hc_ch_test_", with: "hc_ch_live_")] {
            #expect(try await send("GET", "/v1/offers", token: token).status == 401)
            #expect(try await send("GET", "/v1/purchases", token: token).status == 401)
        }
        // Nothing was posted as the buyer or the shop, nothing was bought.
        let posts = try await ok("GET", "/sandbox/posts?author_id=\(shop.account)", token: shop.accountToken)["data"] as? [[String: Any]] ?? []
        #expect(posts.count == 2 && posts.allSatisfy { $0["deleted"] as? Bool == false })
        #expect((try await ok("GET", "/v1/purchases", token: shop.cardholderToken)["data"] as? [Any])?.isEmpty == true)
        #expect(try await ok("GET", "/v1/ledger/check", token: Self.adminToken)["ok"] as? Bool == true)
    }

    // Class 3: idempotency after authentication.
    @Test func aRevokedKeyReplaysNothing() async throws {
        let shop = try await shop()
        let merchants = try await ok("POST", "/v1/merchants", token: Self.adminToken, body: ["name": "Second"])["id"] as! String
        let created = try await ok("POST", "/v1/merchants/\(merchants)/api_keys", token: Self.adminToken)
        let key = created["secret"] as! String, keyID = created["id"] as! String
        let offer: [String: Any] = ["title": "Gift card", "sku": "GC", "price": 1500, "hashtag": "#BuyGiftCard", "quantity": 5]
        let first = try await send("POST", "/v1/offers", token: key, headers: ["Idempotency-Key": "once"], body: offer)
        #expect(first.status == 201, "\(first.body)")
        let again = try await send("POST", "/v1/offers", token: key, headers: ["Idempotency-Key": "once"], body: offer)
        #expect(again.headers["idempotent-replayed"] == "true", "\(again.status) \(again.headers) \(again.body)")
        try await ok("DELETE", "/v1/merchants/\(merchants)/api_keys/\(keyID)", token: Self.adminToken)
        let replay = try await send("POST", "/v1/offers", token: key, headers: ["Idempotency-Key": "once"], body: offer)
        #expect(replay.status == 401 && replay.headers["idempotent-replayed"] == nil, "\(replay.status) \(replay.body)")
        // A secret is never replayed.
        let keyAgain = try await send("POST", "/v1/merchants/\(merchants)/api_keys", token: Self.adminToken, headers: ["Idempotency-Key": "k"])
        let keyReplay = try await send("POST", "/v1/merchants/\(merchants)/api_keys", token: Self.adminToken, headers: ["Idempotency-Key": "k"])
        #expect(keyAgain.body["secret"] is String && keyReplay.body["secret"] is NSNull, "\(keyReplay.body)")
        _ = shop
    }

    // Class 7: failed credentials are throttled (and class 10: undeclared methods are 405).
    @Test func guessingIsThrottledAndWrongMethodsAre405() async throws {
        try await MultiInstanceTests.waitHealthy(instance)
        for (method, path) in [("PUT", "/v1/merchants"), ("DELETE", "/v1/offers"), ("PATCH", "/sandbox/posts"), ("GET", "/v1/card_transactions")] {
            let answer = try await send(method, path)
            #expect(answer.status == 405 && answer.headers["allow"] != nil, "\(method) \(path): \(answer.status)")
        }
        var statuses: [Int] = []
        let began = ContinuousClock.now
        for guess in 0..<60 {
            statuses.append(try await send("GET", "/v1/ledger/check", token: "guess-\(guess)-0123456789abcdef").status)
        }
        let seconds = Double((ContinuousClock.now - began).components.seconds) + 1
        // 40 at once (--auth-failures 40), then one more per 6 s the guessing took (a slow machine
        // earns a token back or two), and never anything but 401 or 429.
        #expect(statuses.prefix(40).allSatisfy { $0 == 401 }, "\(statuses)")
        #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 }, "\(statuses)")
        #expect(statuses.count { $0 == 401 } <= 40 + Int(seconds / 6) + 1, "\(seconds) s: \(statuses)")
        #expect(statuses.suffix(20).count { $0 == 429 } >= 20 - Int(seconds / 6) - 1, "\(seconds) s: \(statuses)")
        // Even the right token waits while the address is throttled. A token can come back (one
        // per 6 s) between a 429 and the next request on a slow machine, so the right token is
        // tried straight after a guess was refused, up to three times: a throttle that let the
        // right token through would answer 200 every time.
        var rightToken: [Int] = []
        for _ in 0..<3 {
            guard try await send("GET", "/v1/ledger/check", token: "guess-again-0123456789abcdef").status == 429 else { continue }
            let throttled = try await send("GET", "/v1/ledger/check", token: Self.adminToken)
            rightToken.append(throttled.status)
            if throttled.status == 429 {
                #expect(Int(throttled.headers["retry-after"] ?? "") ?? 0 >= 1, "\(throttled.headers)")
                break
            }
        }
        #expect(rightToken.last == 429, "even the right token waits: \(rightToken)")
    }
}
