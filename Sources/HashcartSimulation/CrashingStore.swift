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

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        switch try crash.nextWrite() {
        case .commit:
            let result = try await inner.write(body)
            if forgetsProcessedEvents, let sqlite = inner as? SQLiteStore {
                try await sqlite.pool.write { try $0.execute(sql: "DELETE FROM processed_events") }
            }
            return result
        case .crashBeforeCommit:
            // The transaction runs, then the process dies before COMMIT: SQLite rolls it back.
            _ = try await inner.write { tx -> T in
                _ = try body(tx)
                throw SimulatedCrash()
            }
            throw SimulatedCrash()
        case .crashAfterCommit:
            _ = try await inner.write(body)
            throw SimulatedCrash()
        }
    }

    /// A write the store runs in one transaction of its own.
    private func perform<T>(_ operation: () async throws -> T) async throws -> T {
        switch try crash.nextWrite() {
        case .commit:
            return try await operation()
        case .crashBeforeCommit:
            throw SimulatedCrash()
        case .crashAfterCommit:
            _ = try await operation()
            throw SimulatedCrash()
        }
    }

    func cardFingerprint(of pan: PrimaryAccountNumber) -> CardFingerprint { inner.cardFingerprint(of: pan) }

    func claimDueOutbound(network: NetworkName, now: Instant, limit: Int, leaseMilliseconds: Int64) async throws -> [OutboundPost] {
        try await perform { try await inner.claimDueOutbound(network: network, now: now, limit: limit, leaseMilliseconds: leaseMilliseconds) }
    }

    func connectorInterest(network: NetworkName, now: Instant) async throws -> ConnectorInterest {
        try crash.checkAlive()
        return try await inner.connectorInterest(network: network, now: now)
    }

    func scheduleWebhookDeliveries(now: Instant, limit: Int) async throws -> Int {
        try await perform { try await inner.scheduleWebhookDeliveries(now: now, limit: limit) }
    }

    func claimDueWebhookDeliveries(now: Instant, limit: Int, leaseMilliseconds: Int64) async throws -> [WebhookDelivery] {
        try await perform { try await inner.claimDueWebhookDeliveries(now: now, limit: limit, leaseMilliseconds: leaseMilliseconds) }
    }

    func recordWebhookAttempt(eventID: String, endpointID: String, delivered: Bool, status: Int?, error: String?,
                              nextAttemptAt: Instant?, now: Instant) async throws {
        try await perform {
            try await inner.recordWebhookAttempt(eventID: eventID, endpointID: endpointID, delivered: delivered, status: status,
                                           error: error, nextAttemptAt: nextAttemptAt, now: now)
        }
    }
}
