import Foundation
import HashcartCore
import HashcartEngine
import HashcartStore

/// The sale the purchase benchmarks time: one merchant, one offer with `count` units, `count`
/// card accounts with linked identities, their purchase posts ingested and the confirmation
/// replies posted (all untimed). What is left to time is ``reposts``: the confirming reposts.
///
/// The store is a fresh SQLite folder (removed by ``close()`` unless the caller named it) or, with
/// a PostgreSQL URL, a fresh schema (dropped by ``close()`` unless the URL named it).
final class BenchSale {
    let store: any HashcartDatabase
    let engine: Engine
    let clock: ManualClock
    let storeName: String
    let durability: String
    /// Seconds of setup, and of ingesting the purchase posts (reservation + reply queued) alone.
    let setupSeconds: Double
    let requestSeconds: Double
    /// One confirming repost per purchase, in purchase order, not yet ingested.
    let reposts: [NetworkEvent]

    private let directory: String
    private let removeDirectory: Bool
    private let ownSchema: Bool

    init(count: Int, batch: Int, captureOnConfirmation: Bool, data: String?, database: String?) async throws {
        directory = data ?? (NSTemporaryDirectory() + "hashcart-bench-" + String(UUID().uuidString.prefix(8)).lowercased())
        removeDirectory = data == nil
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            fail("\(directory) is a file; --data needs a folder")
        }
        if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(SQLiteStore.fileName)) {
            fail("\(directory) already holds a Hashcart store; the benchmark needs a new folder")
        }
        let clock = ManualClock(Instant(secondsSinceEpoch: 1_795_791_600))
        self.clock = clock
        var ownSchema = false
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
            storeName = "sqlite"
            durability = "synchronous=FULL"
            store = try SQLiteStore(directory: directory, encryptionKey: AddressCipher.generateEncodedKey())
        }
        self.ownSchema = ownSchema
        let connector = BenchConnector(clock: clock)
        let configuration = EngineConfiguration(maximumEventsPerBatch: batch, maximumOutboundPerRound: 10_000)
        let engine = try Engine(store: store, connector: connector, clock: clock, ids: SequentialIDGenerator(),
                            taxTable: try BundledTaxTable.load(), configuration: configuration)
        self.engine = engine
        let wall = ContinuousClock()

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
        let postedAt = clock.now()
        let posts = identities.enumerated().map { index, identity in
            NetworkEvent(network: .sandbox, eventID: "post\(index)", kind: .post, author: identity, text: "#BuyKindleFireHD",
                         createdAt: postedAt)
        }
        let requestStart = wall.now
        try engine.ingest(posts)
        requestSeconds = (wall.now - requestStart).seconds
        while try await engine.dispatchOutbox().sent > 0 {}
        setupSeconds = (wall.now - setupStart).seconds

        let store = self.store
        let confirmationPosts = try store.read { reader in
            try reader.purchases(limit: count).map { ($0.identity, $0.confirmationPostID) }
        }
        clock.advance(seconds: 30)
        let now = clock.now()
        reposts = confirmationPosts.enumerated().map { index, pair in
            NetworkEvent(network: .sandbox, eventID: "repost\(index)", kind: .repost, author: pair.0, referencedPostID: pair.1 ?? "missing",
                         referencedAuthorID: connector.officialAccountID, createdAt: now)
        }
    }

    /// Removes the benchmark's own store (folder or schema); a store the caller named is kept.
    func close() {
        if ownSchema, let postgres = store as? PostgresStore { try? postgres.dropSchema() }
        try? store.close()
        if removeDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Confirmed purchases among `outcomes`.
    static func confirmed(_ outcomes: [EventOutcome]) -> Int {
        outcomes.count { if case .confirmed = $0 { true } else { false } }
    }
}
