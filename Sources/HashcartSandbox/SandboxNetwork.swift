import Foundation
import GRDB
import HashcartCore

/// An account on the sandbox network.
public struct SandboxAccount: Sendable, Hashable, Codable {
    public var id: String
    public var handle: String
}

/// A post on the sandbox network (posts, replies, reposts and quotes are all posts).
public struct SandboxPost: Sendable, Hashable, Codable {
    public var id: String
    public var authorID: String
    public var authorHandle: String
    public var kind: NetworkEventKind
    public var text: String
    /// The post replied to, reposted or quoted.
    public var referencedPostID: String?
    public var deleted: Bool
    public var createdAt: Instant
}

/// Why the sandbox refused an action.
public enum SandboxError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidHandle(String)
    case handleTaken(String)
    case unknownAccount(String)
    case unknownPost(String)
    case notAuthor(String)
    case postDeleted(String)
    case textTooLong(Int)

    public var description: String {
        switch self {
        case .invalidHandle(let handle): "handle \"\(handle.prefix(40))\" must be 1 to 30 letters, digits or _"
        case .handleTaken(let handle): "handle @\(handle) is taken"
        case .unknownAccount(let id): "no sandbox account \(id.prefix(64))"
        case .unknownPost(let id): "no sandbox post \(id.prefix(64))"
        case .notAuthor(let id): "only the author can delete post \(id)"
        case .postDeleted(let id): "post \(id) was deleted"
        case .textTooLong(let max): "text must be at most \(max) characters"
        }
    }
}

/// The built-in social network: accounts, posts, replies, reposts, quotes and deletes, durable in
/// its own SQLite file beside the store. Every action appends to an ordered event feed that the
/// ``SandboxConnector`` serves to the engine, like a real network's stream.
public final class SandboxNetwork: Sendable {
    let queue: DatabaseQueue
    let clock: any WallClock
    public let official: SandboxAccount

    public static let fileName = "sandbox.sqlite"
    public static let officialHandle = "HashcartOffers"
    public static let maximumTextLength = 500

