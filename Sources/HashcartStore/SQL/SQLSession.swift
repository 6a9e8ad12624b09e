import Foundation
import HashcartCore

/// The SQL the two stores do not share, and nothing else.
///
/// Statements are written once, in PostgreSQL's spelling of parameters (`$1`, `$2`, …); a list
/// parameter is tested with ``any(_:_:)``. SQLite reads `$n` as `?n`, and a list as a JSON array
/// through `json_each`.
enum SQLDialect: Sendable, Hashable {
    case sqlite
    case postgres

    /// `= ANY($n::text[])` in PostgreSQL, `IN (SELECT value FROM json_each(?n))` in SQLite: the
    /// test for a column against a list bound as ``SQLValue/texts(_:)`` or ``SQLValue/ints(_:)``.
    func any(_ parameter: Int, _ type: SQLType = .text) -> String {
        switch self {
        case .postgres: "= ANY($\(parameter)::\(type.postgresName)[])"
        case .sqlite: "IN (SELECT value FROM json_each($\(parameter)))"
        }
    }

    /// The column that numbers merchant events in the order they committed: SQLite's `rowid`,
    /// PostgreSQL's `seq` (a sequence drawn under the writer lock).
    var eventSequence: String {
        switch self {
        case .sqlite: "rowid"
        case .postgres: "seq"
        }
    }
}

/// One result row, read by position. A value of the wrong type is a
/// ``StoreError/corruptRecord(table:id:detail:)``.
protocol SQLRow {
    func text(_ index: Int) throws -> String
    func optionalText(_ index: Int) throws -> String?
    func int(_ index: Int) throws -> Int64
    func optionalInt(_ index: Int) throws -> Int64?
    func data(_ index: Int) throws -> Data
    func optionalData(_ index: Int) throws -> Data?
    func bool(_ index: Int) throws -> Bool
    /// How many columns the row has.
    var columnCount: Int { get }
    /// A cell as the audit reads it, whatever its column: NULL, an integer, or text.
    func auditValue(_ index: Int) -> AuditValue
}

extension SQLRow {
    func instant(_ index: Int) throws -> Instant { Instant(millisecondsSinceEpoch: try int(index)) }
    func optionalInstant(_ index: Int) throws -> Instant? { try optionalInt(index).map(Instant.init(millisecondsSinceEpoch:)) }
}

/// A connection inside one transaction, as the shared store code uses it: the port each backend
/// implements in its own dialect. Everything above it — the engine's working set
/// (``WorkingSet``), the reports (``SQLStoreReader``), the row codecs (``StoreRows``) — is
/// written once for both stores.
///
/// Calls are synchronous: the SQLite session runs inside GRDB's writer (or reader) closure, the
/// PostgreSQL session on a pooled connection.
protocol SQLSession: AnyObject {
    var dialect: SQLDialect { get }

    /// Runs a statement; returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ values: [SQLValue]) throws -> Int

    /// Runs a query and decodes at most `limit` rows with `decode`.
    func query<T>(_ sql: String, _ values: [SQLValue], limit: Int, _ decode: (any SQLRow) throws -> T) throws -> [T]

    /// Inserts `rows` (values in `columns` order) with as few round trips as the backend allows;
    /// `suffix` follows the statement (`ON CONFLICT …`). Rows go in in the order given. Returns
    /// how many rows were inserted.
    @discardableResult
    func insertMany(into table: String, columns: [SQLColumn], rows: [[SQLValue]], suffix: String) throws -> Int

    /// Updates rows found by `key` (each row's first value; `columns[0]` names it) to the rest of
    /// its values; `condition`, given the table's name in the statement, narrows which rows may
    /// change. Returns how many rows changed.
    @discardableResult
    func updateMany(_ table: String, columns: [SQLColumn], rows: [[SQLValue]], condition: ((String) -> String)?) throws -> Int

    /// Whether `error` is this backend's unique-constraint violation.
    func isUniqueViolation(_ error: any Error) -> Bool

    /// Takes the lock called `name` until the transaction ends, unless another holds it
    /// (`false`). SQLite's one writer already excludes every other writer: it always succeeds.
    func tryTransactionLock(_ name: String) throws -> Bool
}

extension SQLSession {
    func query<T>(_ sql: String, _ values: [SQLValue] = [], _ decode: (any SQLRow) throws -> T) throws -> [T] {
        try query(sql, values, limit: .max, decode)
    }

    func query<T>(_ sql: String, _ decode: (any SQLRow) throws -> T) throws -> [T] {
        try query(sql, [], limit: .max, decode)
    }

    func queryOne<T>(_ sql: String, _ values: [SQLValue] = [], _ decode: (any SQLRow) throws -> T) throws -> T? {
        try query(sql, values, limit: 1, decode).first
    }

    @discardableResult
    func insertMany(into table: String, columns: [SQLColumn], rows: [[SQLValue]]) throws -> Int {
        try insertMany(into: table, columns: columns, rows: rows, suffix: "")
    }

    @discardableResult
    func updateMany(_ table: String, columns: [SQLColumn], rows: [[SQLValue]]) throws -> Int {
        try updateMany(table, columns: columns, rows: rows, condition: nil)
    }
}

/// `$1, $2, …, $count`, starting after `offset`.
func sqlPlaceholders(_ count: Int, after offset: Int = 0) -> String {
    (1...count).map { "$\($0 + offset)" }.joined(separator: ", ")
}
