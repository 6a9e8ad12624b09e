import GRDB

/// The SQLite store's migrations: ``StoreSchema``'s, rendered in SQLite's dialect, run by GRDB's
/// migrator (which records the applied ones in `grdb_migrations`).
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in StoreSchema.migrations {
            let sql = StoreSchema.sql(of: migration, in: .sqlite)
            migrator.registerMigration(migration.id) { db in try db.execute(sql: sql) }
        }
        return migrator
    }
}
