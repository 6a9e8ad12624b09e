import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// A bounded pool of PostgresNIO connections for the store's connection threads.
///
/// The unit of work is synchronous over its connection, so it runs on ``PostgresStore``'s own
/// threads (one per connection), which wait on the connection's `EventLoopFuture`s while
/// SwiftNIO's event loop threads do the I/O. It must never be called from an event loop thread
/// (PostgresNIO's `wait()` stops the process if it is) nor from Swift's cooperative pool. At most
/// ``capacity`` connections are open; with one thread per connection a thread never waits for one
/// (callers wait, suspended, in ``PostgresStore``, up to the URL's `acquire_timeout`). A
/// connection that broke is dropped and replaced on the next use.
final class PostgresConnectionPool: Sendable {
    let url: PostgresDatabaseURL
    let capacity: Int
    let logger: Logger

    private let configuration: PostgresConnection.Configuration
    private let idle = Mutex<[PostgresConnection]>([])
    private let permits: DispatchSemaphore
    private let nextID = Atomic<Int>(1)

    init(url: PostgresDatabaseURL, logger: Logger) throws {
        self.url = url
        capacity = url.poolSize
        self.logger = logger
        configuration = try url.connectionConfiguration()
        permits = DispatchSemaphore(value: url.poolSize)
    }

    /// Runs `body` on a connection of its own. A connection whose `body` threw while it was
    /// still open is handed back only if `reusable` says so (a transaction rolled back cleanly).
    @discardableResult
    func withConnection<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        guard permits.wait(timeout: .now() + .seconds(url.acquireTimeoutSeconds)) == .success else {
            throw StoreError.unavailable("all \(capacity) connections to \(url) stayed busy for \(url.acquireTimeoutSeconds) s")
        }
        defer { permits.signal() }
        let connection = try idle.withLock { $0.popLast() } ?? connect()
        let session = PostgresSession(connection: connection, logger: logger)
        do {
            let result = try body(session)
            giveBack(session)
            return result
        } catch {
            giveBack(session)
            throw error
        }
    }

    private func giveBack(_ session: PostgresSession) {
        if session.connection.isClosed || session.isBroken {
            try? session.connection.close().wait()
        } else {
            idle.withLock { $0.append(session.connection) }
        }
    }

    private func connect() throws -> PostgresConnection {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                        id: id, logger: logger).wait()
        } catch {
            throw StoreError.unavailable("cannot connect to \(url): \(PostgresSession.describe(error))")
        }
        let session = PostgresSession(connection: connection, logger: logger)
        do {
            // Unqualified names resolve to this store's schema only.
            try session.execute("SET search_path TO \(url.schema)")
        } catch {
            try? connection.close().wait()
            throw error
        }
        return connection
    }

    deinit {
        close()
    }

    /// Closes every idle connection (connections in use close when handed back).
    func close() {
        let connections = idle.withLock { idle in
            defer { idle.removeAll() }
            return idle
        }
        for connection in connections { try? connection.close().wait() }
    }
}

/// One connection in use, with the few calls the store makes: statements with positional
/// parameters (`$1`, `$2`, …) whose rows come back for random access.
final class PostgresSession {
    let connection: PostgresConnection
    let logger: Logger
    /// Set when a statement failed in a way that leaves the connection unusable.
    private(set) var isBroken = false

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Runs one statement; returns its rows.
    @discardableResult
    func query(_ sql: String, _ values: [any PostgresBindable] = []) throws -> [PostgresRandomAccessRow] {
        try run(sql, values).rows.map { $0.makeRandomAccess() }
    }

    /// Runs one statement; returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ values: [any PostgresBindable] = []) throws -> Int {
        try run(sql, values).metadata.rows ?? 0
    }

    private func run(_ sql: String, _ values: [any PostgresBindable]) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { value.bind(into: &bindings) }
        do {
            return try connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).wait()
        } catch let error as PSQLError {
            if error.serverInfo == nil { isBroken = true }
            throw Self.translate(error)
        } catch {
            isBroken = true
            throw StoreError.unavailable(Self.describe(error))
        }
    }

    static func translate(_ error: PSQLError) -> any Error {
        guard let info = error.serverInfo else { return StoreError.unavailable(describe(error)) }
        return PostgresServerError(sqlState: info[.sqlState] ?? "", message: info[.message] ?? "unknown error",
                                   constraint: info[.constraintName])
    }

    /// PSQLError hides its details from `description` (they may hold data); this names the cause.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}

/// An error the PostgreSQL server returned, with its SQLSTATE code and message.
struct PostgresServerError: Error, CustomStringConvertible {
    var sqlState: String
    var message: String
    var constraint: String?

    var isUniqueViolation: Bool { sqlState == "23505" }
    var description: String { StoreError.database("\(message) (SQLSTATE \(sqlState))").description }
}

/// A value that can be a statement parameter.
protocol PostgresBindable {
    func bind(into bindings: inout PostgresBindings)
}

extension String: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Int64: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Int: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(Int64(self)) }
}

extension Bool: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Data: PostgresBindable {
    func bind(into bindings: inout PostgresBindings) { bindings.append(ByteBuffer(bytes: self)) }
}

extension Array: PostgresBindable where Element: PostgresArrayElement {
    func bind(into bindings: inout PostgresBindings) { Element.bindArray(self, into: &bindings) }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable & PostgresNullType {
    func bind(into bindings: inout PostgresBindings) {
        switch self {
        case .some(let value): value.bind(into: &bindings)
        case .none: Wrapped.bindNull(into: &bindings)
        }
    }
}

/// How a type's NULL is typed, so the server knows what a NULL parameter is.
protocol PostgresNullType {
    static func bindNull(into bindings: inout PostgresBindings)
}

extension String: PostgresNullType {
    static func bindNull(into bindings: inout PostgresBindings) { bindings.append(String?.none) }
}

extension Int64: PostgresNullType {
    static func bindNull(into bindings: inout PostgresBindings) { bindings.append(Int64?.none) }
}

extension Data: PostgresNullType {
    static func bindNull(into bindings: inout PostgresBindings) { bindings.append(ByteBuffer?.none) }
}

/// Element types that bind as PostgreSQL arrays (for `unnest`-based bulk statements).
protocol PostgresArrayElement {
    static func bindArray(_ values: [Self], into bindings: inout PostgresBindings)
}

extension String: PostgresArrayElement {
    static func bindArray(_ values: [String], into bindings: inout PostgresBindings) { bindings.append(values) }
}

extension Int64: PostgresArrayElement {
    static func bindArray(_ values: [Int64], into bindings: inout PostgresBindings) { bindings.append(values) }
}

extension Optional: PostgresArrayElement where Wrapped == String {
    static func bindArray(_ values: [String?], into bindings: inout PostgresBindings) {
        // PostgresNIO has no array-of-optional encoder: NULLs travel as a marker and are turned
        // back into NULL by `NULLIF(x, E'\u{1}')` in the statement.
        bindings.append(values.map { $0 ?? PostgresNullMarker.text })
    }
}

/// Stands for NULL inside text arrays (no valid id or text Hashcart stores contains U+0001).
enum PostgresNullMarker {
    static let text = "\u{1}"
    static func column(_ expression: String) -> String { "NULLIF(\(expression), E'\\x01')" }
}
