/// The PostgreSQL store's migrations: ``StoreSchema``'s, rendered in PostgreSQL's dialect. The
/// store runs each once, under a lock, and records it in `hashcart_migrations` (``PostgresStore``).
enum PostgresSchema {
    static let migrations: [(id: String, sql: String)] = StoreSchema.migrations.map { ($0.id, StoreSchema.sql(of: $0, in: .postgres)) }
}