    public init(directory: String, clock: any WallClock) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL") }
        queue = try DatabaseQueue(path: (directory as NSString).appendingPathComponent(Self.fileName), configuration: configuration)
        self.clock = clock
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-sandbox") { db in
            try db.execute(sql: """
                CREATE TABLE accounts (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, handle TEXT NOT NULL,
                    handle_key TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
                CREATE TABLE posts (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, author_id TEXT NOT NULL,
                    kind TEXT NOT NULL, text TEXT NOT NULL, ref_post_id TEXT, idempotency_key TEXT UNIQUE,
                    deleted INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
                CREATE INDEX posts_author ON posts(author_id, seq);
                CREATE INDEX posts_ref ON posts(ref_post_id, seq);
                -- The feed: one row per action, in order. A delete is an event, not a post.
                CREATE TABLE feed (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, kind TEXT NOT NULL,
                    author_id TEXT NOT NULL, post_id TEXT NOT NULL, created_at INTEGER NOT NULL);
                """)
        }
        migrator.registerMigration("v2-account-tokens") { db in
            try db.execute(sql: """
                -- Each account created over the API gets one bearer token (only its SHA-256 is kept)
                -- and remembers who created it: `operator` or `merchant:<id>` (test mode).
                CREATE TABLE account_tokens (account_id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL UNIQUE,
                    creator TEXT NOT NULL, created_at INTEGER NOT NULL);
                """)
        }
        // Several processes may open one sandbox at once (instances sharing a network): GRDB's
        // migrator reads which migrations ran before it takes the write lock, so two first opens
        // would both create the tables. An exclusive lock on a file beside the database makes
        // the check and the migration one step across processes.
        let lockPath = (directory as NSString).appendingPathComponent(Self.fileName + ".migrate-lock")
        let lock = open(lockPath, O_CREAT | O_RDWR, 0o600)
        guard lock >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: lockPath]) }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw CocoaError(.fileLocking, userInfo: [NSFilePathErrorKey: lockPath]) }
        defer { flock(lock, LOCK_UN) }
        try migrator.migrate(queue)
        let now = clock.now()
        official = try queue.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT id, handle FROM accounts WHERE handle_key = ?", arguments: [Self.officialHandle.lowercased()]) {
                return SandboxAccount(id: row[0], handle: row[1])
            }
            return try Self.insertAccount(handle: Self.officialHandle, db: db, now: now)
        }
    }

    static func insertAccount(handle: String, db: Database, now: Instant) throws -> SandboxAccount {
        let seq = (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM accounts"))!
        let account = SandboxAccount(id: "u\(seq)", handle: handle)
        do {
            try db.execute(sql: "INSERT INTO accounts (seq, id, handle, handle_key, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [seq, account.id, handle, handle.lowercased(), now.millisecondsSinceEpoch])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw SandboxError.handleTaken(handle)
        }
        return account
    }

    /// Creates an account; handles are 1–30 letters, digits or `_`, unique case-insensitively.
    public func createAccount(handle rawHandle: String) throws -> SandboxAccount {
        let handle = try Self.validHandle(rawHandle)
        let now = clock.now()
        return try queue.write { db in try Self.insertAccount(handle: handle, db: db, now: now) }
    }

    /// A handle without its `@`, if it is 1–30 ASCII letters, digits or `_`.
    static func validHandle(_ rawHandle: String) throws -> String {
        let handle = rawHandle.hasPrefix("@") ? String(rawHandle.dropFirst()) : rawHandle
        guard (1...30).contains(handle.count), handle.allSatisfy({ ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }) else {
            throw SandboxError.invalidHandle(rawHandle)
        }
        return handle
    }

    /// Creates an account with its bearer token: only `secretHash` (the token's SHA-256) is kept,
    /// with `creator`, who made it (`operator` or `merchant:<id>`), so that only they and the
    /// token's holder may act as it.
    public func createAccount(handle: String, tokenHash secretHash: [UInt8], creator: String) throws -> SandboxAccount {
        precondition(secretHash.count == 32 && !creator.isEmpty, "a sandbox token is a SHA-256 and has a creator")
        let handle = try Self.validHandle(handle)
        let now = clock.now()
        return try queue.write { db in
            let account = try Self.insertAccount(handle: handle, db: db, now: now)
            try db.execute(sql: "INSERT INTO account_tokens (account_id, secret_hash, creator, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [account.id, Data(secretHash), creator, now.millisecondsSinceEpoch])
            return account
        }
    }

    /// The account a token's SHA-256 acts as, or nil.
    public func account(tokenHash secretHash: [UInt8]) throws -> SandboxAccount? {
        try queue.read { db in
            try Row.fetchOne(db, sql: """
                SELECT a.id, a.handle FROM account_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.secret_hash = ?
                """, arguments: [Data(secretHash)]).map { SandboxAccount(id: $0[0], handle: $0[1]) }
        }
    }

    /// Who created an account over the API (`operator` or `merchant:<id>`); nil for accounts made
    /// in process (the demo, the simulator) and the official account.
    public func creator(ofAccount id: String) throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: "SELECT creator FROM account_tokens WHERE account_id = ?", arguments: [id]) }
    }

    public func account(id: String) throws -> SandboxAccount? {
        try queue.read { db in try Self.account(id: id, db: db) }
    }

    static func account(id: String, db: Database) throws -> SandboxAccount? {
        try Row.fetchOne(db, sql: "SELECT id, handle FROM accounts WHERE id = ?", arguments: [id]).map { SandboxAccount(id: $0[0], handle: $0[1]) }
    }

    /// Posts `text`; with `inReplyTo` it is a reply, with `quoting` a quote.
    @discardableResult
    public func post(authorID: String, text: String, inReplyTo: String? = nil, quoting: String? = nil) throws -> SandboxPost {
        guard text.count <= Self.maximumTextLength else { throw SandboxError.textTooLong(Self.maximumTextLength) }
        let kind: NetworkEventKind = inReplyTo != nil ? .reply : quoting != nil ? .quote : .post
        return try append(kind: kind, authorID: authorID, text: text, referencedPostID: inReplyTo ?? quoting, idempotencyKey: nil)
    }

    /// Reposts (boosts, retweets) a post.
    @discardableResult
    public func repost(authorID: String, postID: String) throws -> SandboxPost {
        try append(kind: .repost, authorID: authorID, text: "", referencedPostID: postID, idempotencyKey: nil)
    }

    /// Posts from the official account as a reply; the same idempotency key returns the first post.
    public func officialReply(to postID: String, text: String, idempotencyKey: String) throws -> SandboxPost {
        guard text.count <= Self.maximumTextLength else { throw SandboxError.textTooLong(Self.maximumTextLength) }
        return try append(kind: .reply, authorID: official.id, text: text, referencedPostID: postID, idempotencyKey: idempotencyKey)
    }

    /// A post of the official account's own (an offer's announcement); the same key returns the first.
    public func officialPost(text: String, idempotencyKey: String) throws -> SandboxPost {
        guard text.count <= Self.maximumTextLength else { throw SandboxError.textTooLong(Self.maximumTextLength) }
        return try append(kind: .post, authorID: official.id, text: text, referencedPostID: nil, idempotencyKey: idempotencyKey)
    }

    private func append(kind: NetworkEventKind, authorID: String, text: String, referencedPostID: String?, idempotencyKey: String?) throws -> SandboxPost {
        let now = clock.now()
        return try queue.write { db in
            if let idempotencyKey, let existing = try Self.post(where: "p.idempotency_key = ?", idempotencyKey, db: db) {
                return existing
            }
            guard let author = try Self.account(id: authorID, db: db) else { throw SandboxError.unknownAccount(authorID) }
            if let referencedPostID {
                guard let target = try Self.post(where: "p.id = ?", referencedPostID, db: db) else {
                    throw SandboxError.unknownPost(referencedPostID)
                }
                guard !target.deleted else { throw SandboxError.postDeleted(referencedPostID) }
            }
            let seq = (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM posts"))!
            let post = SandboxPost(id: "p\(seq)", authorID: author.id, authorHandle: author.handle, kind: kind, text: text,
                                   referencedPostID: referencedPostID, deleted: false, createdAt: now)
            try db.execute(sql: "INSERT INTO posts (seq, id, author_id, kind, text, ref_post_id, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [seq, post.id, author.id, kind.rawValue, text, referencedPostID, idempotencyKey, now.millisecondsSinceEpoch])
            try db.execute(sql: "INSERT INTO feed (event_id, kind, author_id, post_id, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [post.id, kind.rawValue, author.id, post.id, now.millisecondsSinceEpoch])
            return post
        }
    }

    /// Deletes a post (only its author can).
    public func delete(authorID: String, postID: String) throws {
        let now = clock.now()
        try queue.write { db in
            guard let post = try Self.post(where: "p.id = ?", postID, db: db) else { throw SandboxError.unknownPost(postID) }
            guard post.authorID == authorID else { throw SandboxError.notAuthor(postID) }
            guard !post.deleted else { return }
            try db.execute(sql: "UPDATE posts SET deleted = 1 WHERE id = ?", arguments: [postID])
            try db.execute(sql: "INSERT INTO feed (event_id, kind, author_id, post_id, created_at) VALUES (?, 'delete', ?, ?, ?)",
                           arguments: ["del-\(postID)", authorID, postID, now.millisecondsSinceEpoch])
        }
    }

    static let postColumns = "p.id, p.author_id, a.handle, p.kind, p.text, p.ref_post_id, p.deleted, p.created_at"

    static func post(from row: Row) -> SandboxPost {
        SandboxPost(id: row[0], authorID: row[1], authorHandle: row[2], kind: NetworkEventKind(rawValue: row[3]) ?? .post,
                    text: row[4], referencedPostID: row[5], deleted: row[6], createdAt: Instant(millisecondsSinceEpoch: row[7]))
    }

    static func post(where condition: String, _ value: String, db: Database) throws -> SandboxPost? {
        try Row.fetchOne(db, sql: "SELECT \(postColumns) FROM posts p JOIN accounts a ON a.id = p.author_id WHERE \(condition)",
                         arguments: [value]).map(post(from:))
    }

    public func post(id: String) throws -> SandboxPost? {
        try queue.read { db in try Self.post(where: "p.id = ?", id, db: db) }
    }

    /// Posts, newest last, optionally only by one author or in reply to one post; at most `limit` (≤ 1000).
    public func posts(authorID: String? = nil, inReplyTo: String? = nil, afterPostID: String? = nil, limit: Int = 100) throws -> [SandboxPost] {
        let limit = max(1, min(limit, 1_000))
        return try queue.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let authorID { conditions.append("p.author_id = ?"); arguments.append(authorID) }
            if let inReplyTo { conditions.append("p.ref_post_id = ? AND p.kind = 'reply'"); arguments.append(inReplyTo) }
            if let afterPostID, let seq = Int64(afterPostID.dropFirst()) { conditions.append("p.seq > ?"); arguments.append(seq) }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: "SELECT \(Self.postColumns) FROM posts p JOIN accounts a ON a.id = p.author_id \(whereClause) ORDER BY p.seq LIMIT \(limit)",
                                    arguments: StatementArguments(arguments)).map(Self.post(from:))
        }
    }

    /// The feed after `cursor` (a sequence number), as normalized events.
    public func events(after cursor: Int64, limit: Int) throws -> (events: [NetworkEvent], last: Int64) {
        try queue.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT f.seq, f.event_id, f.kind, f.author_id, a.handle, f.post_id, f.created_at, p.text, p.ref_post_id, r.author_id
                FROM feed f JOIN accounts a ON a.id = f.author_id JOIN posts p ON p.id = f.post_id
                LEFT JOIN posts r ON r.id = p.ref_post_id
                WHERE f.seq > ? ORDER BY f.seq LIMIT ?
                """, arguments: [cursor, limit])
            var last = cursor
            let events = rows.map { row -> NetworkEvent in
                last = row[0]
                let kind = NetworkEventKind(rawValue: row[2]) ?? .post
                let author = SocialIdentity(network: .sandbox, userID: row[3], handle: "@" + (row[4] as String))
                let createdAt = Instant(millisecondsSinceEpoch: row[6])
                if kind == .delete {
                    return NetworkEvent(network: .sandbox, eventID: row[1], kind: .delete, author: author,
                                        referencedPostID: row[5], createdAt: createdAt)
                }
                return NetworkEvent(network: .sandbox, eventID: row[1], kind: kind, author: author, text: row[7],
                                    referencedPostID: row[8], referencedAuthorID: row[9], createdAt: createdAt)
            }
            return (events, last)
        }
    }
}

/// The engine's connector to the sandbox network.
public struct SandboxConnector: NetworkConnector {
    public let sandbox: SandboxNetwork

    public init(sandbox: SandboxNetwork) {
        self.sandbox = sandbox
    }

    public var network: NetworkName { .sandbox }
    public var officialAccountID: String { sandbox.official.id }

    public func events(after cursor: String?, limit: Int) async throws -> EventPage {
        let start: Int64
        if let cursor {
            guard let value = Int64(cursor), value >= 0 else {
                throw ConnectorError(network: .sandbox, message: "cursor \"\(cursor.prefix(40))\" is not a sandbox sequence number", isRetryable: false)
            }
            start = value
        } else {
            start = 0
        }
        let page = try sandbox.events(after: start, limit: limit)
        return EventPage(events: page.events, nextCursor: String(page.last))
    }

    public func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        try posted { try sandbox.officialReply(to: postID, text: text, idempotencyKey: idempotencyKey) }
    }

    public func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        try posted { try sandbox.officialPost(text: text, idempotencyKey: idempotencyKey) }
    }

    /// A post the sandbox made, or its refusal as a connector error (never worth retrying).
    private func posted(_ make: () throws -> SandboxPost) throws -> PostedReply {
        do {
            let post = try make()
            return PostedReply(postID: post.id, createdAt: post.createdAt)
        } catch let error as SandboxError {
            throw ConnectorError(network: .sandbox, message: error.description, isRetryable: false)
        }
    }
}
