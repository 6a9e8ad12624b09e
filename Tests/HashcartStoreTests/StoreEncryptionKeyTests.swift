import Foundation
import GRDB
import HashcartCore
import HashcartStore
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

    @Test func theSameKeyOpensWhetherWrittenAsBase64OrHex() throws {
        let fixture = try StoreFixture()
        let bytes = [UInt8](try #require(Data(base64Encoded: fixture.key)))
        #expect(bytes.count == 32)
        try fixture.reopen(key: Self.hex(bytes))
        #expect(try fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } == fixture.cardA)
        try fixture.reopen(key: Self.hex(bytes).uppercased())
        #expect(try fixture.store.read { try $0.cardAccount(StoreFixture.cardB) } == fixture.cardB)
        try fixture.reopen(key: "  " + fixture.key + "\n")
        #expect(try fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } == fixture.cardA)
    }

    @Test func aDifferentKeyIsRefusedAndChangesNothing() throws {
        let fixture = try StoreFixture()
        let before = try fixture.dump()
        let counts = try ["card_accounts", "ledger_transfers", "offers", "meta"].map { try fixture.count($0) }
        try fixture.store.close()
        let filesBefore = try Set(FileManager.default.contentsOfDirectory(atPath: fixture.directory))

        let otherKey = AddressCipher.generateEncodedKey()
        #expect(otherKey != fixture.key)
        #expect(throws: StoreError.wrongEncryptionKey) {
            try SQLiteStore(directory: fixture.directory, encryptionKey: otherKey)
        }
        // Twice: a refused open leaves nothing behind that changes the next one.
        #expect(throws: StoreError.wrongEncryptionKey) {
            try SQLiteStore(directory: fixture.directory, encryptionKey: otherKey)
        }
        #expect(StoreError.wrongEncryptionKey.description.contains("key"))

        // No new files (the SQLite -wal/-shm side files aside). The main file's bytes are not
        // compared: any GRDB pool open writes (its WAL set-up creates and drops a table) and its
        // close checkpoints, so only the logical content can be required to stay the same.
        let filesAfter = try Set(FileManager.default.contentsOfDirectory(atPath: fixture.directory))
        #expect(filesAfter.subtracting(filesBefore).filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.isEmpty)

        fixture.store = try SQLiteStore(directory: fixture.directory, encryptionKey: fixture.key)
        #expect(try fixture.dump() == before)
        #expect(try ["card_accounts", "ledger_transfers", "offers", "meta"].map { try fixture.count($0) } == counts)
        #expect(try fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } == fixture.cardA)
    }

    @Test func aSealedBillingBlobMovedToAnotherCardDoesNotOpen() throws {
        let fixture = try StoreFixture()
        try fixture.store.pool.write { db in
            let a = try #require(try Data.fetchOne(db, sql: "SELECT billing_sealed FROM card_accounts WHERE id = ?", arguments: [StoreFixture.cardA.rawValue]))
            let b = try #require(try Data.fetchOne(db, sql: "SELECT billing_sealed FROM card_accounts WHERE id = ?", arguments: [StoreFixture.cardB.rawValue]))
            try db.execute(sql: "UPDATE card_accounts SET billing_sealed = ? WHERE id = ?", arguments: [b, StoreFixture.cardA.rawValue])
            try db.execute(sql: "UPDATE card_accounts SET billing_sealed = ? WHERE id = ?", arguments: [a, StoreFixture.cardB.rawValue])
        }
        for id in [StoreFixture.cardA, StoreFixture.cardB] {
            #expect(throws: StoreError.self) { try fixture.store.read { try $0.cardAccount(id) } }
            #expect(throws: StoreError.self) { try fixture.store.write { try $0.cardAccount(id) } }
        }

        // A sealed blob copied onto a new row (another id) does not open either.
        try fixture.store.pool.write { db in
            try db.execute(sql: """
                INSERT INTO card_accounts (id, credit_limit, billing_state, billing_sealed, created_at)
                SELECT 'card_copy', credit_limit, billing_state, billing_sealed, created_at FROM card_accounts WHERE id = ?
                """, arguments: [StoreFixture.cardA.rawValue])
        }
        #expect(throws: StoreError.self) { try fixture.store.read { try $0.cardAccount("card_copy") } }
    }

    @Test(arguments: ["flip", "truncate", "empty"])
    func aDamagedBillingBlobIsAnErrorNeverGarbage(damage: String) throws {
        let fixture = try StoreFixture()
        try fixture.store.pool.write { db in
            var blob = [UInt8](try #require(try Data.fetchOne(db, sql: "SELECT billing_sealed FROM card_accounts WHERE id = ?",
                                                              arguments: [StoreFixture.cardA.rawValue])))
            switch damage {
            case "flip": blob[blob.count / 2] ^= 0x01
            case "truncate": blob.removeLast(5)
            default: blob = []
            }
            try db.execute(sql: "UPDATE card_accounts SET billing_sealed = ? WHERE id = ?", arguments: [Data(blob), StoreFixture.cardA.rawValue])
        }
        #expect(throws: StoreError.self) { try fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } }
        #expect(try fixture.store.read { try $0.cardAccount(StoreFixture.cardB) } == fixture.cardB)
    }

    @Test func aFolderWithAnUnknownMigrationIsTooNew() throws {
        let fixture = try StoreFixture()
        try fixture.store.close()
        let queue = try DatabaseQueue(path: fixture.databasePath)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        try queue.close()
        #expect(throws: StoreError.schemaTooNew("v99-from-the-future")) {
            try SQLiteStore(directory: fixture.directory, encryptionKey: fixture.key)
        }
        #expect(StoreError.schemaTooNew("v99-from-the-future").description.contains("newer Hashcart"))
        // The folder was not migrated or rewritten: the unknown id is still there, the data intact.
        let queue2 = try DatabaseQueue(path: fixture.databasePath)
        let ids = try queue2.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
        let cards = try queue2.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM card_accounts") }
        try queue2.close()
        #expect(ids == ["v1-core", "v2-credentials", "v3-idempotency", "v4-webhooks", "v5-funnel-minutes", "v99-from-the-future"])
        #expect(cards == 2)
    }
}
