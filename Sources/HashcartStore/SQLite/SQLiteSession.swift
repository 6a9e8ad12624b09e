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
        try run(statement, values, sql: sql)
        return db.changesCount
    }

    func query<T>(_ sql: String, _ values: [SQLValue], limit: Int, _ decode: (any SQLRow) throws -> T) throws -> [T] {
        let statement = try db.cachedStatement(sql: Self.sqlite(sql))
        let sqliteStatement = statement.sqliteStatement
        try bind(values, to: statement, sql: sql)
        defer { sqlite3_reset(sqliteStatement) }
        var results: [T] = []
        while results.count < limit {
            let code = sqlite3_step(sqliteStatement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw error(code, sql: sql) }
            results.append(try decode(RawRow(statement: sqliteStatement)))
        }
        return results
    }

    /// Binds `values` straight through SQLite's C API (GRDB's `StatementArguments` built a
    /// `DatabaseValue` array per row: a seventh of the purchase path's time).
    private func bind(_ values: [SQLValue], to statement: Statement, sql: String) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        guard Int(sqlite3_bind_parameter_count(handle)) == values.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(values.count) values for \(sqlite3_bind_parameter_count(handle)) parameters", sql: sql)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32 = switch value {
            case .null: sqlite3_bind_null(handle, index)
            case .int(let int): sqlite3_bind_int64(handle, index, int)
            case .bool(let bool): sqlite3_bind_int64(handle, index, bool ? 1 : 0)
            case .text(let text): Self.bindText(text, handle, index)
            case .texts(let texts): Self.bindText(Self.jsonArray(texts), handle, index)
            case .ints(let ints): Self.bindText("[" + ints.map(String.init).joined(separator: ",") + "]", handle, index)
            case .blob(let data):
                data.withUnsafeBytes { bytes in
                    sqlite3_bind_blob(handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), Self.transient)
                }
            }
            guard code == SQLITE_OK else { throw error(code, sql: sql) }
        }
    }

    /// Runs a statement that returns no rows (or ignores them).
    private func run(_ statement: Statement, _ values: [SQLValue], sql: String) throws {
        try bind(values, to: statement, sql: sql)
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code, sql: sql) }
        }
    }

    private func error(_ code: Int32, sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
    }

    /// SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func bindText(_ text: String, _ handle: OpaquePointer, _ index: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { bytes in
            sqlite3_bind_text(handle, index, UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self),
                              Int32(bytes.count), transient)
        }
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
            try run(statement, row, sql: table)
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
            try run(statement, row, sql: table)
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

    /// A JSON array of strings, for `json_each`, written byte by byte (ids rarely need escaping).
    static func jsonArray(_ texts: [String]) -> String {
        var json: [UInt8] = [UInt8(ascii: "[")]
        json.reserveCapacity(texts.reduce(2) { $0 + $1.utf8.count + 3 })
        let hex = Array("0123456789abcdef".utf8)
        for (index, text) in texts.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json.append(UInt8(ascii: "\""))
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    json.append(UInt8(ascii: "\\"))
                    json.append(byte)
                case 0..<0x20:
                    json.append(contentsOf: Array("\\u00".utf8))
                    json.append(hex[Int(byte >> 4)])
                    json.append(hex[Int(byte & 0x0F)])
                default:
                    json.append(byte)
                }
            }
            json.append(UInt8(ascii: "\""))
        }
        json.append(UInt8(ascii: "]"))
        return String(decoding: json, as: UTF8.self)
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
