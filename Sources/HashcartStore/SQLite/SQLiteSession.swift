import Foundation
import GRDB
import GRDBSQLite
import HashcartCore
import Synchronization

/// The SQLite side of ``SQLSession``: statements run on GRDB's connection, inside the closure
/// of a `write` or `read` (the session must not outlive it). Statements are cached by GRDB;
/// hot rows are read by position through SQLite's C API (``RawRow``), not GRDB's `Row`.
final class SQLiteSession: SQLSession {
    let db: Database

    init(db: Database) {
        self.db = db
    }

    var dialect: SQLDialect { .sqlite }

    @discardableResult
    func execute(_ sql: String, _ values: [SQLValue]) throws -> Int {
        let statement = try db.cachedStatement(sql: Self.sqlite(sql))
        try statement.execute(arguments: Self.arguments(values))
        return db.changesCount
    }

    func query<T>(_ sql: String, _ values: [SQLValue], limit: Int, _ decode: (any SQLRow) throws -> T) throws -> [T] {
        let statement = try db.cachedStatement(sql: Self.sqlite(sql))
        try statement.setArguments(Self.arguments(values))
        let sqliteStatement = statement.sqliteStatement
        defer { sqlite3_reset(sqliteStatement) }
        var results: [T] = []
        while results.count < limit {
            let code = sqlite3_step(sqliteStatement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
            results.append(try decode(RawRow(statement: sqliteStatement)))
        }
        return results
    }

    @discardableResult
    func insertMany(into table: String, columns: [SQLColumn], rows: [[SQLValue]], suffix: String) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let statement = try db.cachedStatement(sql: Self.sqlite("""
            INSERT INTO \(table) (\(StoreRows.names(columns))) VALUES (\(sqlPlaceholders(columns.count))) \(suffix)
            """))
        var inserted = 0
        for row in rows {
            precondition(row.count == columns.count, "a row of \(table) has \(row.count) values for \(columns.count) columns")
            try statement.execute(arguments: Self.arguments(row))
            inserted += db.changesCount
        }
        return inserted
    }

    @discardableResult
    func updateMany(_ table: String, columns: [SQLColumn], rows: [[SQLValue]], condition: ((String) -> String)?) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let assignments = columns.enumerated().dropFirst().map { "\($0.element.name) = $\($0.offset + 1)" }.joined(separator: ", ")
        let statement = try db.cachedStatement(sql: Self.sqlite("""
            UPDATE \(table) SET \(assignments) WHERE \(columns[0].name) = $1\(condition.map { " AND " + $0(table) } ?? "")
            """))
        var updated = 0
        for row in rows {
            precondition(row.count == columns.count, "a row of \(table) has \(row.count) values for \(columns.count) columns")
            try statement.execute(arguments: Self.arguments(row))
            updated += db.changesCount
        }
        return updated
    }

    func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
    }

    func tryTransactionLock(_ name: String) throws -> Bool { true }

    // MARK: Dialect

    /// Statements already rewritten, by their shared spelling (bounded: cleared whole when full).
    private static let rewritten = Mutex<[String: String]>([:])

    /// `$n` → `?n`: SQLite's numbered parameters. The shared statements hold no `$` elsewhere.
    static func sqlite(_ sql: String) -> String {
        if let known = rewritten.withLock({ $0[sql] }) { return known }
        var result = ""
        result.reserveCapacity(sql.utf8.count)
        var pendingDollar = false
        for character in sql {
            if pendingDollar {
                pendingDollar = false
                result.append(character.isASCIIDigit ? "?" : "$")
            }
            if character == "$" {
                pendingDollar = true
                continue
            }
            result.append(character)
        }
        if pendingDollar { result.append("$") }
        rewritten.withLock { cache in
            if cache.count >= 4_096 { cache.removeAll(keepingCapacity: true) }
            cache[sql] = result
        }
        return result
    }

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map(databaseValue))
    }

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .int(let int): int.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let data): data.databaseValue
        case .bool(let bool): bool.databaseValue
        case .texts(let texts): jsonArray(texts).databaseValue
        case .ints(let ints): ("[" + ints.map(String.init).joined(separator: ",") + "]").databaseValue
        }
    }

    /// A JSON array of strings, for `json_each`.
    static func jsonArray(_ texts: [String]) -> String {
        var json = "["
        for (index, text) in texts.enumerated() {
            if index > 0 { json.append(",") }
            json.append("\"")
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": json.append("\\\"")
                case "\\": json.append("\\\\")
                case _ where scalar.value < 0x20:
                    json.append("\\u00")
                    json.append(String(format: "%02x", scalar.value))
                default: json.unicodeScalars.append(scalar)
                }
            }
            json.append("\"")
        }
        return json + "]"
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension RawRow: SQLRow {
    func text(_ index: Int) throws -> String { text(Int32(index)) }
    func optionalText(_ index: Int) throws -> String? { optionalText(Int32(index)) }
    func int(_ index: Int) throws -> Int64 { int(Int32(index)) }
    func optionalInt(_ index: Int) throws -> Int64? { optionalInt(Int32(index)) }
    func data(_ index: Int) throws -> Data { blob(Int32(index)) }
    func optionalData(_ index: Int) throws -> Data? { isNull(Int32(index)) ? nil : blob(Int32(index)) }
    func bool(_ index: Int) throws -> Bool { int(Int32(index)) != 0 }
    var columnCount: Int { Int(sqlite3_column_count(statement)) }

    func auditValue(_ index: Int) -> AuditValue {
        switch sqlite3_column_type(statement, Int32(index)) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .int(int(Int32(index)))
        default: .text(text(Int32(index)))
        }
    }
}
