import Foundation
import HashcartCore
import Logging
import NIOPosix
import Synchronization

/// Hashcart on PostgreSQL: the same store as ``SQLiteStore``, for several Hashcart instances
/// behind a load balancer on one database.
///
/// ## Concurrency
/// Every engine write transaction runs at READ COMMITTED and first takes one transaction-scoped
/// advisory lock, the store's *writer lock* (`pg_advisory_xact_lock`, keyed by schema). Write
/// transactions therefore run one at a time across all instances, exactly as SQLite's single
/// writer does in one process; each reads what the previous one committed. That is what keeps
/// stock from being oversold on a hot offer, fires each expiry timer once and processes each
/// network event once (its key is inserted under the lock). It costs little: every purchase
/// touches the same hot rows anyway (the offer's stock, the merchant's payable, the issuer's
/// revenue and tax accounts), so row locks would serialize them just the same, and the engine
/// batches many events into one transaction.
///
/// No deadlock can happen: a write transaction takes the writer lock before any row lock, so two
/// of them never hold row locks at once. Work outside the writer lock touches rows the engine's
/// transactions do not wait on: claims of outbox posts and webhook deliveries use
/// `FOR UPDATE SKIP LOCKED` (they skip a locked row instead of waiting for it), credentials and
/// idempotency keys are single-row statements. Reads run at REPEATABLE READ, READ ONLY: a
/// consistent snapshot that takes no lock.
///
/// ## Threads
/// Callers suspend; the work runs on the store's own threads, one per pooled connection
/// (``PostgresDatabaseURL/poolSize``), as GRDB runs SQLite's on its writer and reader queues. The
/// unit of work's body and its statements are synchronous over a connection: a connection thread
/// waits for each answer (never a thread of Swift's cooperative pool, nor a SwiftNIO event loop).
public final class PostgresStore: HashcartDatabase, SQLStore {
    public let url: PostgresDatabaseURL
    let pool: PostgresConnectionPool
    /// Where transactions run: one thread per connection of `pool`, so a caller waiting for a
    /// connection waits in this pool's queue, suspended, not on a thread of its own.
    let threads: NIOThreadPool
    let cipher: AddressCipher
    /// Card accounts are never updated in place, so decrypted ones are shared across
    /// transactions (and are right whichever instance wrote them).
    let cardCache = CardAccountCache(capacity: 100_000)
    /// The writer lock's key (one per schema, so separate Hashcarts on one server do not wait on each other).
    let writerLockKey: Int64
    let migrationLockKey: Int64

    public var location: String { "PostgreSQL at \(url)" }

    /// Connects to the database at `url` and migrates its schema to the current version (under a
    /// lock, so instances starting together migrate once).
    ///
    /// - Throws: ``StoreError/missingEncryptionKey`` or ``StoreError/wrongEncryptionKey`` as
    ///   ``SQLiteStore`` does; ``StoreError/unavailable(_:)`` when the server cannot be reached;
    ///   ``StoreError/schemaTooNew(_:)`` when a newer Hashcart migrated it.
    public init(url: PostgresDatabaseURL, encryptionKey: String?, logger: Logger = Logger(label: "hashcart.postgres")) async throws {
        cipher = try AddressCipher(encodedKey: encryptionKey)
        self.url = url
        pool = try PostgresConnectionPool(url: url, logger: logger)
        threads = NIOThreadPool(numberOfThreads: url.poolSize)
        threads.start()
        writerLockKey = Self.lockKey("hashcart.writer:" + url.schema)
        migrationLockKey = Self.lockKey("hashcart.migrations:" + url.schema)
        do {
            try await onConnectionThread { [self] in try migrate() }
        } catch {
            pool.close()
            try? await threads.shutdownGracefully()
            throw error
        }
    }

    public convenience init(url: String, encryptionKey: String?, logger: Logger = Logger(label: "hashcart.postgres")) async throws {
        try await self.init(url: PostgresDatabaseURL(url), encryptionKey: encryptionKey, logger: logger)
    }

    static func lockKey(_ name: String) -> Int64 {
        var hasher = FNV1a()
        hasher.combine(name)
        return Int64(bitPattern: hasher.value)
    }

    static let keyProbe = Data("hashcart key check".utf8)

