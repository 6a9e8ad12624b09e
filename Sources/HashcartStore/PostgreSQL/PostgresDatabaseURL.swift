import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store lives: parsed from `postgres://user[:password]@host[:port]/database`
/// (`postgresql://` too), as given to `--database` or `HASHCART_DATABASE_URL`.
///
/// Query options: `sslmode=disable|require` (default `disable`; `require` verifies the server's
/// certificate), `schema=NAME` (default `public`: one database can hold several Hashcarts, one
/// per schema), `pool=N` (connections per process, 1–64, default 8), `acquire_timeout=S` (how
/// long a store call may wait for a free connection before it fails as unavailable, 1–600 s,
/// default 30).
public struct PostgresDatabaseURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var schema: String
    public var requireTLS: Bool
    public var poolSize: Int
    /// Seconds a store call waits for a free connection (``StoreError/unavailable(_:)`` after).
    public var acquireTimeoutSeconds: Int

    /// Whether `text` names a PostgreSQL database (rather than, say, a folder).
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws(StoreError) {
        guard text.utf8.count <= 2_048 else { throw .badDatabaseURL("longer than 2048 bytes") }
        guard Self.isPostgresURL(text) else { throw .badDatabaseURL("it must start with postgres:// or postgresql://") }
        guard let components = URLComponents(string: text) else { throw .badDatabaseURL("it is not a URL") }
        guard let host = components.host, !host.isEmpty else { throw .badDatabaseURL("no host") }
        self.host = host
        port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw .badDatabaseURL("port \(port) is out of range") }
        guard let user = components.user, !user.isEmpty else { throw .badDatabaseURL("no user name") }
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else { throw .badDatabaseURL("no database name") }
        database = path.removingPercentEncoding ?? path
        schema = "public"
        requireTLS = false
        poolSize = 8
        acquireTimeoutSeconds = 30
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                switch value {
                case "disable": requireTLS = false
                case "require", "verify-full": requireTLS = true
                default: throw .badDatabaseURL("sslmode must be disable or require, not \(value.prefix(40))")
                }
            case "schema":
                guard Self.isIdentifier(value) else {
                    throw .badDatabaseURL("schema must be 1–48 lowercase letters, digits or underscores, starting with a letter")
                }
                schema = value
            case "pool":
                guard let size = Int(value), (1...64).contains(size) else { throw .badDatabaseURL("pool must be between 1 and 64") }
                poolSize = size
            case "acquire_timeout":
                guard let seconds = Int(value), (1...600).contains(seconds) else {
                    throw .badDatabaseURL("acquire_timeout must be between 1 and 600 seconds")
                }
                acquireTimeoutSeconds = seconds
            default:
                throw .badDatabaseURL("unknown option \(item.name.prefix(40)) (known: sslmode, schema, pool, acquire_timeout)")
            }
        }
    }

    /// The same database with test mode's schema: `hashcart_test` for the `public` schema,
    /// `NAME_test` for `schema=NAME`. Test mode's store never shares a table with live mode's.
    public var testMode: PostgresDatabaseURL {
        var url = self
        url.schema = schema == "public" ? "hashcart_test" : schema + "_test"
        return url
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first), text.utf8.count <= 48 else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// The URL without its password, for logs.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)" + (schema == "public" ? "" : "?schema=\(schema)")
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if requireTLS {
            do {
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            } catch {
                throw StoreError.unavailable("TLS could not be set up: \(error)")
            }
        } else {
            tls = .disable
        }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}
