import Foundation
import HashcartCore

/// A value bound to a statement, the same for both stores. Each backend's ``SQLSession`` turns it
/// into its own binding (GRDB's `DatabaseValue`, PostgresNIO's `PostgresBindable`).
enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
    case blob(Data)
    case bool(Bool)
    /// A list of texts, for a `column \(dialect.any(n))` test (``SQLDialect/any(_:_:)``).
    case texts([String])
    /// A list of integers, for a `column \(dialect.any(n, .int))` test.
    case ints([Int64])

    init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    init(_ value: Int64?) { self = value.map(SQLValue.int) ?? .null }
    init(_ value: Int) { self = .int(Int64(value)) }
    init(_ value: Instant?) { self = value.map { .int($0.millisecondsSinceEpoch) } ?? .null }
    init(_ value: Bool) { self = .bool(value) }
    init(_ value: Data) { self = .blob(value) }

    var isNull: Bool { if case .null = self { true } else { false } }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    init(stringLiteral value: String) { self = .text(value) }
    init(integerLiteral value: Int64) { self = .int(value) }
}

/// The type of a column, as bulk statements need to name it (PostgreSQL casts each array).
enum SQLType: Sendable, Hashable {
    case text, int, bool, blob

    var postgresName: String {
        switch self {
        case .text: "text"
        case .int: "bigint"
        case .bool: "boolean"
        case .blob: "bytea"
        }
    }
}

/// A column a bulk statement writes.
struct SQLColumn: Sendable, Hashable, ExpressibleByStringLiteral {
    var name: String
    var type: SQLType

    init(_ name: String, _ type: SQLType) {
        self.name = name
        self.type = type
    }

    /// `"name"` is a text column, `"name:int"` an integer one, `"name:bool"` a boolean one, `"name:blob"` bytes.
    init(stringLiteral value: String) {
        let parts = value.split(separator: ":")
        name = String(parts[0])
        switch parts.count > 1 ? parts[1] : "text" {
        case "text": type = .text
        case "int": type = .int
        case "bool": type = .bool
        case "blob": type = .blob
        default: preconditionFailure("unknown column type in \(value)")
        }
    }

    /// Columns from a comma-separated list in the same notation.
    static func list(_ names: String) -> [SQLColumn] {
        names.split(separator: ",").map { SQLColumn(stringLiteral: $0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
