import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

/// `hashcart serve` as a real process, SIGKILLed at random moments of a flash sale over HTTP (50
/// times by default; `HASHCART_CRASH_KILLS` for longer soaks, see scripts/crash_soak.sh) and
/// restarted each time, on SQLite and on PostgreSQL. Afterwards: no acknowledged post lost, no
/// unit sold twice or beyond the stock, every confirmation honoured, every order.created
/// delivered, and `hashcart check` clean.
@Suite(.serialized) struct CrashTests {
    static let adminToken = "crash-test-admin-token-0123456"

    static var kills: Int { ProcessInfo.processInfo.environment["HASHCART_CRASH_KILLS"].flatMap { Int($0) }.map { max(1, min($0, 100_000)) } ?? 50 }

    @Test(.timeLimit(.minutes(10)), arguments: TestBackend.allCases)
    func aFlashSaleSurvivesSIGKILLs(_ backend: TestBackend) async throws {
        guard backend == .sqlite || TestBackend.postgresURL != nil else {
            print(TestBackend.skipNotice)
            return
        }
        let database = try TestDatabase(backend)
        let key = AddressCipher.generateEncodedKey()
        let stock = 10, buyers = 16
        var random = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["HASHCART_CRASH_SEED"].flatMap { UInt64($0) } ?? 20_131_124))
        let store = backend == .postgres ? ["--database", database.url!] : []
        let instance = MultiInstanceTests.Instance(port: 0, arguments: [
            "serve", "--data", database.directory + "/serve", "--port", "0", "--encryption-key", key, "--admin-token", Self.adminToken,
            "--min-link-age", "0", "--allow-private-webhooks", "--claim-lease", "1",
        ] + store, log: database.directory + "/serve.log")
        func restart() async throws {
            instance.port = 0
            try instance.start()
            try await MultiInstanceTests.waitHealthy(instance)
        }
        try FileManager.default.createDirectory(atPath: database.directory + "/serve", withIntermediateDirectories: true)
        try await restart()
        defer { instance.stop() }
        let receiver = WebhookReceiver()
        let receiverTask = try await receiver.start()
        defer { receiverTask.cancel() }

        /// One request; a server that is down (killed, restarting) is retried until it answers.
        @discardableResult
        func api(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil) async throws -> [String: Any] {
            var lastError: (any Error)?
            for _ in 0..<400 {
                do {
                    return try await MultiInstanceTests.call(method, instance.base + path, token: token, body: body)
                } catch let error as URLError {
                    lastError = error
                    if instance.process?.isRunning != true { try await restart() }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            throw lastError!
        }

        // The shop and the buyers, linked (before the chaos).
        let merchant = try await api("POST", "/v1/merchants", token: Self.adminToken, body: ["name": "Gadgets Inc"])["id"] as! String
        let apiKey = try await api("POST", "/v1/merchants/\(merchant)/api_keys", token: Self.adminToken)["secret"] as! String
        try await api("POST", "/v1/webhook_endpoints", token: apiKey, body: ["url": receiver.url])
        let offer = try await api("POST", "/v1/offers", token: apiKey, body: [
            "title": "Kindle Fire HD", "sku": "KFHD-7", "price": 14999, "hashtag": "#BuyKindleFireHD", "quantity": stock,
        ])["id"] as! String
        var tokens: [String] = [], accounts: [String] = []
        for index in 0..<buyers {
            let card = try await api("POST", "/v1/cardholders", token: Self.adminToken, body: [
                "credit_limit": 500_000, "billing_name": "Buyer \(index)", "card_last4": "4242",
                "address": ["line1": "\(index) Main St", "city": "Albany", "state": "NY", "postal_code": "12207"],
            ])["id"] as! String
            let token = try await api("POST", "/v1/cardholders/\(card)/tokens", token: Self.adminToken)["secret"] as! String
            let code = try await api("POST", "/v1/links", token: token, body: ["network": "sandbox"])["code"] as! String
            let account = try await api("POST", "/sandbox/accounts", body: ["handle": "buyer\(index)"])["id"] as! String
            try await api("POST", "/sandbox/posts", body: ["author_id": account, "text": "Linking my card \(code)"])
            tokens.append(token)
            accounts.append(account)
        }
        for index in 0..<buyers {
            var linked = false
            for _ in 0..<600 where !linked {
                linked = !((try await api("GET", "/v1/links", token: tokens[index])["data"] as? [Any]) ?? []).isEmpty
                if !linked { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(linked, "buyer \(index) was never linked")
        }

        // The chaos: each round one buyer acts (posts the hashtag, or reposts a confirmation
        // request that has arrived), then after a random pause the server is SIGKILLed and restarted.
        var posts: [Int: String] = [:], reposted = Set<Int>(), settled: [Int: String] = [:]
        func observe(_ index: Int) async throws {
            guard settled[index] == nil, let post = posts[index] else { return }
            let purchases = (try await api("GET", "/v1/purchases", token: tokens[index])["data"] as? [[String: Any]]) ?? []
            guard let purchase = purchases.first, let state = purchase["state"] as? String else { return }
            switch state {
            case "awaiting_confirmation" where !reposted.contains(index):
                let replies = (try await api("GET", "/sandbox/posts?in_reply_to=\(post)")["data"] as? [[String: Any]]) ?? []
                if let reply = replies.first?["id"] as? String {
                    try await api("POST", "/sandbox/posts/\(reply)/reposts", body: ["author_id": accounts[index]])
                    reposted.insert(index)
                }
            case "authorized", "captured", "declined", "cancelled", "expired":
                settled[index] = state
            default:
                break
            }
        }
        var killed = 0
        while killed < Self.kills {
            let index = Int(random.next() % UInt64(buyers))
            if posts[index] == nil {
                posts[index] = try await api("POST", "/sandbox/posts", body: ["author_id": accounts[index], "text": "I want it #BuyKindleFireHD"])["id"] as? String
            } else {
                try await observe(index)
            }
            try await Task.sleep(for: .milliseconds(Int(random.next() % 250)))
            instance.kill()
            killed += 1
            try await restart()
        }

        // Quiet: every buyer posts (if the chaos left one out) and every purchase settles.
        for index in 0..<buyers where posts[index] == nil {
            posts[index] = try await api("POST", "/sandbox/posts", body: ["author_id": accounts[index], "text": "I want it #BuyKindleFireHD"])["id"] as? String
        }
        let deadline = Date().addingTimeInterval(180)
        while settled.count < buyers && Date() < deadline {
            for index in 0..<buyers { try await observe(index) }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(settled.count == buyers, "only \(settled.count) of \(buyers) purchases settled; log: \((try? String(contentsOfFile: instance.log, encoding: .utf8))?.suffix(2000) ?? "")")

        // No acknowledged post lost: one purchase per buyer's post, no more.
        for index in 0..<buyers {
            let purchases = (try await api("GET", "/v1/purchases", token: tokens[index])["data"] as? [[String: Any]]) ?? []
            #expect(purchases.count == 1, "buyer \(index): \(purchases.count) purchases for one post")
        }
        // Units sold ≤ stock and = valid confirmations; nothing reserved is left behind.
        let sold = settled.values.filter { $0 == "authorized" || $0 == "captured" }.count
        #expect(sold == min(stock, reposted.count), "sold \(sold), stock \(stock), confirmations \(reposted.count)")
        let offerView = try await api("GET", "/v1/offers/\(offer)", token: apiKey)
        #expect(offerView["units_sold"] as? Int == sold && offerView["units_reserved"] as? Int == 0, "\(offerView)")
        let orders = (try await api("GET", "/v1/orders?limit=100", token: apiKey)["data"] as? [[String: Any]]) ?? []
        #expect(orders.count == sold, "one order per confirmed purchase, never two")

        // Every order.created reached the merchant (counted by event id: deliveries may repeat).
        var delivered = Set<String>()
        for _ in 0..<600 {
            delivered = Set(receiver.received.withLock { $0 }.compactMap { delivery -> String? in
                let body = try? JSONSerialization.jsonObject(with: delivery.body) as? [String: Any]
                return body?["type"] as? String == "order.created" ? delivery.eventID : nil
            })
            if delivered.count >= sold { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(delivered.count == sold, "\(delivered.count) of \(sold) order.created events delivered")
        print("crash test (\(backend)): \(killed) SIGKILLs, \(buyers) buyers, stock \(stock), sold \(sold), confirmations \(reposted.count), order.created delivered \(delivered.count)")

        instance.stop()
        let check = try hashcart(["check", "--encryption-key", key, "--json"] + (backend == .postgres ? ["--database", database.url!] : ["--data", database.directory + "/serve"]))
        #expect(check.status == 0, "\(check)")
        #expect(try check.json()["ok"] as? Bool == true)
    }
}
