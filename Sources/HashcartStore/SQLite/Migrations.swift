import GRDB

/// The SQLite store's migrations: ``StoreSchema``'s, rendered in SQLite's dialect, run by GRDB's
/// migrator (which records the applied ones in `grdb_migrations`).
enum Migrations {
    /// Rendered once per process: rendering is string work, and a store is opened again after
    /// every simulated crash.
    static let rendered: [(id: String, sql: String)] = StoreSchema.migrations.map { ($0.id, StoreSchema.sql(of: $0, in: .sqlite)) }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (id, sql) in rendered {
            migrator.registerMigration(id) { db in try db.execute(sql: sql) }
        }
        return migrator
    }
}
