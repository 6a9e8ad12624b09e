import Foundation
import HashcartCore
import HashcartEngine
import HashcartStore

/// The sale the purchase benchmarks time: one merchant, one offer with `units` units (default:
/// one per cardholder), `count` card accounts with linked identities (untimed). Then either
/// ``requestPurchases()``: their purchase posts ingested and the confirmation replies posted
/// (untimed), leaving the confirming reposts to time; or the caller times the posts itself.
///
/// The store is a fresh SQLite folder (removed by ``close()`` unless the caller named it) or, with
/// a PostgreSQL URL, a fresh schema (dropped by ``close()`` unless the URL named it).
final class BenchSale {
    let store: any HashcartDatabase
    let engine: Engine
    let clock: ManualClock
    let storeName: String
    let durability: String
    let connector: BenchConnector
    /// The cardholders' linked identities, in card order.
    let identities: [SocialIdentity]
    /// Seconds of setup (offer, cards, links), and, once ``requestPurchases()`` ran, of ingesting
    /// the purchase posts (reservation + reply queued) and of all of it.
    let setupSeconds: Double
    private(set) var requestSeconds = 0.0
    private(set) var totalSetupSeconds = 0.0

    private let directory: String
    private let removeDirectory: Bool
    private let ownSchema: Bool

    /// Identities are on `network` (`identity` names cardholder `index`'s), replies come from `officialAccountID`.
    init(count: Int, units: Int? = nil, batch: Int, captureOnConfirmation: Bool, data: String?, database: String?,
         network: NetworkName = .sandbox, officialAccountID: String = "official",
         identity: @escaping (Int) -> SocialIdentity = { SocialIdentity(network: .sandbox, userID: "b\($0)", handle: "@b\($0)") }) async throws {
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
            let postgres = try await PostgresStore(url: url, encryptionKey: AddressCipher.generateEncodedKey())
            if try await postgres.read({ try $0.count("merchants") }) > 0 { fail("schema \(url.schema) already holds a Hashcart store; the benchmark needs a new one") }
            storeName = "postgresql"
            durability = "synchronous_commit=" + (try await postgres.serverSetting("synchronous_commit"))
            store = postgres
        } else {
            storeName = "sqlite"
            durability = "synchronous=FULL"
            store = try SQLiteStore(directory: directory, encryptionKey: AddressCipher.generateEncodedKey())
        }
        self.ownSchema = ownSchema
        let connector = BenchConnector(clock: clock, network: network, officialAccountID: officialAccountID)
        self.connector = connector
        let configuration = EngineConfiguration(maximumEventsPerBatch: batch, maximumOutboundPerRound: 10_000)
        let engine = try await Engine(store: store, connector: connector, clock: clock, ids: SequentialIDGenerator(),
                            taxTable: try BundledTaxTable.load(), configuration: configuration)
        self.engine = engine
        let wall = ContinuousClock()

        let setupStart = wall.now
        let merchant = try await engine.createMerchant(name: "Bench Store")
        var draft = OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "KFHD", price: .usd(14999),
                               hashtag: "#BuyKindleFireHD", quantity: Int64(units ?? count))
        draft.captureMode = captureOnConfirmation ? .onConfirmation : .onShipment
        _ = try await engine.createOffer(draft)
        let states = USState.allCases
        var identities: [SocialIdentity] = []
        identities.reserveCapacity(count)
        for chunk in stride(from: 0, to: count, by: 10_000) {
            let size = min(10_000, count - chunk)
            let cards = try await engine.createCardAccounts((0..<size).map { offset in
                let index = chunk + offset
                return CardAccountDraft(
                    creditLimit: .usd(500_000),
                    billing: BillingAddress(name: "Buyer \(index)", line1: "\(index) Main St", city: "Springfield",
                                            state: states[index % states.count], postalCode: "10001"),
                    cardLast4: "4242")
            })
            let pairs = cards.enumerated().map { offset, card in (card.id, identity(chunk + offset)) }
            try await engine.link(pairs, at: clock.now().adding(seconds: -86_400))
            identities += pairs.map(\.1)
        }
        self.identities = identities
        setupSeconds = (wall.now - setupStart).seconds
        totalSetupSeconds = setupSeconds
    }

    /// Each cardholder's purchase post, as posted now.
    func purchasePosts() -> [NetworkEvent] {
        let postedAt = clock.now()
        return identities.enumerated().map { index, identity in
            NetworkEvent(network: .sandbox, eventID: "post\(index)", kind: .post, author: identity, text: "#BuyKindleFireHD",
                         createdAt: postedAt)
        }
    }

    /// The confirming repost of a purchase's confirmation reply, by its cardholder.
    func repost(of purchase: Purchase, index: Int) -> NetworkEvent {
        NetworkEvent(network: .sandbox, eventID: "repost\(index)", kind: .repost, author: purchase.identity,
                     referencedPostID: purchase.confirmationPostID ?? "missing", referencedAuthorID: connector.officialAccountID,
                     createdAt: clock.now())
    }

    /// Ingests every cardholder's purchase post and posts the confirmation replies (untimed);
    /// returns one confirming repost per purchase, in purchase order, 30 s later.
    func requestPurchases() async throws -> [NetworkEvent] {
        let wall = ContinuousClock()
        let started = wall.now
        let posts = purchasePosts()
        try await engine.ingest(posts)
        requestSeconds = (wall.now - started).seconds
        while try await engine.dispatchOutbox().sent > 0 {}
        totalSetupSeconds = setupSeconds + (wall.now - started).seconds
        let limit = identities.count
        let purchases = try await store.read { try $0.purchases(limit: limit) }
        clock.advance(seconds: 30)
        return purchases.enumerated().map { repost(of: $1, index: $0) }
    }

    /// Runs `body` on this sale, then closes it, whether `body` returned or threw.
    func run(_ body: (BenchSale) async throws -> Void) async throws {
        do {
            try await body(self)
        } catch {
            await close()
            throw error
        }
        await close()
    }

    /// Removes the benchmark's own store (folder or schema); a store the caller named is kept.
    func close() async {
        if ownSchema, let postgres = store as? PostgresStore { try? await postgres.dropSchema() }
        try? await store.close()
        if removeDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Confirmed purchases among `outcomes`.
    static func confirmed(_ outcomes: [EventOutcome]) -> Int {
        outcomes.count { if case .confirmed = $0 { true } else { false } }
    }
}
