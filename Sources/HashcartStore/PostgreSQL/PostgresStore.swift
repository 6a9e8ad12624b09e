import Foundation
import HashcartCore
import Logging
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
public final class PostgresStore: HashcartDatabase {
    public let url: PostgresDatabaseURL
    let pool: PostgresConnectionPool
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
    public init(url: PostgresDatabaseURL, encryptionKey: String?, logger: Logger = Logger(label: "hashcart.postgres")) throws {
        cipher = try AddressCipher(encodedKey: encryptionKey)
        self.url = url
        pool = try PostgresConnectionPool(url: url, logger: logger)
        writerLockKey = Self.lockKey("hashcart.writer:" + url.schema)
        migrationLockKey = Self.lockKey("hashcart.migrations:" + url.schema)
        try migrate()
    }

    public convenience init(url: String, encryptionKey: String?, logger: Logger = Logger(label: "hashcart.postgres")) throws {
        try self.init(url: PostgresDatabaseURL(url), encryptionKey: encryptionKey, logger: logger)
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

    public func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
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

    public func read<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try pool.withConnection { session in
            try Self.inTransaction(session, isolation: "REPEATABLE READ READ ONLY") {
                try body(SQLStoreReader(session: PostgresSQLSession(session), cipher: cipher))
            }
        }
    }

    public func claimDueOutbound(network: NetworkName, now: Instant, limit: Int, leaseMilliseconds: Int64) throws -> [OutboundPost] {
        precondition(limit > 0 && limit <= 10_000, "outbox batches are bounded")
        precondition(leaseMilliseconds > 0, "leases run out")
        return try pool.withConnection { session in
            try session.query("""
                UPDATE outbound_posts SET next_attempt_at = $2
                WHERE key IN (SELECT key FROM outbound_posts WHERE state = 'pending' AND next_attempt_at <= $1 AND network = $4
                              ORDER BY next_attempt_at, key LIMIT $3 FOR UPDATE SKIP LOCKED)
                RETURNING \(StoreColumns.outbound)
                """, [now.millisecondsSinceEpoch, now.millisecondsSinceEpoch + leaseMilliseconds, limit, network.rawValue])
                .map { try StoreRows.outbound(PostgresRowReader(row: $0, table: "outbound_posts")) }.sorted { ($0.createdAt, $0.key) < ($1.createdAt, $1.key) }
        }
    }

    public func connectorInterest(network: NetworkName, now: Instant) throws -> ConnectorInterest {
        try pool.withConnection { session in
            let tags = try session.query(StoreColumns.interestHashtagsSQL, [now.millisecondsSinceEpoch, ConnectorInterest.maximumHashtags])
                .map { try PostgresRowReader(row: $0, table: "offers").text(0) }
            let authors = try session.query(StoreColumns.interestAuthorsSQL, [network.rawValue, ConnectorInterest.maximumWatchedAuthors])
                .map { try PostgresRowReader(row: $0, table: "purchases").text(0) }
            return ConnectorInterest(hashtagKeys: Set(tags), watchedAuthorIDs: Set(authors))
        }
    }

    // MARK: Credentials

