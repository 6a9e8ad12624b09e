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

    @Option(help: "Events per store transaction (1…10000).")
    var batch = 1_000

    @Option(name: .customLong("data"), help: "A new folder for the benchmark's store (default: a fresh temporary folder, removed afterwards).")
    var data: String?

    @Option(name: .customLong("database"),
            help: "Run on PostgreSQL, postgres://user[:password]@host[:port]/db: in a fresh schema of its own, dropped afterwards (or in ?schema=NAME, kept).")
    var database: String?

    @Flag(help: "Capture on confirmation (more ledger work per purchase) instead of on shipment.")
    var captureOnConfirmation = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be between 1 and 1000000") }
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be between 1 and 10000") }
    }

    func run() async throws {
        let directory = data ?? (NSTemporaryDirectory() + "hashcart-bench-" + String(UUID().uuidString.prefix(8)).lowercased())
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            fail("\(directory) is a file; --data needs a folder")
        }
        if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(SQLiteStore.fileName)) {
            fail("\(directory) already holds a Hashcart store; the benchmark needs a new folder")
        }
        defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let clock = ManualClock(Instant(secondsSinceEpoch: 1_795_791_600))
        let store: any HashcartDatabase
        var storeName = "sqlite", durability = "synchronous=FULL", ownSchema = false
        if var url = StoreOptions.databaseURL(flag: database) {
            // A schema of its own, unless the URL names one (then it is kept afterwards).
            if url.schema == "public" {
                url.schema = "hashcart_bench_" + String(UUID().uuidString.prefix(8)).lowercased()
                ownSchema = true
            }
            let postgres = try PostgresStore(url: url, encryptionKey: AddressCipher.generateEncodedKey())
            if try postgres.read({ try $0.count("merchants") }) > 0 { fail("schema \(url.schema) already holds a Hashcart store; the benchmark needs a new one") }
            storeName = "postgresql"
            durability = "synchronous_commit=" + (try postgres.serverSetting("synchronous_commit"))
            store = postgres
        } else {
            store = try SQLiteStore(directory: directory, encryptionKey: AddressCipher.generateEncodedKey())
        }
        defer { if ownSchema, let postgres = store as? PostgresStore { try? postgres.dropSchema() } }
        let connector = BenchConnector(clock: clock)
        let configuration = EngineConfiguration(maximumEventsPerBatch: batch, maximumOutboundPerRound: 10_000)
        let engine = try Engine(store: store, connector: connector, clock: clock, ids: SequentialIDGenerator(),
                                taxTable: try BundledTaxTable.load(), configuration: configuration)
        let wall = ContinuousClock()

        // Setup.
        let setupStart = wall.now
        let merchant = try engine.createMerchant(name: "Bench Store")
        var draft = OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "KFHD", price: .usd(14999),
                               hashtag: "#BuyKindleFireHD", quantity: Int64(count))
        draft.captureMode = captureOnConfirmation ? .onConfirmation : .onShipment
        _ = try engine.createOffer(draft)
        let states = USState.allCases
        var identities: [SocialIdentity] = []
        identities.reserveCapacity(count)
        for chunk in stride(from: 0, to: count, by: 10_000) {
            let size = min(10_000, count - chunk)
            let cards = try engine.createCardAccounts((0..<size).map { offset in
                let index = chunk + offset
                return CardAccountDraft(
                    creditLimit: .usd(500_000),
                    billing: BillingAddress(name: "Buyer \(index)", line1: "\(index) Main St", city: "Springfield",
                                            state: states[index % states.count], postalCode: "10001"),
                    cardLast4: "4242")
            })
            let pairs = cards.enumerated().map { offset, card in
                (card.id, SocialIdentity(network: .sandbox, userID: "b\(chunk + offset)", handle: "@b\(chunk + offset)"))
            }
            try engine.link(pairs, at: clock.now().adding(seconds: -86_400))
            identities += pairs.map(\.1)
        }
        let posts = identities.enumerated().map { index, identity in
            NetworkEvent(network: .sandbox, eventID: "post\(index)", kind: .post, author: identity, text: "#BuyKindleFireHD",
                         createdAt: clock.now())
        }
        let requestStart = wall.now
        try engine.ingest(posts)
        let requestSeconds = (wall.now - requestStart).seconds
        while try await engine.dispatchOutbox().sent > 0 {}
        let setupSeconds = (wall.now - setupStart).seconds

        // The confirming reposts, timed.
        let confirmationPosts = try store.read { reader in
            try reader.purchases(limit: count).map { ($0.identity, $0.confirmationPostID) }
        }
        clock.advance(seconds: 30)
        let reposts = confirmationPosts.enumerated().map { index, pair in
            NetworkEvent(network: .sandbox, eventID: "repost\(index)", kind: .repost, author: pair.0, referencedPostID: pair.1 ?? "missing",
                         referencedAuthorID: connector.officialAccountID, createdAt: clock.now())
        }
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var confirmed = 0
        let timedStart = wall.now
        for start in stride(from: 0, to: reposts.count, by: batch) {
            let slice = Array(reposts[start..<min(start + batch, reposts.count)])
            let batchStart = wall.now
            let outcomes = try engine.ingest(slice)
            let micros = UInt64(max(1, (wall.now - batchStart).microseconds))
            _ = histogram.record(micros, count: UInt64(slice.count))
            confirmed += outcomes.filter { if case .confirmed = $0 { true } else { false } }.count
        }
        let timedSeconds = (wall.now - timedStart).seconds
        let auditStart = wall.now
        let violations = try store.read { try $0.audit() }
        let auditSeconds = (wall.now - auditStart).seconds

        let result: [String: Any] = [
            "benchmark": "purchases", "store": storeName, "durability": durability, "count": count, "batch": batch,
            "capture": captureOnConfirmation ? "on_confirmation" : "on_shipment",
            "confirmed": confirmed, "seconds": round3(timedSeconds),
            "purchases_per_second": Int((Double(confirmed) / timedSeconds).rounded()),
            "latency_us": ["p50": histogram.valueAtPercentile(50), "p99": histogram.valueAtPercentile(99), "max": histogram.max],
            "purchase_requests_per_second": Int((Double(count) / requestSeconds).rounded()),
            "setup_seconds": round3(setupSeconds), "audit_seconds": round3(auditSeconds),
            "invariant_violations": violations.count,
        ]
        if json {
            printJSON(result)
        } else {
            print("store: \(store.location) (\(durability))")
            print("confirmed \(confirmed) of \(count) purchases in \(String(format: "%.2f", timedSeconds)) s: \(result["purchases_per_second"]!) purchases/s")
            print("latency repost → committed authorization: p50 \(histogram.valueAtPercentile(50)) µs, p99 \(histogram.valueAtPercentile(99)) µs, max \(histogram.max) µs (batches of \(batch))")
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
    private let counter = Mutex(0)

    init(clock: ManualClock) { self.clock = clock }

    var network: NetworkName { .sandbox }
    var officialAccountID: String { "official" }

    func events(after cursor: String?, limit: Int) async throws -> EventPage { EventPage(events: [], nextCursor: cursor) }

    func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        let next = counter.withLock { value in
            value += 1
            return value
        }
        return PostedReply(postID: "r\(next)", createdAt: clock.now())
    }
}
