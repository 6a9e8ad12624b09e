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
            try await instance.start()
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
        var sale = SandboxSale(api: { try await api($0, $1, token: $2, body: $3) }, adminToken: Self.adminToken, stock: stock, buyers: buyers)
        try await sale.open(receiver: receiver)

        // The chaos: each round one buyer acts (posts the hashtag, or reposts a confirmation
        // request that has arrived), then after a random pause the server is SIGKILLed and restarted.
        var killed = 0
        while killed < Self.kills {
            let index = Int(random.next() % UInt64(buyers))
            if sale.posts[index] == nil { try await sale.post(index) } else { try await sale.observe(index) }
            try await Task.sleep(for: .milliseconds(Int(random.next() % 250)))
            instance.kill()
            killed += 1
            try await restart()
        }

        // Quiet: every buyer posts (if the chaos left one out) and every purchase settles.
        for index in 0..<buyers where sale.posts[index] == nil { try await sale.post(index) }
        let deadline = Date().addingTimeInterval(180)
        while sale.settled.count < buyers && Date() < deadline {
            for index in 0..<buyers { try await sale.observe(index) }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(sale.settled.count == buyers, "only \(sale.settled.count) of \(buyers) purchases settled; log: \((try? String(contentsOfFile: instance.log, encoding: .utf8))?.suffix(2000) ?? "")")

        // No acknowledged post lost: one purchase per buyer's post, no more.
        for index in 0..<buyers {
            let purchases = (try await api("GET", "/v1/purchases", token: sale.tokens[index])["data"] as? [[String: Any]]) ?? []
            #expect(purchases.count == 1, "buyer \(index): \(purchases.count) purchases for one post")
        }
        // Units sold ≤ stock and = valid confirmations, nothing reserved left, one order each.
        try await sale.expectSettledSale()
        let sold = sale.sold, reposted = sale.reposted
        // Every order.created reached the merchant (counted by event id: deliveries may repeat).
        let delivered = try await SandboxSale.deliveredOrderCreated(receiver, expected: sold)
        #expect(delivered.count == sold, "\(delivered.count) of \(sold) order.created events delivered")
        print("crash test (\(backend)): \(killed) SIGKILLs, \(buyers) buyers, stock \(stock), sold \(sold), confirmations \(reposted.count), order.created delivered \(delivered.count)")

        instance.stop()
        let check = try await hashcart(["check", "--encryption-key", key, "--json", "--mode", "test"]
                                       + (backend == .postgres ? ["--database", database.url!] : ["--data", database.directory + "/serve"]))
        #expect(check.status == 0, "\(check)")
        #expect(try check.json()["ok"] as? Bool == true)
    }
}
