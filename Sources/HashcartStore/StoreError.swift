/// Why the store could not open or do what was asked, in words an operator can act on.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No encryption key was configured; billing addresses cannot be read or written without one.
    case missingEncryptionKey
    /// The configured key is not 32 bytes of base64 or hex.
    case malformedEncryptionKey(String)
    /// The key does not open this store's data (it was created with another key).
    case wrongEncryptionKey
    /// A stored row could not be read back (corruption or tampering).
    case corruptRecord(table: String, id: String, detail: String)
    /// The data folder was written by a newer Hashcart.
    case schemaTooNew(String)
    /// A uniqueness rule was broken, e.g. a hashtag already used by a live offer.
    case conflict(String)
    case notFound(String)
    /// The database URL cannot be used (`--database`, `HASHCART_DATABASE_URL`).
    case badDatabaseURL(String)
    /// The database cannot be reached or refused the connection.
    case unavailable(String)
    /// The database refused a statement; the message is the server's own (never a value from the row).
    case database(String)

    public var description: String {
        switch self {
        case .missingEncryptionKey:
            "no encryption key: set HASHCART_ENCRYPTION_KEY (32 bytes, base64 or hex) or pass --encryption-key; billing addresses are encrypted at rest"
        case .malformedEncryptionKey(let detail):
            "the encryption key must be 32 bytes written as base64 (44 characters) or hex (64 characters): \(detail)"
        case .wrongEncryptionKey:
            "the encryption key does not match this data folder: it was created with a different key"
        case .corruptRecord(let table, let id, let detail):
            "stored \(table) row \(id) cannot be read: \(detail)"
        case .schemaTooNew(let migration):
            "this data folder was written by a newer Hashcart (unknown migration \(migration)); upgrade hashcart"
        case .conflict(let detail):
            detail
        case .notFound(let detail):
            detail
        case .badDatabaseURL(let detail):
            "the database URL cannot be used: \(detail) (expected postgres://user[:password]@host[:port]/database)"
        case .unavailable(let detail):
            "the database is unavailable: \(detail)"
        case .database(let detail):
            "the database refused a statement: \(detail)"
        }
    }
}
