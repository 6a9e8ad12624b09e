import ArgumentParser
import Foundation
import HashcartConnectors
import HashcartCore

/// `hashcart bench ingest`: how fast one core turns a network's stream into the engine's events.
///
/// Timed: the connector's own per-line work (``JetstreamIngest``) over a Jetstream v1 stream held
/// in memory: scan every line, decode the kept ones strictly, track the cursor. Not timed: reading
/// or generating the stream. One thread; `--rounds` passes, the median reported.
struct BenchIngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Parse + hashtag-match throughput of a network's stream on one core (posts/s and MB/s).")

    @Option(help: "The network whose wire format to read (bluesky).")
    var network = "bluesky"

    @Option(help: "A Jetstream v1 capture, one JSON event per line.")
    var file: String?

    @Option(help: "Generate this many events instead (1…20000000), ~0.1 % of posts carrying a live offer's hashtag.")
    var generate: Int?

    @Option(help: "Write the generated stream to this file (for the Python reference).")
    var write: String?

    @Option(help: "Seed of the generated stream.")
    var seed: UInt64 = 1

    @Option(help: "Live offers' hashtags, comma-separated.")
    var hashtags = "BuyAmexTee,BuyKindleFireHD,HashcartDemo,BuyCafé,買う,BuyVinylPress,BuyTrailShoe,BuyDripKettle,BuySolarLamp,BuyWoolBeanie"

    @Option(help: "The official account's DID (its reposts are confirmations).")
    var official = "did:plc:shopbotbbbbbbbbbbbbbbbbb"

    @Option(help: "Timed passes over the stream (1…50); the median is reported.")
    var rounds = 5

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard network == "bluesky" else { throw ValidationError("--network: only bluesky has an ingest benchmark so far") }
        guard (file == nil) != (generate == nil) else { throw ValidationError("give exactly one of --file and --generate") }
        if let generate, !(1...20_000_000).contains(generate) { throw ValidationError("--generate must be between 1 and 20000000") }
        guard (1...50).contains(rounds) else { throw ValidationError("--rounds must be between 1 and 50") }
        guard write == nil || generate != nil else { throw ValidationError("--write needs --generate") }
        guard JetstreamDecoder.did(inURI: "at://\(official)/x") != nil else { throw ValidationError("--official must be a DID, e.g. did:plc:…") }
        for tag in hashtags.split(separator: ",") {
            do { _ = try Hashtag(String(tag)) } catch { throw ValidationError("--hashtags: \"\(tag)\": \(error.message)") }
        }
    }

    func run() throws {
        let tags = hashtags.split(separator: ",").map(String.init)
        var bytes: [UInt8]
        var offerPosts: Int?
        if let generate {
            var generator = JetstreamGenerator(seed: seed, offerTags: tags, officialDID: official)
            bytes = []
            bytes.reserveCapacity(generate * 700)
            for _ in 0..<generate {
                bytes.append(contentsOf: generator.nextLine().utf8)
                bytes.append(0x0A)
            }
            offerPosts = generator.offerPosts + generator.officialReposts
            if let write {
                guard FileManager.default.createFile(atPath: write, contents: Data(bytes)) else { fail("cannot write \(write)") }
            }
        } else {
            guard let data = FileManager.default.contents(atPath: file!) else { fail("cannot read \(file!)") }
            bytes = Array(data)
        }
        // Line boundaries, found before timing (the live connector gets whole WebSocket messages).
        var lines: [Range<Int>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            if index > start { lines.append(start..<index) }
            start = index + 1
        }
        if start < bytes.count { lines.append(start..<bytes.count) }
        guard !lines.isEmpty else { fail("the stream has no lines") }

        let interest = ConnectorInterest(hashtagKeys: Set(tags.compactMap { try? Hashtag($0).key }))
        var rates: [Double] = []
        var last = JetstreamIngest(filter: JetstreamFilter(officialDID: official, interest: interest))
        bytes.withUnsafeBufferPointer { buffer in
            for _ in 0..<rounds {
                var ingest = JetstreamIngest(filter: JetstreamFilter(officialDID: official, interest: interest))
                let began = ContinuousClock.now
                for range in lines {
                    _ = ingest.accept(UnsafeBufferPointer(rebasing: buffer[range]))
                }
                let elapsed = ContinuousClock.now - began
                rates.append(Double(lines.count) / (Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)))
                last = ingest
            }
        }
        let sorted = rates.sorted()
        let median = sorted[sorted.count / 2]
        let averageBytes = Double(bytes.count) / Double(lines.count)
        let megabytesPerSecond = median * averageBytes / 1_000_000
        if json {
            let result: [String: Any] = [
                "network": network, "events": lines.count, "bytes": bytes.count, "rounds": rounds,
                "events_per_second_median": Int(median), "events_per_second_min": Int(sorted.first!),
                "events_per_second_max": Int(sorted.last!), "megabytes_per_second": (megabytesPerSecond * 10).rounded() / 10,
                "kept": last.kept, "refused": last.refused, "expected_kept": offerPosts ?? -1,
            ]
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("""
                ingest \(network): \(lines.count) events, \(bytes.count / 1_000_000) MB (\(Int(averageBytes)) bytes/event), one core, \(rounds) rounds
                  \(Int(median)) events/s median (\(Int(sorted.first!))–\(Int(sorted.last!))), \(String(format: "%.1f", megabytesPerSecond)) MB/s
                  kept \(last.kept) for the engine\(offerPosts.map { " (generated: \($0) offer posts and official reposts)" } ?? ""), refused \(last.refused)
                """)
        }
    }
}
