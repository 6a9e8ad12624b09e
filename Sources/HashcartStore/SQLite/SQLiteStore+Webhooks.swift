import Foundation
import HashcartCore

extension SQLiteStore {
    public func claimDueWebhookDeliveries(now: Instant, limit: Int, leaseMilliseconds: Int64) async throws -> [WebhookDelivery] {
        precondition(limit > 0 && limit <= 1_000, "delivery batches are bounded")
        precondition(leaseMilliseconds > 0, "leases run out")
        return try await pool.write { [cipher] db in
            let session = SQLiteSession(db: db)
            let due = try session.query("""
                SELECT e.id, e.merchant_id, e.type, e.object_id, e.created_at, w.id, w.url, w.secret_sealed, w.created_at, d.attempts, w.previous_secret_sealed, w.previous_secret_expires_at
                FROM webhook_deliveries d JOIN merchant_events e ON e.id = d.event_id JOIN webhook_endpoints w ON w.id = d.endpoint_id
                WHERE d.state = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.event_id LIMIT $2
                """, [SQLValue(now), SQLValue(limit)], limit: limit) { try StoreRows.webhookDelivery($0, cipher: cipher) }
            let lease = now.millisecondsSinceEpoch + leaseMilliseconds
            for delivery in due {
                try session.execute("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE event_id = $2 AND endpoint_id = $3",
                                    [.int(lease), .text(delivery.event.id), .text(delivery.endpoint.id)])
            }
            return due
        }
    }
}
