import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

/// The two stores' schemas come from one definition (`StoreSchema`): a migration that renders
/// differently in one dialect — a column or an index one store lacks — fails here.
@Suite(.enabled(if: TestBackend.postgresURL != nil, Comment(rawValue: TestBackend.skipNotice)))
struct StoreSchemaTests {
    @Test func bothStoresHaveTheSameTablesColumnsAndIndexes() async throws {
        let sqlite = try await StoreFixture(seed: false, backend: .sqlite)
        let postgres = try await StoreFixture(seed: false, backend: .postgres)
        let sqliteOutline = try await sqlite.store.read { try $0.schemaOutline() }
        let postgresOutline = try await postgres.store.read { try $0.schemaOutline() }
        #expect(sqliteOutline.contains("purchases.confirmation_post_id"))
        #expect(sqliteOutline.contains("index purchases_open_expiry on purchases"))
        #expect(sqliteOutline.count > 200)
        #expect(Set(sqliteOutline).subtracting(postgresOutline).sorted() == [])
        #expect(Set(postgresOutline).subtracting(sqliteOutline).sorted() == [])
    }
}
