import Foundation
import HashcartCore
import PostgresNIO

/// The PostgreSQL side of ``SQLSession``, on one pooled connection inside its transaction.
/// Bulk statements are one round trip each: rows travel as one array per column and come out
/// of `unnest`, so a thousand purchases are inserted by one statement.
final class PostgresSQLSession: SQLSession {
    let session: PostgresSession
    /// What the store's locks are named within (its schema), so Hashcarts on one server do not wait on each other.
    let lockScope: String

    init(_ session: PostgresSession, lockScope: String = "") {
        self.session = session
        self.lockScope = lockScope
    }

    var dialect: SQLDialect { .postgres }

    @discardableResult
    func execute(_ sql: String, _ values: [SQLValue]) throws -> Int {
        try session.execute(sql, values)
    }

    func query<T>(_ sql: String, _ values: [SQLValue], limit: Int, _ decode: (any SQLRow) throws -> T) throws -> [T] {
        let rows = try session.query(sql, values)
        guard !rows.isEmpty else { return [] }
        let table = Self.table(of: sql)
        var results: [T] = []
        results.reserveCapacity(min(rows.count, limit))
        for row in rows.prefix(limit) { results.append(try decode(PostgresRowReader(row: row, table: table))) }
        return results
    }

    @discardableResult
    func insertMany(into table: String, columns: [SQLColumn], rows: [[SQLValue]], suffix: String) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let arrays = Self.arrays(columns: columns, rows: rows, table: table)
        return try session.execute("""
            INSERT INTO \(table) (\(StoreRows.names(columns)))
            SELECT \(arrays.map(\.expression).joined(separator: ", "))
            FROM unnest(\(arrays.map(\.parameter).joined(separator: ", "))) WITH ORDINALITY
                AS v(\(StoreRows.names(columns)), hc_position)
            ORDER BY hc_position
            \(suffix)
            """, arrays.map(\.value))
    }

    @discardableResult
    func updateMany(_ table: String, columns: [SQLColumn], rows: [[SQLValue]], condition: ((String) -> String)?) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let arrays = Self.arrays(columns: columns, rows: rows, table: table)
        let assignments = zip(columns, arrays).dropFirst().map { "\($0.0.name) = \($0.1.expression)" }.joined(separator: ", ")
        return try session.execute("""
            UPDATE \(table) t SET \(assignments)
            FROM unnest(\(arrays.map(\.parameter).joined(separator: ", "))) AS v(\(StoreRows.names(columns)))
            WHERE t.\(columns[0].name) = \(arrays[0].expression)\(condition.map { " AND " + $0("t") } ?? "")
            """, arrays.map(\.value))
    }

    func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PostgresServerError)?.isUniqueViolation == true
    }

    func tryTransactionLock(_ name: String) throws -> Bool {
        try queryOne("SELECT pg_try_advisory_xact_lock($1)", [.int(PostgresStore.lockKey(name + ":" + lockScope))]) { try $0.bool(0) } ?? false
    }

    /// One column's values as one array parameter, and how the statement reads it back.
    private struct ColumnArray {
        var parameter: String
        var expression: String
        var value: SQLValue
    }

    /// PostgresNIO has no array-of-optional encoder: a column with a NULL (or of booleans)
    /// travels as text, NULL as ``PostgresNullMarker``, and is cast back in the statement.
    private static func arrays(columns: [SQLColumn], rows: [[SQLValue]], table: String) -> [ColumnArray] {
        for row in rows { precondition(row.count == columns.count, "a row of \(table) has \(row.count) values for \(columns.count) columns") }
        return columns.enumerated().map { index, column in
            let number = index + 1
            let name = "v.\(column.name)"
            let values = rows.map { $0[index] }
            let hasNull = values.contains { $0.isNull }
            switch column.type {
            case .int where !hasNull:
                return ColumnArray(parameter: "$\(number)::bigint[]", expression: name,
                                   value: .ints(values.map { if case .int(let v) = $0 { v } else { preconditionFailure("\(table).\(column.name) is an integer") } }))
            case .text where !hasNull:
                return ColumnArray(parameter: "$\(number)::text[]", expression: name,
                                   value: .texts(values.map { if case .text(let v) = $0 { v } else { preconditionFailure("\(table).\(column.name) is text") } }))
            default:
                let texts = values.map { value -> String in
                    switch value {
                    case .null: PostgresNullMarker.text
                    case .int(let v): String(v)
                    case .text(let v): v
                    case .bool(let v): v ? "t" : "f"
                    case .blob(let v): Self.hex(v)
                    default: preconditionFailure("\(table).\(column.name) cannot be written in bulk")
                    }
                }
                let expression = switch column.type {
                case .text: PostgresNullMarker.column(name)
                case .blob: "decode(\(PostgresNullMarker.column(name)), 'hex')"
                case .int, .bool: PostgresNullMarker.column(name) + "::\(column.type.postgresName)"
                }
                return ColumnArray(parameter: "$\(number)::text[]", expression: expression, value: .texts(texts))
            }
        }
    }

    /// Bytes as lowercase hex, for `decode(…, 'hex')`.
    static func hex(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 2)
        for byte in data {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first table a statement reads, for error messages.
    static func table(of sql: String) -> String {
        guard let from = sql.range(of: "FROM ") ?? sql.range(of: "INTO ") ?? sql.range(of: "UPDATE ") else { return "row" }
        return String(sql[from.upperBound...].prefix { $0.isLetter || $0 == "_" })
    }
}

extension PostgresRowReader: SQLRow {
    var columnCount: Int { row.count }

    func auditValue(_ index: Int) -> AuditValue {
        let cell = row[index]
        guard cell.bytes != nil else { return .null }
        if let value = try? cell.decode(Int64.self) { return .int(value) }
        if let value = try? cell.decode(String.self) { return .text(value) }
        return .null
    }
}

extension SQLValue: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) {
        switch self {
        case .null: bindings.appendNull()
        case .int(let int): bindings.append(int)
        case .text(let text): bindings.append(text)
        case .blob(let data): bindings.append(ByteBuffer(bytes: data))
        case .bool(let bool): bindings.append(bool)
        case .texts(let texts): bindings.append(texts)
        case .ints(let ints): bindings.append(ints)
        }
    }
}

/// One result row, read by position; a value of the wrong type is a ``StoreError/corruptRecord(table:id:detail:)``.
struct PostgresRowReader {
    let row: PostgresRandomAccessRow
    let table: String

    private func decode<T: PostgresDecodable>(_ index: Int, _ type: T.Type) throws -> T {
        do {
            return try row[index].decode(T.self)
        } catch {
            let id = (try? row[0].decode(String.self)) ?? "?"
            throw StoreError.corruptRecord(table: table, id: id, detail: "column \(row[index].columnName) is not a \(T.self)")
        }
    }

    func text(_ index: Int) throws -> String { try decode(index, String.self) }
    func optionalText(_ index: Int) throws -> String? { try decode(index, String?.self) }
    func int(_ index: Int) throws -> Int64 { try decode(index, Int64.self) }
    func optionalInt(_ index: Int) throws -> Int64? { try decode(index, Int64?.self) }
    func data(_ index: Int) throws -> Data { try decode(index, Data.self) }
    func optionalData(_ index: Int) throws -> Data? { try decode(index, Data?.self) }
    func bool(_ index: Int) throws -> Bool { try decode(index, Bool.self) }
    func instant(_ index: Int) throws -> Instant { Instant(millisecondsSinceEpoch: try int(index)) }
    func optionalInstant(_ index: Int) throws -> Instant? { try optionalInt(index).map(Instant.init(millisecondsSinceEpoch:)) }
}

