import ArgumentParser
import Foundation
import HashcartCore
import HashcartEngine
import HashcartStore
import Histogram
import Synchronization

/// `hashcart bench purchases`: end-to-end confirmed purchases per second on the embedded store,
/// or on PostgreSQL with `--database`.
///
/// Setup (not timed): one merchant, one offer with N units, N card accounts with linked
/// identities, N purchase posts ingested and their confirmation replies posted. Timed: the N
/// confirming reposts, ingested in batches of `--batch` events per store transaction
/// (SQLite: synchronous=FULL; PostgreSQL: the server's synchronous_commit; one durable commit per batch). Each repost's latency runs from the moment its
/// batch starts to the commit of the authorization; all events of a batch arrive at its start.
struct BenchPurchasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purchases",
        abstract: "Confirmed purchases per second, and latency from the confirming repost to the committed authorization.")

    @Option(help: "Purchases to confirm (1…1000000).")
    var count = 100_000

    @Option(name: .customLong("data"), help: "A new folder for the benchmark's store (default: a fresh temporary folder, removed afterwards).")
    var data: String?

    @Flag(help: "Capture on confirmation (more ledger work per purchase) instead of on shipment.")
    var captureOnConfirmation = false

    @OptionGroup var options: BenchRunOptions

    func validate() throws {
        guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be between 1 and 1000000") }
    }

    func run() async throws {
        let sale = try await BenchSale(count: count, batch: options.batch, captureOnConfirmation: captureOnConfirmation, data: data, database: options.database)
        try await sale.run(measure)
    }

    /// The benchmark proper, on a sale that ``run()`` closes whatever happens.
    func measure(_ sale: BenchSale) async throws {
        let reposts = try await sale.requestPurchases()
        let (engine, store, storeName, durability) = (sale.engine, sale.store, sale.storeName, sale.durability)
        let (requestSeconds, setupSeconds) = (sale.requestSeconds, sale.totalSetupSeconds)
        let wall = ContinuousClock()

        // The confirming reposts, timed.
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var confirmed = 0
        let timedStart = wall.now
        for start in stride(from: 0, to: reposts.count, by: options.batch) {
            let slice = Array(reposts[start..<min(start + options.batch, reposts.count)])
            let batchStart = wall.now
            let outcomes = try await engine.ingest(slice)
            let micros = UInt64(max(1, (wall.now - batchStart).microseconds))
            _ = histogram.record(micros, count: UInt64(slice.count))
            confirmed += BenchSale.confirmed(outcomes)
        }
        let timedSeconds = (wall.now - timedStart).seconds
        let auditStart = wall.now
        let violations = try await store.read { try $0.audit() }
        let auditSeconds = (wall.now - auditStart).seconds

        let result: [String: Any] = [
            "benchmark": "purchases", "store": storeName, "durability": durability, "count": count, "batch": options.batch,
            "capture": captureOnConfirmation ? "on_confirmation" : "on_shipment",
            "confirmed": confirmed, "seconds": round3(timedSeconds),
            "purchases_per_second": Int((Double(confirmed) / timedSeconds).rounded()),
            "latency_us": ["p50": histogram.valueAtPercentile(50), "p99": histogram.valueAtPercentile(99), "max": histogram.max],
            "purchase_requests_per_second": Int((Double(count) / requestSeconds).rounded()),
            "setup_seconds": round3(setupSeconds), "audit_seconds": round3(auditSeconds),
            "invariant_violations": violations.count,
        ]
        if options.json {
            printJSON(result)
        } else {
            print("store: \(store.location) (\(durability))")
            print("confirmed \(confirmed) of \(count) purchases in \(String(format: "%.2f", timedSeconds)) s: \(result["purchases_per_second"]!) purchases/s")
            print("latency repost → committed authorization: p50 \(histogram.valueAtPercentile(50)) µs, p99 \(histogram.valueAtPercentile(99)) µs, max \(histogram.max) µs (batches of \(options.batch))")
            print("purchase requests (post → reservation + reply queued): \(result["purchase_requests_per_second"]!) /s; audit \(String(format: "%.2f", auditSeconds)) s: \(violations.count) violations")
        }
        if confirmed != count || !violations.isEmpty { throw ExitCode(1) }
    }

    func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}

/// A network that accepts every reply at once (ids r1, r2, …): the benchmark measures Hashcart, not a network.
final class BenchConnector: NetworkConnector {
    let clock: ManualClock
    let network: NetworkName
    let officialAccountID: String
    private let counter = Mutex(0)
    /// Replies posted and not yet taken (``takeReplies()``), when the caller keeps them.
    private let replies = Mutex<[(inReplyTo: String, postID: String)]>([])
    private let keepsReplies: Bool

    init(clock: ManualClock, network: NetworkName = .sandbox, officialAccountID: String = "official") {
        self.clock = clock
        self.network = network
        self.officialAccountID = officialAccountID
        keepsReplies = network != .sandbox
    }

    func events(after cursor: String?, limit: Int) async throws -> EventPage { EventPage(events: [], nextCursor: cursor) }

    func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        let next = counter.withLock { value in
            value += 1
            return value
        }
        // Bluesky names a post by its at:// URI; the sandbox by a short id.
        let id = network == .bluesky ? "at://\(officialAccountID)/app.bsky.feed.post/3mreply\(next)" : "r\(next)"
        if keepsReplies { replies.withLock { $0.append((postID, id)) } }
        return PostedReply(postID: id, createdAt: clock.now())
    }

    func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        let next = counter.withLock { value in
            value += 1
            return value
        }
        return PostedReply(postID: network == .bluesky ? "at://\(officialAccountID)/app.bsky.feed.post/3mpost\(next)" : "a\(next)",
                           createdAt: clock.now())
    }

    /// The replies posted since the last call: the post each answered, and its own id.
    func takeReplies() -> [(inReplyTo: String, postID: String)] {
        replies.withLock { taken in
            defer { taken = [] }
            return taken
        }
    }
}
