import GRDB
import HashcartCore
import HashcartStore

/// The engine's store as the simulated process sees it: the real store, with the process
/// dying at the write the ``CrashSwitch`` names: before it commits (the database rolls it back) or
/// right after (it is durable, but the process never learns).
final class CrashingStore: EngineStore, WebhookDeliveryStore {
    let inner: any HashcartDatabase
    let crash: CrashSwitch
    /// ``Sabotage/forgetProcessedEvents``: every commit forgets which events were processed.
    let forgetsProcessedEvents: Bool

    init(inner: any HashcartDatabase, crash: CrashSwitch, forgetsProcessedEvents: Bool = false) {
        self.inner = inner
        self.crash = crash
        self.forgetsProcessedEvents = forgetsProcessedEvents
    }

    func write<T>(_ body: (any StoreTransaction) throws -> T) throws -> T {
        switch try crash.nextWrite() {
        case .commit:
            let result = try inner.write(body)
            if forgetsProcessedEvents, let sqlite = inner as? SQLiteStore {
                try sqlite.pool.write { try $0.execute(sql: "DELETE FROM processed_events") }
            }
            return result
        case .crashBeforeCommit:
            // The transaction runs, then the process dies before COMMIT: SQLite rolls it back.
            _ = try inner.write { tx -> T in
                _ = try body(tx)
                throw SimulatedCrash()
            }
            throw SimulatedCrash()
        case .crashAfterCommit:
            _ = try inner.write(body)
            throw SimulatedCrash()
        }
    }

    /// A write the store runs in one transaction of its own.
    private func perform<T>(_ operation: () throws -> T) throws -> T {
        switch try crash.nextWrite() {
        case .commit:
            return try operation()
        case .crashBeforeCommit:
            throw SimulatedCrash()
        case .crashAfterCommit:
            _ = try operation()
            throw SimulatedCrash()
        }
    }

    func claimDueOutbound(network: NetworkName, now: Instant, limit: Int, leaseMilliseconds: Int64) throws -> [OutboundPost] {
        try perform { try inner.claimDueOutbound(network: network, now: now, limit: limit, leaseMilliseconds: leaseMilliseconds) }
    }

    func connectorInterest(network: NetworkName, now: Instant) throws -> ConnectorInterest {
        try crash.checkAlive()
        return try inner.connectorInterest(network: network, now: now)
    }

    func scheduleWebhookDeliveries(now: Instant, limit: Int) throws -> Int {
        try perform { try inner.scheduleWebhookDeliveries(now: now, limit: limit) }
    }

    func claimDueWebhookDeliveries(now: Instant, limit: Int, leaseMilliseconds: Int64) throws -> [WebhookDelivery] {
        try perform { try inner.claimDueWebhookDeliveries(now: now, limit: limit, leaseMilliseconds: leaseMilliseconds) }
    }

    func recordWebhookAttempt(eventID: String, endpointID: String, delivered: Bool, status: Int?, error: String?,
                              nextAttemptAt: Instant?, now: Instant) throws {
        try perform {
            try inner.recordWebhookAttempt(eventID: eventID, endpointID: endpointID, delivered: delivered, status: status,
                                           error: error, nextAttemptAt: nextAttemptAt, now: now)
        }
    }
}
