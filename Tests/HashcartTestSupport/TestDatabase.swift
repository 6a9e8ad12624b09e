import Foundation
import GRDB
import HashcartStore
import Logging
import NIOPosix
import PostgresNIO

/// The stores a test can run on. SQLite always; PostgreSQL when `HASHCART_TEST_DATABASE_URL`
/// names a server (`.ci/run` starts one). Without it the PostgreSQL half is skipped, and
/// ``TestBackend/skipNotice`` says so.
public enum TestBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// The PostgreSQL server for tests, if one is configured.
    public static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["HASHCART_TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// SQLite, and PostgreSQL when configured.
    public static var available: [TestBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    public static let skipNotice = "HASHCART_TEST_DATABASE_URL is not set: the PostgreSQL half of the suite was skipped (.ci/run starts a server and sets it)"

    /// The backend the current test runs on (see ``OnEveryBackend``); SQLite outside such a test.
    @TaskLocal public static var current: TestBackend = .sqlite
}

/// Why raw SQL was refused, the same on both backends.
public enum RawSQLError: Error, Equatable {
    case checkViolation
    case uniqueViolation
    case other(String)
}

/// A fresh, empty database for one test: a temporary folder (for SQLite files and the sandbox
/// network) and, on PostgreSQL, a schema of its own that is dropped when the test ends.
public final class TestDatabase: @unchecked Sendable {
    public let backend: TestBackend
    public let directory: String
    /// The database URL (PostgreSQL), naming this test's schema.
    public let url: String?
    /// This test's PostgreSQL schema (unused on SQLite).
    public let schema: String

    /// Connections (and connection threads) of each PostgreSQL store a test opens: two, enough
    /// for a read beside a held write. Dozens of tests run at once on a 2-core machine; more
    /// connections each only make the server thrash.
    public static let poolSize = 2

    public init(_ backend: TestBackend = TestBackend.current) throws {
        DescriptorLimit.raise()
        self.backend = backend
        directory = NSTemporaryDirectory() + "hashcart-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        switch backend {
        case .sqlite:
            url = nil
        case .postgres:
            guard let base = TestBackend.postgresURL else { throw RawSQLError.other(TestBackend.skipNotice) }
            url = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)&pool=\(Self.poolSize)"
        }
    }

    deinit {
        if backend == .postgres { try? execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Opens (creating or migrating) the store.
    public func open(key: String?) async throws -> any HashcartDatabase {
        switch backend {
        case .sqlite: try SQLiteStore(directory: directory, encryptionKey: key)
        case .postgres: try await PostgresStore(url: url!, encryptionKey: key)
        }
    }

    // MARK: Raw SQL, bypassing the store (to tamper, or to look)

    /// Runs one statement with parameters `$1`, `$2`, … (String, Int64, Int or nil).
    public func execute(_ sql: String, _ values: [(any Sendable)?] = []) throws {
        _ = try query(sql, values)
    }

    /// Runs one statement and returns its rows, every value as text (nil for NULL).
    public func query(_ sql: String, _ values: [(any Sendable)?] = []) throws -> [[String?]] {
        switch backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: (directory as NSString).appendingPathComponent(SQLiteStore.fileName))
            defer { try? queue.close() }
            do {
                return try queue.write { db in
                    let arguments = StatementArguments(values.map { value -> (any DatabaseValueConvertible)? in
                        switch value {
                        case let text as String: text
                        case let number as Int64: number
                        case let number as Int: Int64(number)
                        default: nil
                        }
                    })
                    return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                        (0..<row.count).map { index in
                            let value: DatabaseValue = row[index]
                            if value.isNull { return nil }
                            if let number = Int64.fromDatabaseValue(value) { return String(number) }
                            return String.fromDatabaseValue(value) ?? Data.fromDatabaseValue(value)?.base64EncodedString()
                        }
                    }
                }
            } catch let error as DatabaseError {
                switch error.extendedResultCode {
                case .SQLITE_CONSTRAINT_CHECK: throw RawSQLError.checkViolation
                case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY: throw RawSQLError.uniqueViolation
                default: throw RawSQLError.other("\(error)")
                }
            }
        case .postgres:
            let parsed = try PostgresDatabaseURL(url!)
            let configuration = PostgresConnection.Configuration(host: parsed.host, port: parsed.port, username: parsed.username,
                                                                 password: parsed.password, database: parsed.database, tls: .disable)
            let logger = Logger(label: "hashcart.tests")
            let connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                            id: 1, logger: logger).wait()
            defer { try? connection.close().wait() }
            var bindings = PostgresBindings()
            for value in values {
                switch value {
                case let text as String: bindings.append(text)
                case let number as Int64: bindings.append(number)
                case let number as Int: bindings.append(Int64(number))
                default: bindings.appendNull()
                }
            }
            do {
                _ = try connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \(schema)"), logger: logger).wait()
                let result = try connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).wait()
                return result.rows.map { row in
                    row.map { cell in
                        guard cell.bytes != nil else { return nil }
                        if let number = try? cell.decode(Int64.self) { return String(number) }
                        if let text = try? cell.decode(String.self) { return text }
                        if let bytes = try? cell.decode(Data.self) { return bytes.base64EncodedString() }
                        return "?"
                    }
                }
            } catch let error as PSQLError {
                switch error.serverInfo?[.sqlState] {
                case "23514": throw RawSQLError.checkViolation
                case "23505": throw RawSQLError.uniqueViolation
                default: throw RawSQLError.other(error.serverInfo?[.message] ?? "\(error.code)")
                }
            }
        }
    }

    /// Every row of every table, as text: a whole-database fingerprint.
    public func dump() throws -> [String] {
        let tables: [String]
        switch backend {
        case .sqlite:
            tables = try query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0[0] }
        case .postgres:
            tables = try query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", [schema])
                .compactMap { $0[0] }
        }
        return try tables.flatMap { table in
            try query("SELECT * FROM \(table) ORDER BY 1").map { "\(table): \($0.map { $0 ?? "NULL" }.joined(separator: "|"))" }.sorted()
        }
    }
}

extension HashcartDatabase {
    /// For a test's `defer` or `deinit`, which cannot wait: closes the store on a task of its own
    /// (``HashcartDatabase/close()`` is asynchronous; see why there).
    public func closeLater() {
        Task { try? await self.close() }
    }
}
