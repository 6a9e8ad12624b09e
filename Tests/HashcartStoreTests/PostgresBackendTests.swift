import Foundation
import Synchronization
import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

/// What only the PostgreSQL store has: its URL, its server, several stores on one database.
/// Without `HASHCART_TEST_DATABASE_URL` these tests are skipped, and say so.
@Suite(.enabled(if: TestBackend.postgresURL != nil, Comment(rawValue: TestBackend.skipNotice)))
struct PostgresBackendTests {
    @Test func theServerKeepsCommitsDurable() async throws {
        let fixture = try await StoreFixture(backend: .postgres)
        let store = try #require(fixture.store as? PostgresStore)
        #expect(try await store.serverSetting("synchronous_commit") == "on")
        #expect(try await store.serverSetting("fsync") == "on")
        #expect(store.location.hasPrefix("PostgreSQL at postgres://"))
        #expect(!store.location.contains("@127.0.0.1:1/"))
    }

    /// Two stores (two instances) on one schema see each other's commits at once.
    @Test func twoInstancesShareOneDatabase() async throws {
        let fixture = try await StoreFixture(backend: .postgres)
        let second = try await fixture.database.open(key: fixture.key)
        defer { second.closeLater() }
        #expect(try await second.read { try $0.cardAccount(StoreFixture.cardA) } == fixture.cardA)
        try await second.write { tx in
            var offer = try #require(try tx.offer(StoreFixture.offerID))
            offer.reservedUnits = 1
            try tx.updateOffer(offer)
        }
        #expect(try await fixture.store.read { try $0.offers() }.first { $0.id == StoreFixture.offerID }?.reservedUnits == 1)
    }

    /// Reads take no writer lock: while an engine transaction holds it (here for as long as the
    /// test wants), the API's reads of an offer and a merchant answer from a snapshot.
    @Test(.timeLimit(.minutes(1))) func readsAnswerWhileAWriteHoldsTheWriterLock() async throws {
        let fixture = try await StoreFixture(backend: .postgres)
        let store = fixture.store
        let holding = Mutex(false), release = Mutex(false), finished = Mutex(false)
        let writer = Task {
            try? await store.write { tx in
                var offer = try tx.offer(StoreFixture.offerID)!
                offer.reservedUnits = 1
                try tx.updateOffer(offer)
                holding.withLock { $0 = true }
                while !release.withLock({ $0 }) { usleep(10_000) }
            }
            finished.withLock { $0 = true }
        }
        while !holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        let (offer, merchant) = try await store.read { reader in
            (try reader.offer(StoreFixture.offerID), try reader.merchant(StoreFixture.merchantID))
        }
        #expect(!finished.withLock { $0 }, "the read waited for the writer")
        #expect(offer?.reservedUnits == 0, "a snapshot: the uncommitted change is not seen")
        #expect(merchant?.id == StoreFixture.merchantID)
        release.withLock { $0 = true }
        await writer.value
        #expect(finished.withLock { $0 })
        #expect(try await store.read { try $0.offer(StoreFixture.offerID) }?.reservedUnits == 1)
    }
}

extension PostgresBackendTests {
    /// Every connection busy: a call waits at most `acquire_timeout`, then is a clear
    /// `unavailable` that changed nothing; the call holding the connection still commits.
    @Test(.timeLimit(.minutes(1))) func aCallThatFindsEveryConnectionBusyFailsAfterTheAcquireTimeout() async throws {
        let database = try TestDatabase(.postgres)
        let url = try #require(database.url) + "&acquire_timeout=1"
        let store = try await PostgresStore(url: url.replacingOccurrences(of: "pool=\(TestDatabase.poolSize)", with: "pool=1"), encryptionKey: AddressCipher.generateEncodedKey())
        defer { store.closeLater() }
        let holding = Mutex(false), release = Mutex(false)
        let merchant = Merchant(id: MerchantID("mer_busy"), name: "Busy", discountRateBasisPoints: 250, createdAt: Instant(secondsSinceEpoch: 1_790_000_000))
        let writer = Task {
            try await store.write { tx in
                try tx.insertMerchant(merchant)
                holding.withLock { $0 = true }
                while !release.withLock({ $0 }) { usleep(10_000) }
            }
        }
        while !holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        let started = ContinuousClock.now
        let error = await #expect(throws: StoreError.self) {
            try await store.write { tx in try tx.insertMerchant(Merchant(id: MerchantID("mer_late"), name: "Late", discountRateBasisPoints: 250,
                                                                            createdAt: Instant(secondsSinceEpoch: 1_790_000_000))) }
        }
        let waited = ContinuousClock.now - started
        guard case .unavailable(let detail) = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("1 connections") && detail.contains("busy for 1 s"), "\(detail)")
        #expect(waited >= .milliseconds(900) && waited < .seconds(20), "waited \(waited)")
        release.withLock { $0 = true }
        try await writer.value
        #expect(try await store.read { try $0.merchant(MerchantID("mer_busy")) } != nil)
        #expect(try await store.read { try $0.merchant(MerchantID("mer_late")) } == nil, "the call given up never ran")
    }
}

/// The database URL an operator gives (`--database`, `HASHCART_DATABASE_URL`): garbage is a clear error.
@Suite struct PostgresDatabaseURLTests {
    @Test(arguments: [
        "", "mysql://u@h/db", "postgres://", "postgres://h/db", "postgres://u@/db", "postgres://u@h", "postgres://u@h/",
        "postgres://u@h:0/db", "postgres://u@h:70000/db", "postgres://u@h/db?sslmode=maybe", "postgres://u@h/db?schema=Bad-Name",
        "postgres://u@h/db?pool=0", "postgres://u@h/db?pool=500", "postgres://u@h/db?colour=blue", "postgres://u@h/a/b",
        "postgres://u@h/db?acquire_timeout=0", "postgres://u@h/db?acquire_timeout=601", "postgres://u@h/db?acquire_timeout=1.5",
        "postgres://u@h/db?acquire_timeout=", "postgres://u@h/db?acquire_timeout=-3",
        "postgres://u@h/db?schema=" + String(repeating: "a", count: 60), "postgres://u@h/" + String(repeating: "x", count: 3_000),
    ])
    func aBadDatabaseURLIsAClearError(url: String) throws {
        let error = #expect(throws: StoreError.self) { try PostgresDatabaseURL(url) }
        guard case .badDatabaseURL = error else {
            Issue.record("expected badDatabaseURL, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("postgres://") == true)
    }

    @Test func aURLParsesWithItsOptions() throws {
        let url = try PostgresDatabaseURL("postgresql://ops%40bank:s%3Acret@db.internal:6432/hashcart?sslmode=require&schema=tenant_a&pool=16&acquire_timeout=5")
        #expect(url.host == "db.internal" && url.port == 6432 && url.username == "ops@bank" && url.password == "s:cret")
        #expect(url.database == "hashcart" && url.schema == "tenant_a" && url.requireTLS && url.poolSize == 16 && url.acquireTimeoutSeconds == 5)
        #expect(try PostgresDatabaseURL("postgres://u@h/db").acquireTimeoutSeconds == 30)
        #expect(!url.description.contains("s:cret") && !url.description.contains("s%3Acret"), "the password never reaches logs")
    }

    /// Needs no server: nothing listens on port 1.
    @Test func anUnreachableServerIsAClearError() async throws {
        let error = await #expect(throws: StoreError.self) {
            try await PostgresStore(url: "postgres://postgres@127.0.0.1:1/hashcart", encryptionKey: AddressCipher.generateEncodedKey())
        }
        guard case .unavailable(let detail) = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("127.0.0.1:1"))
    }
}