    private func migrate() throws {
        try pool.withConnection { session in
            try session.execute("SELECT pg_advisory_lock($1)", [migrationLockKey])
            defer { _ = try? session.execute("SELECT pg_advisory_unlock($1)", [migrationLockKey]) }
            try session.execute("CREATE SCHEMA IF NOT EXISTS \(url.schema)")
            try session.execute("CREATE TABLE IF NOT EXISTS hashcart_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            let applied = Set(try session.query("SELECT id FROM hashcart_migrations").map {
                try PostgresRowReader(row: $0, table: "hashcart_migrations").text(0)
            })
            let known = PostgresSchema.migrations.map(\.id)
            if let unknown = applied.subtracting(known).sorted().first { throw StoreError.schemaTooNew(unknown) }
            // The key is checked before anything is migrated: a wrong key changes nothing.
            if applied.contains("v1-core") { try verifyKey(session) }
            for migration in PostgresSchema.migrations where !applied.contains(migration.id) {
                try Self.inTransaction(session) {
                    for statement in Self.statements(in: migration.sql) { try session.execute(statement) }
                    try session.execute("INSERT INTO hashcart_migrations (id, applied_at) VALUES ($1, $2)",
                                        [migration.id, Int64(Date().timeIntervalSince1970 * 1000)])
                }
            }
            try Self.inTransaction(session) {
                if try !verifyKey(session) {
                    try session.execute("INSERT INTO meta (key, value) VALUES ('key_check', $1)",
                                        [try cipher.seal(Self.keyProbe, context: "meta:key_check")])
                }
                for account in LedgerAccounts.issuerAccounts {
                    try WorkingSet.insertLedgerAccount(account, session: PostgresSQLSession(session))
                }
            }
        }
    }

    /// Whether the key check is present; throws if it does not open with this store's key.
    @discardableResult
    private func verifyKey(_ session: PostgresSession) throws -> Bool {
        guard let raw = try session.query("SELECT value FROM meta WHERE key = 'key_check'").first else { return false }
        let sealed = try PostgresRowReader(row: raw, table: "meta").data(0)
        guard (try? cipher.open(sealed, context: "meta:key_check")) == Self.keyProbe else { throw StoreError.wrongEncryptionKey }
        return true
    }

    /// A migration's statements (each ends with `;` at the end of a line).
    static func statements(in sql: String) -> [String] {
        sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
            .filter { statement in !statement.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") } }
    }

    /// Runs `body` between BEGIN and COMMIT, rolling back if it throws.
    static func inTransaction<T>(_ session: PostgresSession, isolation: String = "READ COMMITTED", _ body: () throws -> T) throws -> T {
        try session.execute("BEGIN ISOLATION LEVEL \(isolation)")
        do {
            let result = try body()
            try session.execute("COMMIT")
            return result
        } catch {
            _ = try? session.execute("ROLLBACK")
            throw error
        }
    }

    // MARK: Engine store

    /// Runs `body` on one of the store's connection threads; the caller suspends until it returns.
    ///
    /// A call that finds every connection busy waits its turn, at most
    /// ``PostgresDatabaseURL/acquireTimeoutSeconds``: then it fails as
    /// ``StoreError/unavailable(_:)`` without running (a busy database is an answer a caller can
    /// act on; an unbounded queue is not). Once `body` has started it always runs to its end, so
    /// a caller is never told "unavailable" about a transaction that committed.
    func onConnectionThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let turn = ConnectionTurn()
        let (threads, url) = (threads, url)
        let busy = StoreError.unavailable("all \(url.poolSize) connections to \(url) stayed busy for \(url.acquireTimeoutSeconds) s")
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let answer = AnswerOnce(continuation)
            // Unstructured: a call given up must not wait for its queued job to be dequeued.
            let timeout = Task {
                try? await Task.sleep(for: .seconds(url.acquireTimeoutSeconds))
                if !Task.isCancelled, turn.abandon() { answer.resume(with: .failure(busy)) }
            }
            Task {
                let result = await Result(catching: {
                    try await threads.runIfActive {
                        guard turn.start() else { throw busy }
                        return try body()
                    }
                })
                timeout.cancel()
                answer.resume(with: result)
            }
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await onConnectionThread { [pool, cipher, cardCache, writerLockKey] in
            try pool.withConnection { session in
                let transaction = WorkingSet(session: PostgresSQLSession(session), cipher: cipher, cardCache: cardCache)
                let result = try Self.inTransaction(session) {
                    try session.execute("SELECT pg_advisory_xact_lock($1)", [writerLockKey])
                    let result = try body(transaction)
                    try transaction.flush()
                    return result
                }
                transaction.committed()
                return result
            }
        }
    }

    func inWriteTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await onConnectionThread { [pool, url] in
            try pool.withConnection { session in
                try Self.inTransaction(session) { try body(PostgresSQLSession(session, lockScope: url.schema)) }
            }
        }
    }

    func withWriteSession<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await onConnectionThread { [pool, url] in
            try pool.withConnection { session in try body(PostgresSQLSession(session, lockScope: url.schema)) }
        }
    }

    func inReadTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await onConnectionThread { [pool, url] in
            try pool.withConnection { session in
                try Self.inTransaction(session, isolation: "REPEATABLE READ READ ONLY") {
                    try body(PostgresSQLSession(session, lockScope: url.schema))
                }
            }
        }
    }

    func withReadSession<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await withWriteSession(body)
    }

    public func claimDueOutbound(network: NetworkName, now: Instant, limit: Int, leaseMilliseconds: Int64) async throws -> [OutboundPost] {
        precondition(limit > 0 && limit <= 10_000, "outbox batches are bounded")
        precondition(leaseMilliseconds > 0, "leases run out")
        return try await onConnectionThread { [pool] in
            try pool.withConnection { session in
                try session.query("""
                    UPDATE outbound_posts SET next_attempt_at = $2
                    WHERE key IN (SELECT key FROM outbound_posts WHERE state = 'pending' AND next_attempt_at <= $1 AND network = $4
                                  ORDER BY next_attempt_at, key LIMIT $3 FOR UPDATE SKIP LOCKED)
                    RETURNING \(StoreColumns.outbound)
                    """, [now.millisecondsSinceEpoch, now.millisecondsSinceEpoch + leaseMilliseconds, limit, network.rawValue])
                    .map { try StoreRows.outbound(PostgresRowReader(row: $0, table: "outbound_posts")) }
                    .sorted { ($0.createdAt, $0.key) < ($1.createdAt, $1.key) }
            }
        }
    }

    public func claimDueWebhookDeliveries(now: Instant, limit: Int, leaseMilliseconds: Int64) async throws -> [WebhookDelivery] {
        precondition(limit > 0 && limit <= 1_000, "delivery batches are bounded")
        precondition(leaseMilliseconds > 0, "leases run out")
        return try await onConnectionThread { [pool, cipher] in
            let rows = try pool.withConnection { session in
                try session.query("""
                    WITH claimed AS (
                        UPDATE webhook_deliveries SET next_attempt_at = $2
                        WHERE (event_id, endpoint_id) IN (
                            SELECT event_id, endpoint_id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
                            ORDER BY next_attempt_at, event_id LIMIT $3 FOR UPDATE SKIP LOCKED)
                        RETURNING event_id, endpoint_id, attempts)
                    SELECT e.id, e.merchant_id, e.type, e.object_id, e.created_at, w.id, w.url, w.secret_sealed, w.created_at, c.attempts, w.previous_secret_sealed, w.previous_secret_expires_at
                    FROM claimed c JOIN merchant_events e ON e.id = c.event_id JOIN webhook_endpoints w ON w.id = c.endpoint_id
                    ORDER BY e.seq, w.id
                    """, [now.millisecondsSinceEpoch, now.millisecondsSinceEpoch + leaseMilliseconds, limit])
            }
            return try rows.map { try StoreRows.webhookDelivery(PostgresRowReader(row: $0, table: "webhook_deliveries"), cipher: cipher) }
        }
    }

    /// Closes the idle connections (on a connection thread: closing one waits for the server's
    /// goodbye) and stops the connection threads once their work is done. A second close does nothing.
    public func close() async throws {
        let pool = pool
        _ = try? await threads.runIfActive { pool.close() }
        try? await threads.shutdownGracefully()
    }

    /// A server setting (`synchronous_commit`, `server_version`, …), for reports.
    public func serverSetting(_ name: String) async throws -> String {
        precondition(PostgresDatabaseURL.isIdentifier(name), "setting names are identifiers")
        return try await onConnectionThread { [pool] in
            try pool.withConnection { session in
                try PostgresRowReader(row: try session.query("SHOW \(name)")[0], table: "settings").text(0)
            }
        }
    }

    /// Drops this store's schema and everything in it, then closes the store: for benchmarks and
    /// other throwaway stores. Refused on the `public` schema, which may hold other data.
    public func dropSchema() async throws {
        guard url.schema != "public" else { throw StoreError.conflict("refusing to drop the public schema") }
        _ = try await onConnectionThread { [pool, url] in
            try pool.withConnection { session in try session.execute("DROP SCHEMA \(url.schema) CASCADE") }
        }
        try await close()
    }
}

/// Whether a call waiting for a connection thread started (then it runs to its end) or was given
/// up by its timeout first (then it never runs): decided once, by whichever comes first.
final class ConnectionTurn: Sendable {
    private let state = Atomic<Int>(0)  // 0 waiting, 1 started, 2 abandoned

    /// Called by the connection thread: `false` if the caller already gave up.
    func start() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }

    /// Called when the wait runs out: `false` if the work already started.
    func abandon() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }
}

/// A continuation resumed by whichever answer comes first; later ones are dropped.
final class AnswerOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { pending in
            pending?.resume(with: result)
            pending = nil
        }
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing call.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
