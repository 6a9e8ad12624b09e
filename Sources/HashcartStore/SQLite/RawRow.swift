import Foundation
import GRDB
import GRDBSQLite

/// A row read straight from SQLite's C API. GRDB's `Row` lower-cases every column name into a
/// dictionary for each fetch; the purchase path fetches a few rows per event, so its hot look-ups
/// read columns by position instead (``SQLiteSession``). Valid only inside the closure it is passed to.
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