    public func saveCredential(id: String, kind: CredentialKind, ownerID: String, secretHash: [UInt8], at: Instant) throws {
        try pool.withConnection { session in
            try session.execute("INSERT INTO credentials (id, kind, owner_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                                [id, kind.rawValue, ownerID, Data(secretHash), at.millisecondsSinceEpoch])
        }
    }

    public func revokeCredential(id: String, kind: CredentialKind, ownerID: String, at: Instant) throws -> Bool {
        try pool.withConnection { session in
            try session.execute("UPDATE credentials SET revoked_at = $1 WHERE id = $2 AND kind = $3 AND owner_id = $4 AND revoked_at IS NULL",
                                [at.millisecondsSinceEpoch, id, kind.rawValue, ownerID]) == 1
        }
    }

    public func credentialOwner(kind: CredentialKind, secretHash: [UInt8]) throws -> String? {
        try pool.withConnection { session in
            try session.query("SELECT owner_id FROM credentials WHERE secret_hash = $1 AND kind = $2 AND revoked_at IS NULL",
                              [Data(secretHash), kind.rawValue]).first.map { try PostgresRowReader(row: $0, table: "credentials").text(0) }
        }
    }

    // MARK: Idempotency keys

    public func claimIdempotency(scope: [UInt8], key: String, requestHash: [UInt8], now: Instant) throws -> IdempotencyKeyClaim {
        try pool.withConnection { session in
            try Self.inTransaction(session) {
                try session.execute("DELETE FROM idempotency_keys WHERE created_at < $1",
                                    [now.millisecondsSinceEpoch - StoreLimits.idempotencyRetentionMilliseconds])
                let inserted = try session.execute("""
                    INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
                    """, [Data(scope), key, Data(requestHash), now.millisecondsSinceEpoch])
                if inserted == 1 { return .claimed }
                guard let raw = try session.query("""
                    SELECT request_hash, status, response, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2 FOR UPDATE
                    """, [Data(scope), key]).first
                else { return .inFlight }
                let row = PostgresRowReader(row: raw, table: "idempotency_keys")
                guard try row.data(0) == Data(requestHash) else { return .mismatch }
                if let status = try row.optionalInt(1) {
                    return try IdempotencyKeyClaim.replay(status: Int(status), sealed: try row.optionalData(2) ?? Data(), scope: scope, key: key,
                                                          cipher: cipher)
                }
                guard now.millisecondsSinceEpoch - (try row.int(3)) > StoreLimits.idempotencyAbandonMilliseconds else { return .inFlight }
                try session.execute("UPDATE idempotency_keys SET created_at = $1 WHERE scope = $2 AND key = $3",
                                    [now.millisecondsSinceEpoch, Data(scope), key])
                return .claimed
            }
        }
    }

    public func finishIdempotency(scope: [UInt8], key: String, status: Int?, body: Data) throws {
        try pool.withConnection { session in
            if let status {
                let sealed = try cipher.seal(body, context: AddressCipher.idempotencyContext(scope: scope, key: key))
                try session.execute("UPDATE idempotency_keys SET status = $1, response = $2 WHERE scope = $3 AND key = $4",
                                    [Int64(status), sealed, Data(scope), key])
            } else {
                try session.execute("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2", [Data(scope), key])
            }
        }
    }

    // MARK: Webhooks

    public func createWebhookEndpoint(id: String, merchantID: MerchantID, url: String, secret: String, at: Instant) throws -> WebhookEndpoint {
        let sealed = try cipher.seal(Data(secret.utf8), context: "webhook:" + id)
        return try pool.withConnection { session in
            try Self.inTransaction(session) {
                // Serializes endpoint creation per merchant, so the limit holds under concurrency.
                try session.execute("SELECT 1 FROM merchants WHERE id = $1 FOR UPDATE", [merchantID.rawValue])
                let count = try session.query("SELECT COUNT(*) FROM webhook_endpoints WHERE merchant_id = $1 AND disabled_at IS NULL",
                                              [merchantID.rawValue]).first.map { try PostgresRowReader(row: $0, table: "webhook_endpoints").int(0) } ?? 0
                guard count < StoreLimits.maximumEndpointsPerMerchant else {
                    throw StoreError.conflict("a merchant has at most \(StoreLimits.maximumEndpointsPerMerchant) webhook endpoints")
                }
                try session.execute("""
                    INSERT INTO webhook_endpoints (id, merchant_id, url, secret_sealed, created_at, after_event_seq)
                    VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(MAX(seq), 0) FROM merchant_events))
                    """, [id, merchantID.rawValue, url, sealed, at.millisecondsSinceEpoch])
                return WebhookEndpoint(id: id, merchantID: merchantID, url: url, createdAt: at)
            }
        }
    }

    /// Events are scheduled in commit order: `merchant_events.seq` is drawn under the writer lock,
    /// so no event can later commit with a `seq` below one already scheduled.
    @discardableResult
    public func scheduleWebhookDeliveries(now: Instant, limit: Int) throws -> Int {
        precondition(limit > 0 && limit <= 10_000, "scheduling batches are bounded")
        return try pool.withConnection { session in
            try Self.inTransaction(session) {
                // One scheduler at a time per schema (others skip the round instead of waiting).
                let lock = try session.query("SELECT pg_try_advisory_xact_lock($1)", [Self.lockKey("hashcart.webhooks:" + url.schema)])
                guard try PostgresRowReader(row: lock[0], table: "locks").bool(0) else { return 0 }
                let cursor = try session.query("SELECT value FROM meta WHERE key = 'webhook_cursor'").first
                    .map { Int64(String(decoding: try PostgresRowReader(row: $0, table: "meta").data(0), as: UTF8.self)) ?? 0 } ?? 0
                let last = try session.query("SELECT MAX(seq) FROM (SELECT seq FROM merchant_events WHERE seq > $1 ORDER BY seq LIMIT $2) s",
                                             [cursor, limit]).first.flatMap { try PostgresRowReader(row: $0, table: "merchant_events").optionalInt(0) }
                guard let last else { return 0 }
                let created = try session.execute("""
                    INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, created_at)
                    SELECT e.id, w.id, 'pending', 0, $1, $1 FROM merchant_events e
                    JOIN webhook_endpoints w ON w.merchant_id = e.merchant_id AND w.disabled_at IS NULL AND w.after_event_seq < e.seq
                    WHERE e.seq > $2 AND e.seq <= $3
                    ON CONFLICT DO NOTHING
                    """, [now.millisecondsSinceEpoch, cursor, last])
                try session.execute("INSERT INTO meta (key, value) VALUES ('webhook_cursor', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                    [Data(String(last).utf8)])
                return created
            }
        }
    }

    public func claimDueWebhookDeliveries(now: Instant, limit: Int, leaseMilliseconds: Int64) throws -> [WebhookDelivery] {
        precondition(limit > 0 && limit <= 1_000, "delivery batches are bounded")
        precondition(leaseMilliseconds > 0, "leases run out")
        let rows = try pool.withConnection { session in
            try session.query("""
                WITH claimed AS (
                    UPDATE webhook_deliveries SET next_attempt_at = $2
                    WHERE (event_id, endpoint_id) IN (
                        SELECT event_id, endpoint_id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
                        ORDER BY next_attempt_at, event_id LIMIT $3 FOR UPDATE SKIP LOCKED)
                    RETURNING event_id, endpoint_id, attempts)
                SELECT e.id, e.merchant_id, e.type, e.object_id, e.created_at, w.id, w.url, w.secret_sealed, w.created_at, c.attempts
                FROM claimed c JOIN merchant_events e ON e.id = c.event_id JOIN webhook_endpoints w ON w.id = c.endpoint_id
                ORDER BY e.seq, w.id
                """, [now.millisecondsSinceEpoch, now.millisecondsSinceEpoch + leaseMilliseconds, limit])
        }
        return try rows.map { raw in
            let row = PostgresRowReader(row: raw, table: "webhook_deliveries")
            let eventID = try row.text(0)
            guard let type = MerchantEventType(rawValue: try row.text(2)) else {
                throw StoreError.corruptRecord(table: "merchant_events", id: eventID, detail: "type")
            }
            var event = MerchantEvent(merchantID: MerchantID(try row.text(1)), type: type, objectID: try row.text(3), createdAt: try row.instant(4))
            event.id = eventID
            let endpointID = try row.text(5)
            let secret = String(decoding: try cipher.open(try row.data(7), context: "webhook:" + endpointID), as: UTF8.self)
            return WebhookDelivery(event: event, endpoint: WebhookEndpoint(id: endpointID, merchantID: event.merchantID, url: try row.text(6),
                                                                           createdAt: try row.instant(8)),
                                   secret: secret, attempts: try row.int(9))
        }
    }

    public func recordWebhookAttempt(eventID: String, endpointID: String, delivered: Bool, status: Int?, error: String?,
                                     nextAttemptAt: Instant?, now: Instant) throws {
        let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
        try pool.withConnection { session in
            try session.execute("""
                UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, next_attempt_at = $2, last_status = $3, last_error = $4,
                    delivered_at = $5 WHERE event_id = $6 AND endpoint_id = $7 AND state = 'pending'
                """, [state, (nextAttemptAt ?? now).millisecondsSinceEpoch, status.map(Int64.init), error.map { String($0.prefix(500)) },
                      delivered ? now.millisecondsSinceEpoch : nil, eventID, endpointID])
        }
    }

    public func redeliverWebhook(eventID: String, merchantID: MerchantID, now: Instant) throws -> Bool {
        try pool.withConnection { session in
            guard !(try session.query("SELECT 1 FROM merchant_events WHERE id = $1 AND merchant_id = $2", [eventID, merchantID.rawValue]).isEmpty)
            else { return false }
            try session.execute("UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1 WHERE event_id = $2",
                                [now.millisecondsSinceEpoch, eventID])
            return true
        }
    }

    public func merchantEvents(merchantID: MerchantID, limit: Int, startingAfter: String?) throws -> [MerchantEventStatus] {
        var sql = """
            SELECT e.id, e.type, e.object_id, e.created_at,
                CASE WHEN COUNT(d.event_id) = 0 THEN 'none' WHEN COUNT(*) FILTER (WHERE d.state = 'failed') > 0 THEN 'failed'
                     WHEN COUNT(*) FILTER (WHERE d.state = 'pending') > 0 THEN 'pending' ELSE 'delivered' END,
                COALESCE(MAX(d.attempts), 0)
            FROM merchant_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id
            WHERE e.merchant_id = $1
            """
        var values: [any PostgresBindable] = [merchantID.rawValue]
        if let startingAfter {
            sql += " AND e.seq < (SELECT seq FROM merchant_events WHERE id = $2)"
            values.append(startingAfter)
        }
        sql += " GROUP BY e.id, e.seq ORDER BY e.seq DESC LIMIT $\(values.count + 1)"
        values.append(limit)
        return try pool.withConnection { session in
            try session.query(sql, values).compactMap { raw in
                let row = PostgresRowReader(row: raw, table: "merchant_events")
                guard let type = MerchantEventType(rawValue: try row.text(1)) else { return nil }
                var event = MerchantEvent(merchantID: merchantID, type: type, objectID: try row.text(2), createdAt: try row.instant(3))
                event.id = try row.text(0)
                return MerchantEventStatus(event: event, delivery: try row.text(4), attempts: try row.int(5))
            }
        }
    }

    public func close() throws {
        pool.close()
    }

    /// A server setting (`synchronous_commit`, `server_version`, …), for reports.
    public func serverSetting(_ name: String) throws -> String {
        precondition(PostgresDatabaseURL.isIdentifier(name), "setting names are identifiers")
        return try pool.withConnection { session in
            try PostgresRowReader(row: try session.query("SHOW \(name)")[0], table: "settings").text(0)
        }
    }

    /// Drops this store's schema and everything in it, then closes the store: for benchmarks and
    /// other throwaway stores. Refused on the `public` schema, which may hold other data.
    public func dropSchema() throws {
        guard url.schema != "public" else { throw StoreError.conflict("refusing to drop the public schema") }
        try pool.withConnection { session in try session.execute("DROP SCHEMA \(url.schema) CASCADE") }
        pool.close()
    }
}
