import Foundation
import HashcartCore

/// What a backend gives the shared store code: short transactions on its ``SQLSession``, and the
/// claims that need its own locking (``HashcartDatabase/claimDueOutbound(network:now:limit:leaseMilliseconds:)``,
/// ``WebhookDeliveryStore/claimDueWebhookDeliveries(now:limit:leaseMilliseconds:)``). Everything
/// else a ``HashcartDatabase`` does — credentials, idempotency keys, webhook endpoints and their
/// schedule, the connector's interest, reads — is written once, here, over those transactions.
protocol SQLStore: HashcartDatabase {
    var cipher: AddressCipher { get }
    /// Runs `body` in a short write transaction. It does not take the engine's writer lock:
    /// credentials, idempotency keys and webhook rows are not what engine transactions read.
    func inWriteTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Runs `body`'s statements each on its own (PostgreSQL's autocommit; SQLite's writer), for
    /// writes that need no transaction around them.
    func withWriteSession<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Runs `body` on a consistent read-only snapshot.
    func inReadTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Runs `body`'s reads each on its own, for single-statement reads (no snapshot needed).
    func withReadSession<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
}

extension SQLStore {
    public func cardFingerprint(of pan: PrimaryAccountNumber) -> CardFingerprint { cipher.fingerprint(of: pan) }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await inReadTransaction { session in try body(SQLStoreReader(session: session, cipher: cipher)) }
    }

    public func connectorInterest(network: NetworkName, now: Instant) async throws -> ConnectorInterest {
        try await withReadSession { session in
            let tags = try session.query(StoreColumns.interestHashtagsSQL, [SQLValue(now), SQLValue(ConnectorInterest.maximumHashtags)]) { try $0.text(0) }
            var authors = Set(try session.query(StoreColumns.interestAuthorsSQL, [.text(network.rawValue), SQLValue(ConnectorInterest.maximumWatchedAuthors)]) {
                try $0.text(0)
            })
            let room = ConnectorInterest.maximumWatchedAuthors - authors.count
            if room > 0 {
                authors.formUnion(try session.query(StoreColumns.interestWaitlistedAuthorsSQL, [.text(network.rawValue), SQLValue(room)]) { try $0.text(0) })
            }
            return ConnectorInterest(hashtagKeys: Set(tags), watchedAuthorIDs: authors)
        }
    }

    // MARK: Credentials

    public func saveCredential(id: String, kind: CredentialKind, ownerID: String, secretHash: [UInt8], at: Instant) async throws {
        let audit = AuditAction.entry()
        _ = try await inWriteTransaction { session in
            try session.execute("INSERT INTO credentials (id, kind, owner_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                                [.text(id), .text(kind.rawValue), .text(ownerID), .blob(Data(secretHash)), SQLValue(at)])
            try Self.insertAudit(audit, session)
        }
    }

    public func revokeCredential(id: String, kind: CredentialKind, ownerID: String, at: Instant) async throws -> Bool {
        let audit = AuditAction.entry()
        return try await inWriteTransaction { session in
            guard try session.execute("UPDATE credentials SET revoked_at = $1 WHERE id = $2 AND kind = $3 AND owner_id = $4 AND revoked_at IS NULL",
                                      [SQLValue(at), .text(id), .text(kind.rawValue), .text(ownerID)]) == 1 else { return false }
            try Self.insertAudit(audit, session)
            return true
        }
    }

    /// Writes the audit line of a write (see ``AuditAction``) in its transaction; nothing without one.
    static func insertAudit(_ entry: AuditEntry?, _ session: any SQLSession) throws {
        guard let entry else { return }
        _ = try session.insertMany(into: "audit_log", columns: StoreRows.auditColumns, rows: [StoreRows.values(of: entry)])
    }

    public func credentialOwner(kind: CredentialKind, secretHash: [UInt8]) async throws -> String? {
        try await withReadSession { session in
            try session.queryOne("SELECT owner_id FROM credentials WHERE secret_hash = $1 AND kind = $2 AND revoked_at IS NULL",
                                 [.blob(Data(secretHash)), .text(kind.rawValue)]) { try $0.text(0) }
        }
    }

    public func credentials(kind: CredentialKind, ownerID: String, limit: Int) async throws -> [CredentialRecord] {
        try await withReadSession { session in
            try session.query("""
                SELECT id, created_at, revoked_at FROM credentials WHERE owner_id = $1 AND kind = $2 ORDER BY created_at DESC, id LIMIT $3
                """, [.text(ownerID), .text(kind.rawValue), SQLValue(limit)], limit: limit) {
                CredentialRecord(id: try $0.text(0), createdAt: try $0.instant(1), revokedAt: try $0.optionalInstant(2))
            }
        }
    }

    // MARK: Idempotency keys

    public func claimIdempotency(scope: [UInt8], key: String, requestHash: [UInt8], now: Instant) async throws -> IdempotencyKeyClaim {
        try await inWriteTransaction { session in
            try session.execute("DELETE FROM idempotency_keys WHERE created_at < $1",
                                [.int(now.millisecondsSinceEpoch - StoreLimits.idempotencyRetentionMilliseconds)])
            let inserted = try session.execute("""
                INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
                """, [.blob(Data(scope)), .text(key), .blob(Data(requestHash)), SQLValue(now)])
            if inserted == 1 { return .claimed }
            // Locked until commit on PostgreSQL; SQLite's one writer already excludes the others.
            let forUpdate = session.dialect == .postgres ? " FOR UPDATE" : ""
            guard let (storedHash, status, sealed, started) = try session.queryOne("""
                SELECT request_hash, status, response, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2\(forUpdate)
                """, [.blob(Data(scope)), .text(key)], { (try $0.data(0), try $0.optionalInt(1), try $0.optionalData(2), try $0.int(3)) })
            else { return .inFlight }
            guard storedHash == Data(requestHash) else { return .mismatch }
            if let status {
                return try IdempotencyKeyClaim.replay(status: Int(status), sealed: sealed ?? Data(), scope: scope, key: key, cipher: cipher)
            }
            guard now.millisecondsSinceEpoch - started > StoreLimits.idempotencyAbandonMilliseconds else { return .inFlight }
            try session.execute("UPDATE idempotency_keys SET created_at = $1 WHERE scope = $2 AND key = $3",
                                [SQLValue(now), .blob(Data(scope)), .text(key)])
            return .claimed
        }
    }

    public func finishIdempotency(scope: [UInt8], key: String, status: Int?, body: Data) async throws {
        try await withWriteSession { session in
            if let status {
                let sealed = try cipher.seal(body, context: AddressCipher.idempotencyContext(scope: scope, key: key))
                try session.execute("UPDATE idempotency_keys SET status = $1, response = $2 WHERE scope = $3 AND key = $4",
                                    [SQLValue(status), .blob(sealed), .blob(Data(scope)), .text(key)])
            } else {
                try session.execute("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2", [.blob(Data(scope)), .text(key)])
            }
        }
    }

    // MARK: Webhooks

    public func createWebhookEndpoint(id: String, merchantID: MerchantID, url: String, secret: String, at: Instant) async throws -> WebhookEndpoint {
        let sealed = try cipher.seal(Data(secret.utf8), context: "webhook:" + id)
        let audit = AuditAction.entry()
        return try await inWriteTransaction { session in
            let sequence = session.dialect.eventSequence
            try Self.lockEndpoints(of: merchantID, session)
            try Self.checkRoomForAnotherEndpoint(of: merchantID, session)
            try Self.insertAudit(audit, session)
            try session.execute("""
                INSERT INTO webhook_endpoints (id, merchant_id, url, secret_sealed, created_at, after_event_seq)
                VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(MAX(\(sequence)), 0) FROM merchant_events))
                """, [.text(id), .text(merchantID.rawValue), .text(url), .blob(sealed), SQLValue(at)])
            return WebhookEndpoint(id: id, merchantID: merchantID, url: url, createdAt: at)
        }
    }

    /// Serializes endpoint changes per merchant (PostgreSQL; SQLite has one writer), so the limit
    /// holds under concurrency.
    static func lockEndpoints(of merchantID: MerchantID, _ session: any SQLSession) throws {
        if session.dialect == .postgres {
            try session.execute("SELECT 1 FROM merchants WHERE id = $1 FOR UPDATE", [.text(merchantID.rawValue)])
        }
    }

    /// Refuses one more enabled endpoint past ``StoreLimits/maximumEndpointsPerMerchant``.
    static func checkRoomForAnotherEndpoint(of merchantID: MerchantID, _ session: any SQLSession) throws {
        let count = try session.queryOne("SELECT COUNT(*) FROM webhook_endpoints WHERE merchant_id = $1 AND disabled_at IS NULL",
                                         [.text(merchantID.rawValue)]) { try $0.int(0) } ?? 0
        guard count < StoreLimits.maximumEndpointsPerMerchant else {
            throw StoreError.conflict("a merchant has at most \(StoreLimits.maximumEndpointsPerMerchant) webhook endpoints enabled")
        }
    }

    public func webhookEndpoints(merchantID: MerchantID) async throws -> [WebhookEndpointStatus] {
        try await withReadSession { session in
            try session.query("""
                SELECT \(StoreColumns.webhookEndpointStatus) FROM webhook_endpoints WHERE merchant_id = $1
                ORDER BY created_at, id
                """, [.text(merchantID.rawValue)], limit: 1_000, StoreRows.webhookEndpointStatus(merchantID))
        }
    }

    public func setWebhookEndpointDisabled(id: String, merchantID: MerchantID, disabled: Bool, at: Instant) async throws -> WebhookEndpointStatus? {
        let audit = AuditAction.entry()
        return try await inWriteTransaction { session in
            try Self.lockEndpoints(of: merchantID, session)
            guard let current = try session.queryOne("""
                SELECT \(StoreColumns.webhookEndpointStatus) FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2
                """, [.text(id), .text(merchantID.rawValue)], StoreRows.webhookEndpointStatus(merchantID)) else { return nil }
            guard current.isDisabled != disabled else { return current }
            try Self.insertAudit(audit, session)
            if disabled {
                try session.execute("UPDATE webhook_endpoints SET disabled_at = $1 WHERE id = $2", [SQLValue(at), .text(id)])
                // What was still waiting for it is not sent; the merchant can redeliver an event later.
                try session.execute("""
                    UPDATE webhook_deliveries SET state = 'failed', last_error = 'endpoint disabled' WHERE endpoint_id = $1 AND state = 'pending'
                    """, [.text(id)])
            } else {
                try Self.checkRoomForAnotherEndpoint(of: merchantID, session)
                // Enabled again, it gets the events from now on, not those of while it was off.
                let sequence = session.dialect.eventSequence
                try session.execute("""
                    UPDATE webhook_endpoints SET disabled_at = NULL, after_event_seq = (SELECT COALESCE(MAX(\(sequence)), 0) FROM merchant_events)
                    WHERE id = $1
                    """, [.text(id)])
            }
            var updated = current
            updated.disabledAt = disabled ? at : nil
            return updated
        }
    }

    public func rotateWebhookSecret(id: String, merchantID: MerchantID, newSecret: String, previousExpiresAt: Instant,
                                    at: Instant) async throws -> WebhookEndpointStatus? {
        let sealed = try cipher.seal(Data(newSecret.utf8), context: "webhook:" + id)
        let audit = AuditAction.entry()
        return try await inWriteTransaction { session in
            // The old secret, sealed under the same context, moves over as it is and signs too until it expires.
            let changed = try session.execute("""
                UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = $1, secret_sealed = $2
                WHERE id = $3 AND merchant_id = $4
                """, [SQLValue(previousExpiresAt), .blob(sealed), .text(id), .text(merchantID.rawValue)])
            guard changed == 1 else { return nil }
            try Self.insertAudit(audit, session)
            return try session.queryOne("""
                SELECT \(StoreColumns.webhookEndpointStatus) FROM webhook_endpoints WHERE id = $1
                """, [.text(id)], StoreRows.webhookEndpointStatus(merchantID))
        }
    }

    /// An endpoint's deliveries, newest first; after `startingAfter` (an event id in this log: the
    /// page goes on below it, and an id not in the log gives an empty page). Nil when the endpoint is
    /// not the merchant's.
    public func webhookDeliveryLog(endpointID: String, merchantID: MerchantID, limit: Int, startingAfter: String?) async throws -> [WebhookDeliveryRecord]? {
        precondition((1...1_000).contains(limit), "log pages are bounded")
        return try await withReadSession { session in
            guard try session.queryOne("SELECT 1 FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2",
                                       [.text(endpointID), .text(merchantID.rawValue)], { _ in true }) != nil else { return nil }
            var values: [SQLValue] = [.text(endpointID)]
            var below = ""
            if let startingAfter {
                values.append(.text(startingAfter))
                // Keyset on the order shown: (created_at, event_id) strictly below the cursor's row.
                below = """
                     AND (d.created_at < c.created_at OR (d.created_at = c.created_at AND d.event_id < c.event_id))
                    """
            }
            values.append(SQLValue(limit))
            let cursor = startingAfter == nil ? "" : " JOIN webhook_deliveries c ON c.endpoint_id = $1 AND c.event_id = $2"
            return try session.query("""
                SELECT d.event_id, e.type, d.state, d.attempts, d.last_status, d.last_error, d.delivered_at, d.created_at, d.next_attempt_at
                FROM webhook_deliveries d JOIN merchant_events e ON e.id = d.event_id\(cursor)
                WHERE d.endpoint_id = $1\(below) ORDER BY d.created_at DESC, d.event_id DESC LIMIT $\(values.count)
                """, values, limit: limit) { row in
                let state = try row.text(2)
                return WebhookDeliveryRecord(eventID: try row.text(0), type: try row.text(1), state: state, attempts: try row.int(3),
                                             lastStatus: try row.optionalInt(4), lastError: try row.optionalText(5),
                                             deliveredAt: try row.optionalInstant(6), createdAt: try row.instant(7),
                                             nextAttemptAt: state == "pending" ? try row.optionalInstant(8) : nil)
            }
        }
    }

    public func addTestWebhookEvent(endpointID: String, merchantID: MerchantID, eventID: String, at: Instant) async throws -> Bool {
        try await inWriteTransaction { session in
            guard try session.queryOne("SELECT 1 FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2 AND disabled_at IS NULL",
                                       [.text(endpointID), .text(merchantID.rawValue)], { _ in true }) != nil else { return false }
            try session.execute("""
                INSERT INTO merchant_events (id, merchant_id, type, object_id, created_at, only_endpoint_id) VALUES ($1, $2, $3, $4, $5, $4)
                """, [.text(eventID), .text(merchantID.rawValue), .text(MerchantEventType.webhookEndpointTest.rawValue), .text(endpointID), SQLValue(at)])
            return true
        }
    }

    /// Events are scheduled in commit order: an event's sequence number is drawn under the
    /// writer lock, so no event can later commit with a number below one already scheduled.
    @discardableResult
    public func scheduleWebhookDeliveries(now: Instant, limit: Int) async throws -> Int {
        precondition(limit > 0 && limit <= 10_000, "scheduling batches are bounded")
        return try await inWriteTransaction { session in
            // One scheduler at a time per store (others skip the round instead of waiting).
            guard try session.tryTransactionLock("hashcart.webhooks") else { return 0 }
            let sequence = session.dialect.eventSequence
            let cursor = try session.queryOne("SELECT value FROM meta WHERE key = 'webhook_cursor'") {
                Int64(String(decoding: try $0.data(0), as: UTF8.self)) ?? 0
            } ?? 0
            let last = try session.queryOne("""
                SELECT MAX(s.n) FROM (SELECT \(sequence) AS n FROM merchant_events WHERE \(sequence) > $1 ORDER BY \(sequence) LIMIT $2) s
                """, [.int(cursor), SQLValue(limit)]) { try $0.optionalInt(0) } ?? nil
            guard let last else { return 0 }
            let created = try session.execute("""
                INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, created_at)
                SELECT e.id, w.id, 'pending', 0, $1, $1 FROM merchant_events e
                JOIN webhook_endpoints w ON w.merchant_id = e.merchant_id AND w.disabled_at IS NULL AND w.after_event_seq < e.\(sequence)
                    AND (e.only_endpoint_id IS NULL OR e.only_endpoint_id = w.id)
                WHERE e.\(sequence) > $2 AND e.\(sequence) <= $3
                ON CONFLICT DO NOTHING
                """, [SQLValue(now), .int(cursor), .int(last)])
            try session.execute("INSERT INTO meta (key, value) VALUES ('webhook_cursor', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                [.blob(Data(String(last).utf8))])
            return created
        }
    }

    public func recordWebhookAttempt(eventID: String, endpointID: String, delivered: Bool, status: Int?, error: String?,
                                     nextAttemptAt: Instant?, now: Instant) async throws {
        let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
        _ = try await withWriteSession { session in
            try session.execute("""
                UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, next_attempt_at = $2, last_status = $3, last_error = $4,
                    delivered_at = $5 WHERE event_id = $6 AND endpoint_id = $7 AND state = 'pending'
                """, [.text(state), SQLValue(nextAttemptAt ?? now), SQLValue(status.map(Int64.init)), SQLValue(error.map { String($0.prefix(500)) }),
                      delivered ? SQLValue(now) : .null, .text(eventID), .text(endpointID)])
        }
    }

    public func redeliverWebhook(eventID: String, merchantID: MerchantID, now: Instant) async throws -> Bool {
        try await withWriteSession { session in
            guard try session.queryOne("SELECT 1 FROM merchant_events WHERE id = $1 AND merchant_id = $2",
                                       [.text(eventID), .text(merchantID.rawValue)], { _ in true }) != nil
            else { return false }
            try session.execute("UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1 WHERE event_id = $2",
                                [SQLValue(now), .text(eventID)])
            return true
        }
    }

    public func merchantEvents(merchantID: MerchantID, limit: Int, startingAfter: String?) async throws -> [MerchantEventStatus] {
        try await withReadSession { session in
            let sequence = session.dialect.eventSequence
            var sql = """
                SELECT e.id, e.type, e.object_id, e.created_at,
                    CASE WHEN COUNT(d.event_id) = 0 THEN 'none' WHEN COUNT(*) FILTER (WHERE d.state = 'failed') > 0 THEN 'failed'
                         WHEN COUNT(*) FILTER (WHERE d.state = 'pending') > 0 THEN 'pending' ELSE 'delivered' END,
                    COALESCE(MAX(d.attempts), 0)
                FROM merchant_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id
                WHERE e.merchant_id = $1
                """
            var values: [SQLValue] = [.text(merchantID.rawValue)]
            if let startingAfter {
                values.append(.text(startingAfter))
                sql += " AND e.\(sequence) < (SELECT \(sequence) FROM merchant_events WHERE id = $2)"
            }
            values.append(SQLValue(limit))
            sql += " GROUP BY e.id, e.\(sequence) ORDER BY e.\(sequence) DESC LIMIT $\(values.count)"
            return try session.query(sql, values, limit: limit) { row -> MerchantEventStatus? in
                guard let type = MerchantEventType(rawValue: try row.text(1)) else { return nil }
                var event = MerchantEvent(merchantID: merchantID, type: type, objectID: try row.text(2), createdAt: try row.instant(3))
                event.id = try row.text(0)
                return MerchantEventStatus(event: event, delivery: try row.text(4), attempts: try row.int(5))
            }.compactMap { $0 }
        }
    }
}

extension StoreRows {
    /// `id, url, created_at, disabled_at, previous_secret_expires_at` of an endpoint of `merchantID`.
    static func webhookEndpointStatus(_ merchantID: MerchantID) -> (any SQLRow) throws -> WebhookEndpointStatus {
        { row in
            WebhookEndpointStatus(endpoint: WebhookEndpoint(id: try row.text(0), merchantID: merchantID, url: try row.text(1), createdAt: try row.instant(2)),
                                  disabledAt: try row.optionalInstant(3), previousSecretExpiresAt: try row.optionalInstant(4))
        }
    }

    /// `e.id, e.merchant_id, e.type, e.object_id, e.created_at, w.id, w.url, w.secret_sealed, w.created_at, d.attempts,
    /// w.previous_secret_sealed, w.previous_secret_expires_at` of a claimed delivery, its endpoint's secrets unsealed for signing.
    static func webhookDelivery(_ row: any SQLRow, cipher: AddressCipher) throws -> WebhookDelivery {
        let eventID = try row.text(0)
        guard let type = MerchantEventType(rawValue: try row.text(2)) else {
            throw StoreError.corruptRecord(table: "merchant_events", id: eventID, detail: "type")
        }
        var event = MerchantEvent(merchantID: MerchantID(try row.text(1)), type: type, objectID: try row.text(3), createdAt: try row.instant(4))
        event.id = eventID
        let endpointID = try row.text(5)
        let secret = String(decoding: try cipher.open(try row.data(7), context: "webhook:" + endpointID), as: UTF8.self)
        let previous = try row.optionalData(10).map { String(decoding: try cipher.open($0, context: "webhook:" + endpointID), as: UTF8.self) }
        return WebhookDelivery(event: event, endpoint: WebhookEndpoint(id: endpointID, merchantID: event.merchantID, url: try row.text(6),
                                                                       createdAt: try row.instant(8)),
                               secret: secret, attempts: try row.int(9), previousSecret: previous, previousSecretExpiresAt: try row.optionalInstant(11))
    }
}
