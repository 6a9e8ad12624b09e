import Foundation
import GRDB
import HashcartCore

extension SQLiteStore {
    public func createWebhookEndpoint(id: String, merchantID: MerchantID, url: String, secret: String, at: Instant) throws -> WebhookEndpoint {
        let sealed = try cipher.seal(Data(secret.utf8), context: "webhook:" + id)
        return try pool.write { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_endpoints WHERE merchant_id = ? AND disabled_at IS NULL",
                                         arguments: [merchantID.rawValue]) ?? 0
            guard count < StoreLimits.maximumEndpointsPerMerchant else {
                throw StoreError.conflict("a merchant has at most \(StoreLimits.maximumEndpointsPerMerchant) webhook endpoints")
            }
            try db.execute(sql: """
                INSERT INTO webhook_endpoints (id, merchant_id, url, secret_sealed, created_at, after_event_seq)
                VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(rowid), 0) FROM merchant_events))
                """, arguments: [id, merchantID.rawValue, url, sealed, at.millisecondsSinceEpoch])
            return WebhookEndpoint(id: id, merchantID: merchantID, url: url, createdAt: at)
        }
    }

    /// Creates delivery rows for events that have none yet, for every endpoint of their merchant
    /// that existed when the event was recorded (by the events' order, not their timestamps). Returns how many rows it created (at most `limit` events).
    @discardableResult
    public func scheduleWebhookDeliveries(now: Instant, limit: Int) throws -> Int {
        try pool.write { db in
            let cursor = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'webhook_cursor'") ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT rowid, id, merchant_id FROM merchant_events WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                        arguments: [cursor, limit])
            var created = 0
            for row in rows {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, created_at)
                    SELECT ?, id, 'pending', 0, ?, ? FROM webhook_endpoints
                    WHERE merchant_id = ? AND disabled_at IS NULL AND after_event_seq < ?
                    """, arguments: [row[1] as String, now.millisecondsSinceEpoch, now.millisecondsSinceEpoch, row[2] as String, row[0] as Int64])
                created += db.changesCount
            }
            if let last = rows.last {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('webhook_cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                               arguments: [String(last[0] as Int64)])
            }
            return created
        }
    }

    public func claimDueWebhookDeliveries(now: Instant, limit: Int, leaseMilliseconds: Int64) throws -> [WebhookDelivery] {
        precondition(limit > 0 && limit <= 1_000, "delivery batches are bounded")
        precondition(leaseMilliseconds > 0, "leases run out")
        let rows = try pool.write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT e.id, e.merchant_id, e.type, e.object_id, e.created_at, w.id, w.url, w.secret_sealed, w.created_at, d.attempts
                FROM webhook_deliveries d JOIN merchant_events e ON e.id = d.event_id JOIN webhook_endpoints w ON w.id = d.endpoint_id
                WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.event_id LIMIT ?
                """, arguments: [now.millisecondsSinceEpoch, limit])
            let lease = try db.cachedStatement(sql: "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE event_id = ? AND endpoint_id = ?")
            for row in rows { try lease.execute(arguments: [now.millisecondsSinceEpoch + leaseMilliseconds, row[0] as String, row[5] as String]) }
            return rows
        }
        return try rows.map { row in
            guard let type = MerchantEventType(rawValue: row[2]) else {
                throw StoreError.corruptRecord(table: "merchant_events", id: row[0], detail: "type")
            }
            var event = MerchantEvent(merchantID: MerchantID(row[1] as String), type: type, objectID: row[3], createdAt: Instant(millisecondsSinceEpoch: row[4]))
            event.id = row[0]
            let endpointID: String = row[5]
            let secret = String(decoding: try cipher.open(row[7], context: "webhook:" + endpointID), as: UTF8.self)
            return WebhookDelivery(event: event,
                                   endpoint: WebhookEndpoint(id: endpointID, merchantID: event.merchantID, url: row[6],
                                                             createdAt: Instant(millisecondsSinceEpoch: row[8])),
                                   secret: secret, attempts: row[9])
        }
    }

    /// Records an attempt: delivered, or retried at `nextAttemptAt`, or failed for good when that is nil.
    public func recordWebhookAttempt(eventID: String, endpointID: String, delivered: Bool, status: Int?, error: String?,
                                     nextAttemptAt: Instant?, now: Instant) throws {
        try pool.write { db in
            let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
            try db.execute(sql: """
                UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_status = ?, last_error = ?,
                    delivered_at = ? WHERE event_id = ? AND endpoint_id = ? AND state = 'pending'
                """, arguments: [state, (nextAttemptAt ?? now).millisecondsSinceEpoch, status, error.map { String($0.prefix(500)) },
                                 delivered ? now.millisecondsSinceEpoch : nil, eventID, endpointID])
        }
    }

    /// Sends a merchant's event again to every endpoint (it was failed, or the merchant lost it).
    public func redeliverWebhook(eventID: String, merchantID: MerchantID, now: Instant) throws -> Bool {
        try pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM merchant_events WHERE id = ? AND merchant_id = ?",
                                    arguments: [eventID, merchantID.rawValue]) != nil else { return false }
            try db.execute(sql: "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE event_id = ?",
                           arguments: [now.millisecondsSinceEpoch, eventID])
            return true
        }
    }

    /// A merchant's events, newest first, with how their deliveries stand.
    public func merchantEvents(merchantID: MerchantID, limit: Int, startingAfter: String?) throws -> [MerchantEventStatus] {
        try pool.read { db in
            var sql = """
                SELECT e.id, e.type, e.object_id, e.created_at,
                    CASE WHEN COUNT(d.event_id) = 0 THEN 'none' WHEN SUM(d.state = 'failed') > 0 THEN 'failed'
                         WHEN SUM(d.state = 'pending') > 0 THEN 'pending' ELSE 'delivered' END,
                    COALESCE(MAX(d.attempts), 0)
                FROM merchant_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id
                WHERE e.merchant_id = ?
                """
            var arguments: StatementArguments = [merchantID.rawValue]
            if let startingAfter {
                sql += " AND e.rowid < (SELECT rowid FROM merchant_events WHERE id = ?)"
                arguments += [startingAfter]
            }
            sql += " GROUP BY e.id ORDER BY e.rowid DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
                guard let type = MerchantEventType(rawValue: row[1]) else { return nil }
                var event = MerchantEvent(merchantID: merchantID, type: type, objectID: row[2], createdAt: Instant(millisecondsSinceEpoch: row[3]))
                event.id = row[0]
                return MerchantEventStatus(event: event, delivery: row[4], attempts: row[5])
            }
        }
    }
}
