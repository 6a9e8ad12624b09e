import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Synchronization
import Testing

/// Three engines, each with its own store connection pool, on one PostgreSQL database: what
/// several Hashcart instances do when they all read the same network. They race on the same
/// events, outbox and timers at once; every event is processed once, every reply sent once,
/// every timer fired once, and the hot offer never oversold.
@Suite(.enabled(if: TestBackend.postgresURL != nil, Comment(rawValue: TestBackend.skipNotice)))
struct ConcurrentEnginesTests {
    static let buyers = 2_000
    static let stock: Int64 = 200

    /// Runs `body` three times at once, as three instances would (each store call suspends its caller).
    static func onThree<T: Sendable>(_ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for index in 0..<3 {
                group.addTask { (index, try await body(index)) }
            }
            var results: [(Int, T)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func threeEnginesRacingOnOneDatabase() async throws {
        let database = try TestDatabase(.postgres)
        let key = AddressCipher.generateEncodedKey()
        let clock = ManualClock(Instant(secondsSinceEpoch: 1_790_000_000))
        let sandbox = try SandboxNetwork(directory: database.directory, clock: clock)
        var opened: [any HashcartDatabase] = []
        for _ in 0..<3 { opened.append(try await database.open(key: key)) }
        let stores = opened
        defer { for store in stores { store.closeLater() } }
        var built: [Engine] = []
        for index in 0..<3 {
            built.append(try await Engine(store: stores[index], connector: SandboxConnector(sandbox: sandbox), clock: clock,
                       ids: SequentialIDGenerator(namespace: "e\(index)"), taxTable: try BundledTaxTable.load(),
                       configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0), maximumEventsPerBatch: 250)))
        }
        let engines = built

        // A hot offer: 2,000 linked buyers for 200 units.
        let merchant = try await engines[0].createMerchant(name: "Gadgets Inc")
        let offer = try await engines[1].createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "KFHD", price: .usd(14999),
                                                          hashtag: "#BuyKindleFireHD", quantity: Self.stock))
        let cards = try await engines[2].createCardAccounts((0..<Self.buyers).map { index in
            CardAccountDraft(creditLimit: .usd(500_000),
                             billing: BillingAddress(name: "Buyer \(index)", line1: "\(index) Main St", city: "Albany", state: .NY, postalCode: "12207"),
                             cardLast4: "4242")
        })
        let accounts = try (0..<Self.buyers).map { try sandbox.createAccount(handle: "buyer\($0)") }
        let identities = accounts.map { SocialIdentity(network: .sandbox, userID: $0.id, handle: "@" + $0.handle) }
        try await engines[0].link(Array(zip(cards.map(\.id), identities)), at: clock.now().adding(seconds: -86_400))

        // Every engine sees every post (as instances reading one network do), each in its own order.
        for account in accounts { _ = try sandbox.post(authorID: account.id, text: "I want it #BuyKindleFireHD") }
        let posts = try sandbox.events(after: 0, limit: 10_000).events
        #expect(posts.count == Self.buyers)
        let ingested = try await Self.onThree { index in
            var random = SplitMix64(seed: UInt64(index + 1))
            var order = posts
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            return try await engines[index].ingest(order).filter { $0 != .duplicate }.count
        }
        #expect(ingested.reduce(0, +) == Self.buyers, "each post processed by exactly one engine: \(ingested)")
        let counts = try await stores[0].read { try $0.purchaseCounts(offer: offer.id) }
        #expect(counts[.requested] == Self.stock, "\(counts)")
        // The rest wait in the waitlist, up to its length; beyond it they are declined sold out.
        let line = EngineConfiguration().maximumWaitlistLength
        #expect(counts[.waitlisted] == line, "\(counts)")
        #expect(counts[.declined] == Int64(Self.buyers) - Self.stock - line, "\(counts)")
        #expect(try await stores[1].read { try $0.audit() } == [])

        // The outbox: each reply is claimed and sent by exactly one engine.
        let sent = try await Self.onThree { index in
            var total = 0
            while true {
                let round = try await engines[index].dispatchOutbox()
                total += round.sent
                if round.sent == 0 && round.retried == 0 { return total }
            }
        }
        let outbox = try await stores[2].read { try $0.outboundPosts() }
        #expect(sent.reduce(0, +) == outbox.count, "replies sent \(sent) for \(outbox.count) outbox rows")
        #expect(outbox.allSatisfy { $0.state == .sent })
        let replies = Set(outbox.compactMap(\.postID))
        #expect(replies.count == outbox.count, "the network got \(replies.count) distinct replies for \(outbox.count) outbox rows")

        // Nobody confirms: every window closes, and each expiry timer fires once.
        clock.advance(seconds: 3_600)
        let expired = try await Self.onThree { index in
            var total = 0
            while true {
                let fired = try await engines[index].runTimers().expiredPurchases
                total += fired
                if fired == 0 { return total }
            }
        }
        #expect(expired.reduce(0, +) == Int(Self.stock), "expiry timers fired \(expired) times for \(Self.stock) reservations")
        let after = try await stores[0].read { reader in (try reader.purchaseCounts(offer: offer.id), try reader.offers().first { $0.id == offer.id }) }
        // The freed units went to the first in line, once each: as many turns as units, no more.
        #expect(after.0[.expired] == Self.stock && after.1?.soldUnits == 0, "\(after)")
        #expect(after.0[.requested] == Self.stock && after.1?.reservedUnits == Self.stock, "\(after)")
        #expect(after.0[.waitlisted] == line - Self.stock, "\(after)")
        #expect(try await stores[1].read { try $0.audit() } == [])
    }

    /// Two instances, each with its own cache of card accounts, move one card's limit in turn and
    /// at once: each change reads the card from the database (not a stale cached limit), so the
    /// credit line always holds the stored limit, and a close by one is seen by the other.
    @Test(.timeLimit(.minutes(2)))
    func limitChangesFromTwoInstancesKeepTheCreditLineRight() async throws {
        let database = try TestDatabase(.postgres)
        let key = AddressCipher.generateEncodedKey()
        let clock = ManualClock(Instant(secondsSinceEpoch: 1_790_000_000))
        let sandbox = try SandboxNetwork(directory: database.directory, clock: clock)
        let stores = [try await database.open(key: key), try await database.open(key: key)]
        defer { for store in stores { store.closeLater() } }
        var built: [Engine] = []
        for index in 0..<2 {
            built.append(try await Engine(store: stores[index], connector: SandboxConnector(sandbox: sandbox), clock: clock,
                                          ids: SequentialIDGenerator(namespace: "e\(index)"), taxTable: try BundledTaxTable.load()))
        }
        let engines = built
        let card = try await engines[0].createCardAccount(creditLimit: .usd(50_000), billing: BillingAddress(name: "Ada", line1: "1 Main St",
                                                          line2: nil, city: "Albany", state: .NY, postalCode: "12207"), cardLast4: "4242")
        // Both instances read (and cache) the card at $500.
        for engine in engines { _ = try await engine.setCreditLimit(cardAccountID: card.id, to: .usd(50_000)) }
        _ = try await engines[1].setCreditLimit(cardAccountID: card.id, to: .usd(80_000))
        _ = try await engines[0].setCreditLimit(cardAccountID: card.id, to: .usd(60_000))  // from $800, not a cached $500
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, limit) in [(0, Int64(70_000)), (1, Int64(90_000)), (0, Int64(65_000)), (1, Int64(75_000))] {
                group.addTask { _ = try await engines[index].setCreditLimit(cardAccountID: card.id, to: .usd(limit)) }
            }
            try await group.waitForAll()
        }
        let stored = try #require(try await stores[0].read { try $0.cardAccount(card.id) })
        let line = try #require(try await stores[0].read { try $0.ledgerAccount(LedgerAccounts.creditLine(card.id).id) })
        #expect(line.availableCredit == stored.creditLimit.minorUnits, "line \(line.availableCredit), limit \(stored.creditLimit)")
        #expect(try await stores[1].read { try $0.audit() } == [])
        _ = try await engines[0].closeCardAccount(card.id, reason: "closed by the cardholder")
        await #expect(throws: EngineError.self) { try await engines[1].setCreditLimit(cardAccountID: card.id, to: .usd(1)) }
    }
}
