import ArgumentParser
import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartStore

/// `hashcart bench scale`: whether the cost of an event stays flat as the store grows.
///
/// Setup (timed apart, through the bulk path): a million card accounts linked to Bluesky
/// identities, one offer with a unit for every purchase. Then ten million network events as
/// Jetstream v1 lines, each through the Bluesky connector's own per-line code
/// (``JetstreamIngest``: scan, strict decode of the kept lines) and the kept ones through the
/// engine into the store: 1 % purchase posts by linked cardholders, each followed (once its
/// confirmation reply is posted) by the cardholder's confirming repost; the rest unrelated posts,
/// reposts, deletes and identity events from ``JetstreamGenerator``, which the connector drops.
/// Reported per tenth of the run: microseconds per event, so growth shows as a rising line.
struct BenchScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Cost per network event across a long run on a store of a million linked cardholders (flat is good).")

    @Option(help: "Linked cardholders (1000…2000000).")
    var cardholders = 1_000_000

    @Option(help: "Network events (10000…50000000); 1 % are purchase posts, as many again their confirming reposts.")
    var events = 10_000_000

    @Option(name: .customLong("data"), help: "A new folder for the benchmark's store (default: a fresh temporary folder, removed afterwards).")
    var data: String?

    @OptionGroup var options: BenchRunOptions

    func validate() throws {
        guard (1_000...2_000_000).contains(cardholders) else { throw ValidationError("--cardholders must be between 1000 and 2000000") }
        guard (10_000...50_000_000).contains(events) else { throw ValidationError("--events must be between 10000 and 50000000") }
        guard events / 100 <= cardholders else { throw ValidationError("--events / 100 purchase posts need as many --cardholders (each buys once)") }
    }

    static let official = "did:plc:hashcartbenchofficialaaa"

    /// The DID of cardholder `index`: 24 base32 characters, as did:plc identifiers are.
    static func did(_ index: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var value = UInt64(index)
        var characters: [Character] = []
        for _ in 0..<12 {
            characters.append(alphabet[Int(value % 32)])
            value /= 32
        }
        return "did:plc:hcbenchaaaaa" + String(characters.reversed())
    }

    func run() async throws {
        let purchases = events / 100
        let sale = try await BenchSale(count: cardholders, units: purchases, batch: options.batch, captureOnConfirmation: false, data: data,
                                 database: options.database, network: .bluesky, officialAccountID: Self.official,
                                 identity: { SocialIdentity(network: .bluesky, userID: Self.did($0), handle: "@buyer\($0).bsky.social") })
        try await sale.run { try await measure($0, purchases: purchases) }
    }

    /// The benchmark proper, on a sale that ``run()`` closes whatever happens.
    func measure(_ sale: BenchSale, purchases: Int) async throws {
        let (engine, store, clock, connector) = (sale.engine, sale.store, sale.clock, sale.connector)
        let wall = ContinuousClock()
        let interest = try await store.connectorInterest(network: .bluesky, now: clock.now())
        var ingest = JetstreamIngest(filter: JetstreamFilter(officialDID: Self.official, interest: interest))
        // Unrelated traffic: the generator's own offer tag is not a live offer's, so nothing it writes is kept.
        var unrelated = JetstreamGenerator(seed: 2013, offerTags: ["NotOnSaleHere"], officialDID: Self.official, offerRate: 0,
                                           startMicroseconds: clock.now().millisecondsSinceEpoch * 1_000)
        var buyers = BuyerOrder(count: cardholders)
        var pendingReposts: [String] = []
        var answered: Set<String> = []
        var kept: [NetworkEvent] = []
        var tenths: [Double] = []
        var postsSent = 0, repostsSent = 0, confirmed = 0, refused = 0
        var sequence = 0
        let flushEvery = max(options.batch, 1)

        func flush() async throws {
            guard !kept.isEmpty else { return }
            confirmed += BenchSale.confirmed(try await engine.ingest(kept))
            kept.removeAll(keepingCapacity: true)
            while try await engine.dispatchOutbox().sent > 0 {}
            for reply in connector.takeReplies() {
                // The cardholder reposts the first reply to their post (the confirmation request;
                // later ones say it is confirmed): at://<buyer DID>/… is the post it answered.
                guard answered.insert(reply.inReplyTo).inserted, let buyer = JetstreamDecoder.did(inURI: reply.inReplyTo) else { continue }
                sequence += 1
                pendingReposts.append(Self.repostLine(by: buyer, of: reply.postID, sequence: sequence, at: clock.now()))
            }
        }

        let setupSeconds = sale.setupSeconds
        let runStart = wall.now
        for tenth in 0..<10 {
            let start = wall.now
            let range = (events * tenth / 10)..<(events * (tenth + 1) / 10)
            for index in range {
                let line: String
                if index % 100 == 0, postsSent < purchases {
                    sequence += 1
                    line = Self.postLine(by: Self.did(buyers.next()), sequence: sequence, at: clock.now())
                    postsSent += 1
                } else if index % 100 == 50, !pendingReposts.isEmpty {
                    line = pendingReposts.removeFirst()
                    repostsSent += 1
                } else {
                    line = unrelated.nextLine()
                }
                var bytes = Array(line.utf8)
                switch bytes.withUnsafeMutableBufferPointer({ ingest.accept(UnsafeBufferPointer($0)) }) {
                case .event(let decoded): kept.append(decoded.event)
                case .refused: refused += 1
                case .skipped: break
                }
                bytes.removeAll()
                if kept.count >= flushEvery || (index % 10_000 == 9_999) { try await flush() }
            }
            try await flush()
            tenths.append((wall.now - start).seconds * 1_000_000 / Double(range.count))
        }
        // What is still waiting: the last reposts, then the audit.
        while !pendingReposts.isEmpty {
            var bytes = Array(pendingReposts.removeFirst().utf8)
            repostsSent += 1
            if case .event(let decoded) = bytes.withUnsafeMutableBufferPointer({ ingest.accept(UnsafeBufferPointer($0)) }) { kept.append(decoded.event) }
            if kept.count >= flushEvery { try await flush() }
        }
        try await flush()
        let runSeconds = (wall.now - runStart).seconds
        let violations = try await store.read { try $0.audit() }
        let sold = try await store.read { try $0.count("orders") }
        let rss = Self.peakResidentBytes()
        let ratio = tenths.last! / tenths.first!
        if options.json {
            let result: [String: Any] = [
                "store": sale.storeName, "cardholders": cardholders, "events": events, "batch": options.batch,
                "purchase_posts": postsSent, "reposts": repostsSent, "confirmed": confirmed, "orders": sold, "refused_lines": refused,
                "kept_by_connector": ingest.kept, "setup_seconds": (setupSeconds * 10).rounded() / 10, "run_seconds": (runSeconds * 10).rounded() / 10,
                "tenths_us_per_event": tenths.map { ($0 * 100).rounded() / 100 }, "last_over_first": (ratio * 100).rounded() / 100,
                "peak_rss_bytes": rss, "invariant_violations": violations.count,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("""
                bench scale (\(sale.storeName)): \(cardholders) linked cardholders, \(events) events, batch \(options.batch)
                  setup \(String(format: "%.1f", setupSeconds)) s; run \(String(format: "%.1f", runSeconds)) s, \(postsSent) purchase posts, \(repostsSent) reposts, \(confirmed) confirmed, \(sold) orders
                  µs per event by tenth: \(tenths.map { String(format: "%.2f", $0) }.joined(separator: " "))  (last / first \(String(format: "%.2f", ratio)))
                  peak RSS \(rss / 1_048_576) MiB; \(violations.isEmpty ? "no rule is broken" : "\(violations.count) rules broken")
                """)
        }
        if !violations.isEmpty || sold != Int64(postsSent) { throw ExitCode.failure }
    }

    /// Jetstream's line for a post of the offer's hashtag by `did`.
    static func postLine(by did: String, sequence: Int, at time: Instant) -> String {
        let rkey = "3mbench" + String(sequence)
        return """
            {"did":"\(did)","time_us":\(time.millisecondsSinceEpoch * 1_000 + Int64(sequence % 1_000)),"kind":"commit","commit":{"rev":"\(rkey)","operation":"create","collection":"app.bsky.feed.post","rkey":"\(rkey)","record":{"$type":"app.bsky.feed.post","createdAt":"2026-11-28T12:00:00.000Z","text":"Mine! #BuyKindleFireHD","langs":["en"]},"cid":"bafyreibench\(sequence)"}}
            """
    }

    /// Jetstream's line for `did`'s repost of the official post `uri`.
    static func repostLine(by did: String, of uri: String, sequence: Int, at time: Instant) -> String {
        let rkey = "3mrepost" + String(sequence)
        return """
            {"did":"\(did)","time_us":\(time.millisecondsSinceEpoch * 1_000 + Int64(sequence % 1_000)),"kind":"commit","commit":{"rev":"\(rkey)","operation":"create","collection":"app.bsky.feed.repost","rkey":"\(rkey)","record":{"$type":"app.bsky.feed.repost","createdAt":"2026-11-28T12:00:00.000Z","subject":{"cid":"bafyreiofficial","uri":"\(uri)"}},"cid":"bafyreirepost\(sequence)"}}
            """
    }

    /// The process's peak resident set, as `/usr/bin/time -v` reports it.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1_024
    }
}

/// Every cardholder once, in an order spread over the whole store (a stride coprime with the count).
struct BuyerOrder {
    let count: Int
    private let stride: Int
    private var position = 0

    init(count: Int) {
        self.count = count
        var stride = count / 2 + 1
        while Self.gcd(stride, count) != 1 { stride += 1 }
        self.stride = stride
    }

    mutating func next() -> Int {
        defer { position += 1 }
        return (position * stride) % count
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
