import Foundation
import GRDB
import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

@Suite struct StoreEncryptionKeyTests {
    static func freshDirectory() -> String {
        NSTemporaryDirectory() + "hashcart-store-key-" + UUID().uuidString
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    @Test(arguments: [nil, "", "   ", "\n\t "] as [String?])
    func aMissingKeyIsAClearErrorAndCreatesNothing(key: String?) throws {
        let directory = Self.freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: StoreError.missingEncryptionKey) {
            try SQLiteStore(directory: directory, encryptionKey: key)
        }
        #expect(StoreError.missingEncryptionKey.description.contains("HASHCART_ENCRYPTION_KEY"))
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test(arguments: [
        "abc",  // too short
        "notakey",
        "not base64 at all!!",
        Data(repeating: 7, count: 31).base64EncodedString(),
        Data(repeating: 7, count: 33).base64EncodedString(),
        Data(repeating: 7, count: 16).base64EncodedString(),
        StoreEncryptionKeyTests.hex([UInt8](repeating: 0xAB, count: 31)),
        StoreEncryptionKeyTests.hex([UInt8](repeating: 0xAB, count: 33)),
        String(repeating: "g", count: 64),  // 64 characters, not hex
        String(repeating: "A", count: 10_000),  // absurdly long
    ])
    func aMalformedKeyIsRefused(key: String) throws {
        let directory = Self.freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = #expect(throws: StoreError.self) {
            try SQLiteStore(directory: directory, encryptionKey: key)
        }
        guard case .malformedEncryptionKey = error else {
            Issue.record("expected malformedEncryptionKey, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("32 bytes") == true)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    /// On PostgreSQL the key is checked before the server is even contacted: no schema appears.
    @Test(.enabled(if: TestBackend.postgresURL != nil, Comment(rawValue: TestBackend.skipNotice)), arguments: [nil, "", "notakey"] as [String?])
    func aMissingOrMalformedKeyCreatesNoPostgresSchema(key: String?) async throws {
        let database = try TestDatabase(.postgres)
        await #expect(throws: StoreError.self) { try await database.open(key: key) }
        let schemas = try database.query("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1",
                                         [database.schema])
        #expect(schemas == [["0"]])
    }
}

/// The key's guarantees that hold on both stores.
@Suite(.onEveryBackend) struct StoreEncryptionKeyConformanceTests {
    static func hex(_ bytes: [UInt8]) -> String { StoreEncryptionKeyTests.hex(bytes) }

    @Test func theSameKeyOpensWhetherWrittenAsBase64OrHex() async throws {
        let fixture = try await StoreFixture()
        let bytes = [UInt8](try #require(Data(base64Encoded: fixture.key)))
        #expect(bytes.count == 32)
        try await fixture.reopen(key: Self.hex(bytes))
        #expect(try await fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } == fixture.cardA)
        try await fixture.reopen(key: Self.hex(bytes).uppercased())
        #expect(try await fixture.store.read { try $0.cardAccount(StoreFixture.cardB) } == fixture.cardB)
        try await fixture.reopen(key: "  " + fixture.key + "\n")
        #expect(try await fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } == fixture.cardA)
    }

    @Test func aDifferentKeyIsRefusedAndChangesNothing() async throws {
        let fixture = try await StoreFixture()
        let before = try fixture.dump()
        var counts: [Int64] = []
        for table in ["card_accounts", "ledger_transfers", "offers", "meta"] { counts.append(try await fixture.count(table)) }
        try await fixture.store.close()
        let filesBefore = try Set(FileManager.default.contentsOfDirectory(atPath: fixture.directory))

        let otherKey = AddressCipher.generateEncodedKey()
        #expect(otherKey != fixture.key)
        await #expect(throws: StoreError.wrongEncryptionKey) {
            try await fixture.database.open(key: otherKey)
        }
        // Twice: a refused open leaves nothing behind that changes the next one.
        await #expect(throws: StoreError.wrongEncryptionKey) {
            try await fixture.database.open(key: otherKey)
        }
        #expect(StoreError.wrongEncryptionKey.description.contains("key"))

        // No new files (the SQLite -wal/-shm side files aside). The main file's bytes are not
        // compared: any GRDB pool open writes (its WAL set-up creates and drops a table) and its
        // close checkpoints, so only the logical content can be required to stay the same.
        let filesAfter = try Set(FileManager.default.contentsOfDirectory(atPath: fixture.directory))
        #expect(filesAfter.subtracting(filesBefore).filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.isEmpty)

        fixture.store = try await fixture.database.open(key: fixture.key)
        #expect(try fixture.dump() == before)
        var countsAfter: [Int64] = []
        for table in ["card_accounts", "ledger_transfers", "offers", "meta"] { countsAfter.append(try await fixture.count(table)) }
        #expect(countsAfter == counts)
        #expect(try await fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } == fixture.cardA)
    }

    @Test func aSealedBillingBlobMovedToAnotherCardDoesNotOpen() async throws {
        let fixture = try await StoreFixture()
        let a = StoreFixture.cardA.rawValue, b = StoreFixture.cardB.rawValue
        // Swap the two sealed blobs (through a third row, so it works row by row too).
        try fixture.database.execute("""
            INSERT INTO card_accounts (id, credit_limit, billing_state, billing_sealed, created_at)
            SELECT 'card_swap', credit_limit, billing_state, billing_sealed, created_at FROM card_accounts WHERE id = $1
            """, [a])
        try fixture.database.execute("UPDATE card_accounts SET billing_sealed = (SELECT billing_sealed FROM card_accounts WHERE id = $1) WHERE id = $2", [b, a])
        try fixture.database.execute("UPDATE card_accounts SET billing_sealed = (SELECT billing_sealed FROM card_accounts WHERE id = 'card_swap') WHERE id = $1", [b])
        try fixture.database.execute("DELETE FROM card_accounts WHERE id = 'card_swap'")
        for id in [StoreFixture.cardA, StoreFixture.cardB] {
            await #expect(throws: StoreError.self) { try await fixture.store.read { try $0.cardAccount(id) } }
            await #expect(throws: StoreError.self) { try await fixture.store.write { try $0.cardAccount(id) } }
        }

        // A sealed blob copied onto a new row (another id) does not open either.
        try fixture.database.execute("""
            INSERT INTO card_accounts (id, credit_limit, billing_state, billing_sealed, created_at)
            SELECT 'card_copy', credit_limit, billing_state, billing_sealed, created_at FROM card_accounts WHERE id = $1
            """, [a])
        await #expect(throws: StoreError.self) { try await fixture.store.read { try $0.cardAccount("card_copy") } }
    }

    @Test(arguments: ["flip", "truncate", "empty"])
    func aDamagedBillingBlobIsAnErrorNeverGarbage(damage: String) async throws {
        let fixture = try await StoreFixture()
        let sqlite = fixture.database.backend == .sqlite
        let change = switch damage {
        case "flip":
            // Byte 21 changed to another value (setting it to 0 changed nothing once in 256 runs).
            sqlite ? "substr(billing_sealed, 1, 20) || (CASE WHEN substr(billing_sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END) || substr(billing_sealed, 22)"
                : "overlay(billing_sealed placing (CASE WHEN get_byte(billing_sealed, 20) = 0 THEN '\\x01'::bytea ELSE '\\x00'::bytea END) from 21 for 1)"
        case "truncate":
            sqlite ? "substr(billing_sealed, 1, length(billing_sealed) - 5)"
                : "substring(billing_sealed from 1 for length(billing_sealed) - 5)"
        default:
            sqlite ? "X''" : "''::bytea"
        }
        try fixture.database.execute("UPDATE card_accounts SET billing_sealed = \(change) WHERE id = $1", [StoreFixture.cardA.rawValue])
        await #expect(throws: StoreError.self) { try await fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } }
        #expect(try await fixture.store.read { try $0.cardAccount(StoreFixture.cardB) } == fixture.cardB)
    }

    @Test func aStoreWithAnUnknownMigrationIsTooNew() async throws {
        let fixture = try await StoreFixture()
        try await fixture.store.close()
        let (insert, list) = switch fixture.database.backend {
        case .sqlite:
            ("INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')",
             "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        case .postgres:
            ("INSERT INTO hashcart_migrations (id, applied_at) VALUES ('v99-from-the-future', 0)",
             "SELECT id FROM hashcart_migrations ORDER BY id")
        }
        try fixture.database.execute(insert)
        await #expect(throws: StoreError.schemaTooNew("v99-from-the-future")) {
            try await fixture.database.open(key: fixture.key)
        }
        #expect(StoreError.schemaTooNew("v99-from-the-future").description.contains("newer Hashcart"))
        // The store was not migrated or rewritten: the unknown id is still there, the data intact.
        #expect(try fixture.database.query(list).map { $0[0] ?? "" }
                == ["v1-core", "v10-issuer-switches", "v11-purchase-units", "v12-waitlists", "v13-announcements", "v14-offer-risk", "v15-oauth-links", "v16-webhook-endpoint-care", "v17-dashboard-users", "v18-order-pages", "v19-audit-log", "v2-credentials", "v20-closing", "v21-oauth-browser-binding", "v3-idempotency", "v4-webhooks", "v5-funnel-minutes", "v6-webhook-endpoint-order", "v7-shared-indexes", "v8-card-linked-offers",
                   "v9-settlement", "v99-from-the-future"])
        #expect(try fixture.database.query("SELECT COUNT(*) FROM card_accounts") == [["2"]])
    }
}
