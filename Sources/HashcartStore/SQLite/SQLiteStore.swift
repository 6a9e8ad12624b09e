import Foundation
import GRDB
import HashcartCore
import Synchronization

/// Hashcart's embedded store: one SQLite database in WAL mode with `synchronous=FULL`, so a
/// committed purchase survives power loss. Every engine transaction is one SQLite transaction;
/// the engine batches many events into one to pay one fsync for many purchases.
public final class SQLiteStore: HashcartDatabase, SQLStore {
    public let pool: DatabasePool
    let cipher: AddressCipher
    public let path: String
    /// Decrypted card accounts, shared by transactions: the purchase post and its repost a few
    /// minutes later need the same card. Card accounts are never updated in place.
    let cardCache = CardAccountCache(capacity: 100_000)

    public var location: String { "SQLite at \(path)" }

    /// The database file inside a data folder.
    public static let fileName = "hashcart.sqlite"

    /// Opens (creating if needed) the store in `directory`, migrating it to the current schema.
    ///
    /// - Throws: ``StoreError/missingEncryptionKey`` when `encryptionKey` is nil or empty,
    ///   ``StoreError/wrongEncryptionKey`` when the folder was created with another key.
    public init(directory: String, encryptionKey: String?) throws {
        cipher = try AddressCipher(encodedKey: encryptionKey)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Money is at stake: every commit is durable before it is acknowledged.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB's WAL setup sets synchronous=NORMAL on the writer after prepareDatabase: restore
        // FULL on the (long-lived) writer connection, so every commit is fsynced.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        // The key is checked before anything is migrated: a wrong key changes nothing.
        try verifyEncryptionKeyIfPresent()
        let migrator = Migrations.migrator
        let unknown = try pool.read { db in try migrator.appliedIdentifiers(db) }
            .subtracting(migrator.migrations)
        if let first = unknown.sorted().first { throw StoreError.schemaTooNew(first) }
        try migrator.migrate(pool)
        try checkEncryptionKey()
    }

    static let keyProbe = Data("hashcart key check".utf8)

    private func verifyEncryptionKeyIfPresent() throws {
        let sealed = try pool.read { db -> Data? in
            guard try db.tableExists("meta") else { return nil }
            return try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'key_check'")
        }
        if let sealed, try cipher.open(sealed, context: "meta:key_check") != Self.keyProbe { throw StoreError.wrongEncryptionKey }
    }

    private func checkEncryptionKey() throws {
        let probe = Self.keyProbe
        try pool.write { db in
            if let sealed = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'key_check'") {
                guard try cipher.open(sealed, context: "meta:key_check") == probe else { throw StoreError.wrongEncryptionKey }
            } else {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('key_check', ?)",
                               arguments: [try cipher.seal(probe, context: "meta:key_check")])
            }
            let session = SQLiteSession(db: db)
            for account in LedgerAccounts.issuerAccounts {
                try WorkingSet.insertLedgerAccount(account, session: session)
            }
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { [cipher, cardCache] db in
            let transaction = WorkingSet(session: SQLiteSession(db: db), cipher: cipher, cardCache: cardCache)
            var result: T?
            try db.inTransaction {
                result = try body(transaction)
                try transaction.flush()
                return .commit
            }
            transaction.committed()
            return result!
        }
    }

    func inWriteTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await pool.write { db in try body(SQLiteSession(db: db)) }
    }

    func withWriteSession<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await inWriteTransaction(body)
    }

    func inReadTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await pool.read { db in try body(SQLiteSession(db: db)) }
    }

    func withReadSession<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await inReadTransaction(body)
    }

    public func claimDueOutbound(network: NetworkName, now: Instant, limit: Int, leaseMilliseconds: Int64) async throws -> [OutboundPost] {
        precondition(limit > 0 && limit <= 10_000, "outbox batches are bounded")
        precondition(leaseMilliseconds > 0, "leases run out")
        return try await pool.write { db in
            let session = SQLiteSession(db: db)
            let due = try session.query("""
                SELECT \(StoreColumns.outbound) FROM outbound_posts WHERE state = 'pending' AND next_attempt_at <= $1 AND network = $2
                ORDER BY next_attempt_at, key LIMIT $3
                """, [SQLValue(now), .text(network.rawValue), SQLValue(limit)], StoreRows.outbound)
            try session.updateMany("outbound_posts", columns: SQLColumn.list("key, next_attempt_at:int"),
                                   rows: due.map { [.text($0.key), .int(now.millisecondsSinceEpoch + leaseMilliseconds)] })
            return due
        }
    }

    /// Closes the database; the store must not be used afterwards. GRDB's close waits (blocking)
    /// until no read holds a connection, so it runs on a thread of its own, never on Swift's
    /// cooperative pool, where the reads it waits for finish.
    public func close() async throws {
        let pool = pool
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread { continuation.resume(with: Result { try pool.close() }) }
        }
    }
}

/// A bounded cache of decrypted card accounts (cleared whole when full: simple and bounded).
final class CardAccountCache: Sendable {
    private let entries = Mutex<[CardAccountID: CardAccount]>([:])
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "caches are bounded")
        self.capacity = capacity
    }

    func get(_ id: CardAccountID) -> CardAccount? { entries.withLock { $0[id] } }

    func put(_ account: CardAccount) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[account.id] = account
        }
    }
}
