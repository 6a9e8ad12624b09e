import ArgumentParser
import AsyncHTTPClient
import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore
import Histogram
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `hashcart bench pages`: how long the dashboard's pages take for a merchant with many orders.
///
/// Setup (not timed): the purchase benchmark's sale, `--orders` confirmed purchases (so as many
/// orders) of one merchant on a fresh store; a merchant user signed in. Timed: each page fetched
/// `--requests` times in turn over loopback from `hashcart serve`'s router, one at a time, after
/// a warm-up; each latency runs from sending the request to the last byte of the page, so it
/// bounds the server's time from above. The pages read pre-aggregated counters (per minute,
/// summed per bucket in SQL) and pages of 50 rows: their cost should not grow with the orders.
struct BenchPagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pages",
        abstract: "Latency of each dashboard page for a merchant with many orders (p50, p99, max).")

    @Option(help: "Orders of the merchant (1…1000000).")
    var orders = 100_000

    @Option(help: "Requests per page (10…100000).")
    var requests = 500

    @Option(name: .customLong("data"), help: "A new folder for the benchmark's store (default: a fresh temporary folder, removed afterwards).")
    var data: String?

    @OptionGroup var options: BenchRunOptions

    func validate() throws {
        guard (1...1_000_000).contains(orders) else { throw ValidationError("--orders must be between 1 and 1000000") }
        guard (10...100_000).contains(requests) else { throw ValidationError("--requests must be between 10 and 100000") }
    }

    func run() async throws {
        let sale = try await BenchSale(count: orders, batch: options.batch, captureOnConfirmation: false, data: data, database: options.database)
        try await sale.run(measure)
    }

    func measure(_ sale: BenchSale) async throws {
        let wall = ContinuousClock()
        let setupStart = wall.now
        let reposts = try await sale.requestPurchases()
        for start in stride(from: 0, to: reposts.count, by: options.batch) {
            try await sale.engine.ingest(Array(reposts[start..<min(start + options.batch, reposts.count)]))
        }
        let (offer, order) = try await sale.store.read { reader in (try reader.offers().first!, try reader.orders(limit: 1).first!) }
        let made = try await sale.store.read { try $0.count("orders") }
        let service = EngineService(mode: .test, engine: sale.engine, store: sale.store, sandbox: nil, adminTokenHash: EngineService.hash(token: UUID().uuidString))
        let password = "merchant sign-in for the bench"
        _ = try await service.dashboard.createUser(CreateDashboardUserBody(email: "ops@bench.example", role: "merchant",
                                                                          merchantID: offer.merchantID.rawValue, password: password))
        let setupSeconds = (wall.now - setupStart).seconds

        var logger = Logger(label: "hashcart.bench")
        logger.logLevel = .error
        let port = try await Self.freePort()
        let app = Application(router: HashcartRouter.build(service: service, rateLimit: RateLimit(requestsPerSecond: 1_000_000, burst: 1_000_000)),
                              configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hashcart"), logger: logger)
        let serviceGroup = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let base = "http://127.0.0.1:\(port)/dashboard/test"
        // The same-run reference: the smallest answer the same server gives (`GET /healthz`, no
        // session, no store), timed the same way: the floor of a request over loopback here.
        let pages: [(name: String, path: String)] = [
            ("reference: /healthz", "/../../healthz"), ("overview (24 hours)", ""), ("overview (30 days)", "?range=30d"), ("offers", "/offers"), ("offer", "/offers/\(offer.id)"),
            ("orders", "/orders"), ("orders (shipped)", "/orders?status=shipped"), ("order", "/orders/\(order.id)"),
            ("order by reference", "/orders?reference=\(order.reference.lowercased())"), ("webhooks", "/webhooks"), ("settlements", "/settlements"),
        ]
        var results: [(name: String, histogram: Histogram<UInt64>, bytes: Int)] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            var clientConfiguration = HTTPClient.Configuration()
            clientConfiguration.redirectConfiguration = .disallow  // a redirect is an answer here (the sign-in's 303)
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
            do {
                let cookie = try await Self.signIn(client: client, base: base, password: password)
                for page in pages {
                    var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                    var bytes = 0
                    for index in 0..<(requests + requests / 10) {
                        var request = HTTPClientRequest(url: page.path.hasPrefix("/../../") ? "http://127.0.0.1:\(port)/healthz" : base + page.path)
                        request.headers.add(name: "Cookie", value: cookie)
                        let start = wall.now
                        let response = try await client.execute(request, timeout: .seconds(30))
                        let body = try await response.body.collect(upTo: 8 << 20)
                        let micros = UInt64(max(1, (wall.now - start).microseconds))
                        guard response.status == .ok else { fail("\(page.name) answered \(response.status.code)") }
                        if index >= requests / 10 { _ = histogram.record(micros) }  // the first tenth warms up
                        bytes = body.readableBytes
                    }
                    results.append((page.name, histogram, bytes))
                }
            } catch {
                try? await client.shutdown()
                await serviceGroup.triggerGracefulShutdown()
                throw error
            }
            try await client.shutdown()
            await serviceGroup.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        func ms(_ micros: UInt64) -> Double { (Double(micros) / 100).rounded() / 10 }
        let worst = results.dropFirst().map { $0.histogram.valueAtPercentile(99) }.max() ?? 0
        let floor = results.first?.histogram.valueAtPercentile(50) ?? 1
        let result: [String: Any] = [
            "benchmark": "pages", "store": sale.storeName, "orders": made, "requests_per_page": requests, "setup_seconds": (setupSeconds * 1000).rounded() / 1000,
            "pages": results.map { ["page": $0.name, "p50_ms": ms($0.histogram.valueAtPercentile(50)), "p99_ms": ms($0.histogram.valueAtPercentile(99)),
                                    "max_ms": ms($0.histogram.max), "bytes": $0.bytes] as [String: Any] },
            "worst_p99_ms": ms(worst), "reference_p50_ms": ms(floor),
        ]
        if options.json {
            printJSON(result)
        } else {
            print("store: \(sale.store.location); \(made) orders of one merchant; \(requests) requests per page after a warm-up")
            for row in results {
                print(String(format: "%-22@  p50 %6.1f ms   p99 %6.1f ms   max %6.1f ms   %7d bytes", row.name as NSString,
                             ms(row.histogram.valueAtPercentile(50)), ms(row.histogram.valueAtPercentile(99)), ms(row.histogram.max), row.bytes))
            }
            print("worst page p99: \(ms(worst)) ms (the reference's p50: \(ms(floor)) ms)")
        }
    }

    /// Signs in through the sign-in form as a browser would; the session cookie.
    static func signIn(client: HTTPClient, base: String, password: String) async throws -> String {
        let form = try await client.execute(HTTPClientRequest(url: base + "/sign-in"), timeout: .seconds(30))
        let html = String(buffer: try await form.body.collect(upTo: 1 << 20))
        guard let signInCookie = form.headers["set-cookie"].first?.split(separator: ";").first,
              let range = html.range(of: #"name="csrf_token" value="([0-9a-f]+)""#, options: .regularExpression)
        else { fail("the sign-in page has no form token") }
        let token = html[range].split(separator: "\"")[3]
        var request = HTTPClientRequest(url: base + "/sign-in")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Cookie", value: String(signInCookie))
        request.body = .bytes(ByteBuffer(string: "csrf_token=\(token)&email=ops%40bench.example&password=\(password.replacingOccurrences(of: " ", with: "+"))"))
        let answer = try await client.execute(request, timeout: .seconds(30))
        guard answer.status == .seeOther,
              let session = answer.headers["set-cookie"].first(where: { $0.hasPrefix("hc_test_session=") })?.split(separator: ";").first
        else { fail("signing in answered \(answer.status.code)") }
        return String(session)
    }

    /// A port nothing listens on now (bound then released).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}
