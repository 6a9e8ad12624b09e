import Foundation
import GRDB
import GRDBSQLite

/// A row read straight from SQLite's C API. GRDB's `Row` lower-cases every column name into a
/// dictionary for each fetch; the purchase path fetches a few rows per event, so its hot look-ups
/// read columns by position instead. Valid only inside the closure it is passed to.
struct RawRow {
    let statement: OpaquePointer

    func int(_ index: Int32) -> Int64 { sqlite3_column_int64(statement, index) }
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(statement, index) == SQLITE_NULL }
    func optionalInt(_ index: Int32) -> Int64? { isNull(index) ? nil : int(index) }

    func text(_ index: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, index) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func optionalText(_ index: Int32) -> String? { isNull(index) ? nil : text(index) }

    func blob(_ index: Int32) -> Data {
        guard let pointer = sqlite3_column_blob(statement, index) else { return Data() }
        return Data(bytes: pointer, count: Int(sqlite3_column_bytes(statement, index)))
    }
}

extension Database {
    /// Runs a cached SELECT and decodes its rows with `decode`, at most `limit` of them.
    func fetchRaw<T>(_ sql: String, _ arguments: StatementArguments, limit: Int = 1, _ decode: (RawRow) throws -> T) throws -> [T] {
        let statement = try cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        let sqliteStatement = statement.sqliteStatement
        defer { sqlite3_reset(sqliteStatement) }
        var results: [T] = []
        while results.count < limit {
            let code = sqlite3_step(sqliteStatement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqliteConnection)), sql: sql)
            }
            results.append(try decode(RawRow(statement: sqliteStatement)))
        }
        return results
    }

    func fetchFirstRaw<T>(_ sql: String, _ arguments: StatementArguments, _ decode: (RawRow) throws -> T) throws -> T? {
        try fetchRaw(sql, arguments, limit: 1, decode).first
    }
}
