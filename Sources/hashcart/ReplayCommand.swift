import ArgumentParser
import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartStore

/// `hashcart replay`: a recorded stream through the connector's own parser and filter, and (unless
/// `--dry-run`) through the engine on a store, reporting what each event did. Replies the engine
/// queues are not sent: nothing reaches the network.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a recorded network stream through the connector's parser and the engine, and report what each event did.",
        discussion: """
            Test offers against real captures: `hashcart replay --network bluesky --file capture.jsonl --data DIR` \
            ingests the capture into the store in DIR (or --database) with its live offers, as the live connector would. \
            With --dry-run nothing is written: each event the connector would pass on is shown with its hashtags. \
            Replies are never sent by the replay, but the ones it queues stay in the store's outbox: replay into a copy \
            of the store or a scratch one, never into a store that `hashcart serve` runs on.
            """)

    @Option(help: "The network the capture is from: bluesky (Jetstream v1 JSON lines), mastodon (streaming API messages, statuses or notifications, one JSON object per line) or x (filtered-stream lines or Account Activity bodies, one per line).")
    var network: String

    @Option(help: "The capture: one event per line.")
    var file: String

    @Flag(help: "Parse and filter only; change nothing.")
    var dryRun = false

    @Option(help: "The official account's id on the network (Bluesky: its DID; Mastodon: its account URI; X: its user id); its posts' reposts are confirmations.")
    var official: String?

    @Option(help: "Extra live hashtags, comma-separated (with --dry-run and no store, the only ones).")
    var hashtags: String?

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print one JSON object per reported event, then a summary object.")
    var json = false

    @Option(help: "Replay as of this time (unix seconds): which offers are live and what windows are open (default: now). For captures recorded earlier, and for stores whose sale is over.")
    var at: Int64?

    static let maximumFileBytes = 1 << 30

    func validate() throws {
        if let at, !(0...4_102_444_800).contains(at) { throw ValidationError("--at must be unix seconds between 0 and 4102444800 (year 2100)") }
        guard ["bluesky", "mastodon", "x"].contains(network) else {
            throw ValidationError("--network: \"\(network.prefix(32))\" is not one of x, mastodon, bluesky")
        }
        if network == "x", let official, !official.allSatisfy(\.isNumber) {
            throw ValidationError("--official must be the account's numeric user id")
        }
        if network == "bluesky", let official, JetstreamDecoder.did(inURI: "at://\(official)/x") == nil {
            throw ValidationError("--official must be a DID, e.g. did:plc:…")
        }
        if network == "mastodon", let official, !(official.hasPrefix("https://") || official.hasPrefix("http://")) {
            throw ValidationError("--official must be the account's URI, e.g. https://mastodon.social/users/shop")
        }
        if !dryRun, official == nil { throw ValidationError("--official is required unless --dry-run: the engine needs the official account") }
        for tag in (hashtags ?? "").split(separator: ",") {
            do { _ = try Hashtag(String(tag)) } catch { throw ValidationError("--hashtags: \"\(tag)\": \(error.message)") }
        }
    }

    func run() async throws {
        guard let handle = FileHandle(forReadingAtPath: file) else { fail("cannot read \(file)") }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: Self.maximumFileBytes + 1) ?? Data()
        } catch {
            fail("cannot read \(file): \(error.localizedDescription)")
        }
        guard data.count <= Self.maximumFileBytes else { fail("\(file) is over 1 GiB; split it") }

        let url = store.databaseURL()
        let hasStore = url != nil || store.data != nil
        if !dryRun, !hasStore { fail("--data DIR or --database URL is required unless --dry-run: the store to replay into") }
        var opened: (any HashcartDatabase)?
        if hasStore {
            let directory = store.data ?? "hashcart-data"
            if url == nil, !FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(SQLiteStore.fileName)) {
                fail("no Hashcart store in \(directory) (expected \(SQLiteStore.fileName))")
            }
            do {
                let key = store.resolvedKey(directory: directory)
                opened = if let url { try await PostgresStore(url: url, encryptionKey: key) } else { try SQLiteStore(directory: directory, encryptionKey: key) }
            } catch let error as StoreError {
                fail(error.description)
            }
        }
        do {
            try await replay(data, into: opened)
        } catch {
            try? await opened?.close()
            throw error
        }
        try? await opened?.close()
    }

    /// Reads the capture and hands its events to an engine on `opened` (or, without a store or
    /// with `--dry-run`, only reports them).
    private func replay(_ data: Data, into opened: (any HashcartDatabase)?) async throws {
        let clock: any WallClock = if let at { ManualClock(Instant(secondsSinceEpoch: at)) } else { SystemWallClock() }
        let networkName = NetworkName(rawValue: network)
        var interest = try await opened?.connectorInterest(network: networkName, now: clock.now()) ?? ConnectorInterest()
        for tag in (hashtags ?? "").split(separator: ",") { interest.hashtagKeys.insert(try Hashtag(String(tag)).key) }
        var reader: any CaptureReader = switch network {
        case "bluesky": JetstreamIngest(filter: JetstreamFilter(officialDID: official ?? "did:none:none", interest: interest))
        case "mastodon": MastodonCapture(decoder: MastodonDecoder(officialAccountURI: official ?? "https://none.invalid/users/none"))
        default: XCapture(decoder: XDecoder(officialUserID: official ?? "0"))
        }
        var lines = 0, kept = 0, refused = 0

        var pending: [(line: Int, event: NetworkEvent)] = []
        var outcomes: [String: Int] = [:]
        var engine: Engine?
        if let store = opened, let official, !dryRun {
            engine = try await Engine(store: store, connector: ReplayConnector(network: networkName, officialAccountID: official), clock: clock,
                                ids: RandomIDGenerator(), taxTable: try BundledTaxTable.load())
        }
        func flush() async throws {
            guard !pending.isEmpty else { return }
            if let engine {
                for (item, outcome) in zip(pending, try await engine.ingest(pending.map(\.event))) {
                    report(line: item.line, event: item.event, outcome: outcome.description)
                    outcomes[Self.outcomeName(outcome), default: 0] += 1
                }
            } else {
                for item in pending { report(line: item.line, event: item.event, outcome: "would be passed to the engine") }
            }
            pending.removeAll()
        }
        var lineNumber = 0
        let bytes = [UInt8](data)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            lineNumber += 1
            if end > start {
                lines += 1
                let read = bytes.withUnsafeBufferPointer { all in reader.read(UnsafeBufferPointer(rebasing: all[start..<end])) }
                switch read {
                case .skipped: break
                case .events(let events):
                    // Mastodon's and X's streams are filtered by the server (rules, tags).
                    kept += events.count
                    pending += events.map { (lineNumber, $0) }
                    if pending.count >= 1_000 { try await flush() }
                case .refused(let error):
                    refused += 1
                    reportRefused(line: lineNumber, error: error)
                }
            }
            start = end + 1
        }
        try await flush()
        let summary: [String: Any] = [
            "lines": lines, "kept": kept, "refused": refused, "skipped": lines - kept - refused,
            "cursor": reader.position ?? NSNull(), "dry_run": dryRun || engine == nil, "outcomes": outcomes,
        ]
        if json {
            printJSON(["summary": summary], compact: true)
        } else {
            print("\(lines) events: \(kept) for the engine, \(lines - kept - refused) not about any offer, \(refused) refused")
            if !outcomes.isEmpty { print("outcomes: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
            if let cursor = reader.position { print("cursor after the capture: \(cursor)") }
        }
    }

    func report(line: Int, event: NetworkEvent, outcome: String) {
        if json {
            printJSON(["line": line, "event_id": event.eventID, "kind": event.kind.rawValue, "author": event.author.userID,
                       "hashtags": event.normalizedHashtags.map(\.display), "referenced_post_id": event.referencedPostID ?? NSNull(),
                       "outcome": outcome] as [String: Any], compact: true)
        } else {
            let tags = event.normalizedHashtags.map(\.description).joined(separator: " ")
            print("line \(line): \(event.kind.rawValue) \(event.eventID) by \(event.author.userID)\(tags.isEmpty ? "" : " " + tags) → \(outcome)")
        }
    }

    func reportRefused(line: Int, error: WireFormatError) {
        if json {
            printJSON(["line": line, "outcome": "refused", "error": error.description], compact: true)
        } else {
            print("line \(line): refused: \(error.description)")
        }
    }

    static func outcomeName(_ outcome: EventOutcome) -> String {
        String(outcome.description.prefix { $0 != " " && $0 != ":" })
    }
}

/// The engine's connector during a replay: it names the network and the official account, and
/// sends nothing (the replay only ingests; queued replies stay in the outbox).
struct ReplayConnector: NetworkConnector {
    let network: NetworkName
    let officialAccountID: String

    func events(after cursor: String?, limit: Int) async throws -> EventPage { EventPage(events: [], nextCursor: cursor) }

    func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        throw ConnectorError(network: network, message: "a replay sends nothing", isRetryable: false)
    }

    func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        throw ConnectorError(network: network, message: "a replay sends nothing", isRetryable: false)
    }
}
