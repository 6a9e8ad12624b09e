import Foundation
import HashcartStore

/// Which store a seed runs on. Both are the real stores `serve` uses: the engine, the deliverer
/// and the checks see only ``HashcartDatabase``.
public enum SimulationStore: Sendable, Hashable {
    /// SQLite in the seed's folder (the default).
    case sqlite
    /// PostgreSQL: each seed gets a schema of its own in the database `url` names (its `schema`
    /// option is replaced), created empty and dropped when the seed ends.
    case postgres(url: PostgresDatabaseURL)

    /// The schema of `seed` in this process (several `hashcart sim` processes may share a database).
    static func schema(seed: UInt64) -> String { "sim_\(getpid())_\(seed)" }

    /// Opens the seed's store, as a process starting (or restarting after a crash) does.
    func open(directory: String, seed: UInt64) async throws -> any HashcartDatabase {
        switch self {
        case .sqlite:
            return try SQLiteStore(directory: directory, encryptionKey: Simulation.encryptionKey)
        case .postgres(var url):
            url.schema = Self.schema(seed: seed)
            // Two connections: the engine, the deliverer and the checks take turns in one seed.
            url.poolSize = 2
            return try await PostgresStore(url: url, encryptionKey: Simulation.encryptionKey)
        }
    }

    /// Removes what the seed left (its PostgreSQL schema); SQLite's folder is the caller's.
    func remove(_ store: any HashcartDatabase) async throws {
        if case .postgres = self, let postgres = store as? PostgresStore { try await postgres.dropSchema() }
    }
}
