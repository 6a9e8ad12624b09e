import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HashcartTestSupport
import Testing

/// Several `hashcart serve` processes on one PostgreSQL database, as behind a load balancer:
/// a flash sale over HTTP against all of them while instances are SIGKILLed and restarted.
@Suite(.enabled(if: TestBackend.postgresURL != nil, Comment(rawValue: TestBackend.skipNotice)))
struct MultiInstanceTests {
    static let adminToken = "multi-instance-admin-token-0123"

    /// One `hashcart serve` process.
    final class Instance {
        let arguments: [String]
        var port: Int
        /// Where this start's output begins in the log (a restart appends to it).
        var logStart = 0
        var process: SpawnedProcess?
        let log: String
        let environment: [String: String]
        /// The binary to run (default: the one this test run built).
        let executable: URL?

        init(port: Int, arguments: [String], log: String, environment: [String: String] = [:], executable: URL? = nil) {
            self.port = port
            self.arguments = arguments
            self.log = log
            self.environment = environment
            self.executable = executable
        }

        var base: String { "http://127.0.0.1:\(port)" }

        func start() async throws {
            var environment = ProcessInfo.processInfo.environment
            for name in ["HASHCART_ENCRYPTION_KEY", "HASHCART_ADMIN_TOKEN", "HASHCART_DATABASE_URL", "HASHCART_CONFIG"] { environment[name] = nil }
            for (name, value) in self.environment { environment[name] = value }
            logStart = ((try? FileManager.default.attributesOfItem(atPath: log)[.size]) as? Int) ?? 0
            process = try SpawnedProcess(try executable ?? HashcartBinary.require(), arguments, environment: environment, outputPath: log)
        }

        /// The crash: no shutdown, no flush, no goodbye to PostgreSQL.
        func kill() {
            process?.killBlocking()
        }

        func stop() {
            process?.stopBlocking()
        }

        var isRunning: Bool { process?.isRunning ?? false }
    }

    struct HTTPError: Error, CustomStringConvertible {
        var description: String
    }

    /// One JSON request; the status and the decoded object.
    @discardableResult
    static func call(_ method: String, _ url: String, token: String? = nil, body: [String: Any]? = nil, mode: String? = nil,
                     expect: Range<Int> = 200..<300) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let mode { request.setValue(mode, forHTTPHeaderField: "Hashcart-Mode") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard expect.contains(status) else { throw HTTPError(description: "\(method) \(url): \(status) \(String(decoding: data, as: UTF8.self).prefix(500))") }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    static func waitHealthy(_ instance: Instance) async throws {
        for _ in 0..<600 {  // up to 30 s: a debug build on a busy CI machine starts slowly
            if instance.port == 0, let data = FileManager.default.contents(atPath: instance.log),
                case let log = String(decoding: data.dropFirst(instance.logStart), as: UTF8.self),
                let range = log.range(of: "serving http://127.0.0.1:", options: .backwards)
            {
                instance.port = Int(log[range.upperBound...].prefix { $0.isNumber }) ?? 0
            }
            if instance.port != 0, (try? await call("GET", instance.base + "/healthz")) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HTTPError(description: "instance on \(instance.port) did not answer /healthz within 30 s: \((try? String(contentsOfFile: instance.log, encoding: .utf8))?.suffix(2000) ?? "")")
    }

    @Test(.timeLimit(.minutes(5)))
    func aFlashSaleOnThreeInstancesSurvivesSIGKILL() async throws {
        let database = try TestDatabase(.postgres)
        let url = try #require(database.url)
        let key = randomKey()
        let sandbox = database.directory + "/sandbox"
        let stock = 30, buyers = 45
        let basePort = Int.random(in: 20_000...39_000)
        let instances = (0..<3).map { index in
            Instance(port: basePort + index, arguments: [
                "serve", "--database", url, "--data", database.directory + "/instance\(index)", "--sandbox-data", sandbox,
                "--port", String(basePort + index), "--encryption-key", key, "--admin-token", Self.adminToken, "--min-link-age", "0",
                "--allow-private-webhooks", "--claim-lease", "3",
            ], log: database.directory + "/instance\(index).log")
        }
        try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
        for instance in instances { try await instance.start() }
        defer { for instance in instances { instance.stop() } }
        for instance in instances { try await Self.waitHealthy(instance) }
        let receiver = WebhookReceiver()
        let receiverTask = try await receiver.start()
        defer { receiverTask.cancel() }

        /// Any instance that is up, round robin; like a load balancer, a request an instance
        /// refused to connect (it is down or still starting) goes to the next one.
        var turn = 0
        @discardableResult
        func api(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil) async throws -> [String: Any] {
            var lastError: (any Error)?
            for _ in 0..<30 {
                turn += 1
                let instance = instances[turn % 3]
                guard instance.isRunning else { continue }
                do {
                    return try await Self.call(method, instance.base + path, token: token, body: body)
                } catch let error as URLError where error.code == .cannotConnectToHost {
                    lastError = error
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            throw lastError ?? HTTPError(description: "no instance is running")
        }

        // The merchant, its webhook endpoint, a hot offer and linked buyers, through different instances.
        var sale = SandboxSale(api: { try await api($0, $1, token: $2, body: $3) }, adminToken: Self.adminToken, stock: stock, buyers: buyers)
        try await sale.open(receiver: receiver)

        // The sale: every buyer posts the hashtag; instance 1 is killed halfway and comes back.
        for index in 0..<buyers {
            if index == buyers / 2 { instances[1].kill() }
            try await sale.post(index)
        }
        try await instances[1].start()
        try await Self.waitHealthy(instances[1])

        // Buyers repost the confirmation request as it arrives; instance 2 is killed once meanwhile.
        let deadline = Date().addingTimeInterval(120)
        var killedSecond = false
        while sale.settled.count < buyers && Date() < deadline {
            if !killedSecond && sale.reposted.count >= stock / 2 {
                instances[2].kill()
                killedSecond = true
                try await instances[2].start()
            }
            for index in 0..<buyers { try await sale.observe(index) }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Self.waitHealthy(instances[2])
        #expect(sale.settled.count == buyers, "only \(sale.settled.count) of \(buyers) purchases settled within 2 minutes")

        // Exactly the stock sold: every buyer who got a confirmation request confirmed, the rest wait in the waitlist.
        try await sale.expectSettledSale()
        let sold = sale.sold, reposted = sale.reposted
        #expect(sold == stock)
        #expect(sale.settled.values.filter { $0 == "waitlisted" }.count == buyers - stock)

        // Every order.created reached the merchant (at least once; counted by event id).
        let delivered = try await SandboxSale.deliveredOrderCreated(receiver, expected: stock)
        #expect(delivered.count == stock, "\(delivered.count) of \(stock) order.created events delivered")

        print("multi-instance sale: \(buyers) buyers, stock \(stock), sold \(sold), confirmations \(reposted.count), order.created delivered \(delivered.count), second kill \(killedSecond)")

        // The operator's audit over the shared database finds nothing.
        for instance in instances { instance.stop() }
        let check = try await hashcart(["check", "--database", url, "--mode", "test", "--encryption-key", key, "--json"])
        #expect(check.status == 0, "\(check)")
        let report = try check.json()
        #expect(report["ok"] as? Bool == true, "\(report)")
        #expect((report["checked"] as? [String: Any])?["orders"] as? Int == stock)
    }
}
