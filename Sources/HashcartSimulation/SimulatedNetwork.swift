import HashcartCore
import Synchronization

/// A post on the simulated network, as the network knows it (the truth the checks compare with).
struct SimulatedPost: Sendable, Hashable {
    var id: String
    var authorID: String
    var kind: NetworkEventKind
    var text: String
    var referencedPostID: String?
    var createdAt: Instant
    var deletedAt: Instant?
}

/// An event on its way to the engine, and when the network will let it through.
struct InFlightEvent: Sendable {
    var event: NetworkEvent
    /// Not delivered before this time (a delay, a drop that a reconnect redelivers later).
    var notBefore: Instant
}

/// The simulated social network: accounts, posts and deletes in memory, and the delivery log the
/// engine reads through ``SimulatedConnector``. Every action becomes an in-flight event; the
/// simulator decides when (and how many times, in what order) each reaches the log. The cursor is
/// a position in the log, so a restarted engine reads on from where its last commit left off.
///
/// The network outlives the engine's crashes: it is another company's service.
final class SimulatedNetwork: Sendable {
    struct State {
        var handles: [String: String] = [:]
        var posts: [String: SimulatedPost] = [:]
        var postOrder: [String] = []
        var repliesByKey: [String: String] = [:]
        var inFlight: [InFlightEvent] = []
        var log: [NetworkEvent] = []
        /// When each event id first reached the log.
        var firstDelivered: [String: Instant] = [:]
    }

    static let officialID = "u0"
    static let officialHandle = "HashcartOffers"
    static let maximumLogLength = 1_000_000

    let state = Mutex(State())
    let clock: any WallClock

    init(clock: any WallClock) {
        self.clock = clock
        state.withLock { $0.handles[Self.officialID] = Self.officialHandle }
    }

    func createAccount(id: String, handle: String) {
        state.withLock {
            precondition($0.handles[id] == nil, "account ids are unique")
            $0.handles[id] = handle
        }
    }

    func handle(of accountID: String) -> String { state.withLock { $0.handles[accountID] ?? "?" } }

    /// Posts, replies or reposts; returns the post. The referenced post must exist and not be deleted.
    @discardableResult
    func publish(authorID: String, kind: NetworkEventKind, text: String = "", referencing: String? = nil) -> SimulatedPost? {
        let now = clock.now()
        return state.withLock { state in Self.append(&state, authorID: authorID, kind: kind, text: text, referencing: referencing, now: now) }
    }

    private static func append(_ state: inout State, authorID: String, kind: NetworkEventKind, text: String, referencing: String?,
                               now: Instant) -> SimulatedPost? {
        guard let handle = state.handles[authorID] else { return nil }
        var referencedAuthor: String?
        if let referencing {
            guard let target = state.posts[referencing], target.deletedAt == nil else { return nil }
            referencedAuthor = target.authorID
        }
        let post = SimulatedPost(id: "p\(state.postOrder.count + 1)", authorID: authorID, kind: kind, text: text,
                                 referencedPostID: referencing, createdAt: now)
        state.posts[post.id] = post
        state.postOrder.append(post.id)
        let event = NetworkEvent(network: .sandbox, eventID: post.id, kind: kind,
                                 author: SocialIdentity(network: .sandbox, userID: authorID, handle: "@" + handle), text: text,
                                 referencedPostID: referencing, referencedAuthorID: referencedAuthor, createdAt: now)
        state.inFlight.append(InFlightEvent(event: event, notBefore: now))
        return post
    }

    /// The official account's reply to `postID`, or with nil a post of its own (an announcement);
    /// the same idempotency key returns the first one.
    func officialPost(inReplyTo postID: String?, text: String, idempotencyKey: String) -> SimulatedPost? {
        let now = clock.now()
        return state.withLock { state in
            if let existing = state.repliesByKey[idempotencyKey] { return state.posts[existing] }
            guard let post = Self.append(&state, authorID: Self.officialID, kind: postID == nil ? .post : .reply, text: text,
                                         referencing: postID, now: now)
            else { return nil }
            state.repliesByKey[idempotencyKey] = post.id
            return post
        }
    }

    /// Deletes a post (its author only); the delete is an event of its own.
    func delete(authorID: String, postID: String) -> Bool {
        let now = clock.now()
        return state.withLock { state in
            guard var post = state.posts[postID], post.authorID == authorID, post.deletedAt == nil else { return false }
            post.deletedAt = now
            state.posts[postID] = post
            let event = NetworkEvent(network: .sandbox, eventID: "del-\(postID)", kind: .delete,
                                     author: SocialIdentity(network: .sandbox, userID: authorID, handle: "@" + (state.handles[authorID] ?? "?")),
                                     referencedPostID: postID, createdAt: now)
            state.inFlight.append(InFlightEvent(event: event, notBefore: now))
            return true
        }
    }

    func post(_ id: String) -> SimulatedPost? { state.withLock { $0.posts[id] } }

    /// Every post, oldest first.
    func allPosts() -> [SimulatedPost] { state.withLock { state in state.postOrder.map { state.posts[$0]! } } }

    /// The events the engine can read after `cursor`, at most `limit`, and the cursor after them.
    func page(after cursor: Int, limit: Int) -> (events: [NetworkEvent], next: Int) {
        state.withLock { state in
            let start = min(max(cursor, 0), state.log.count)
            let end = min(start + limit, state.log.count)
            return (Array(state.log[start..<end]), end)
        }
    }

    var logLength: Int { state.withLock { $0.log.count } }
    var inFlightCount: Int { state.withLock { $0.inFlight.count } }
    func firstDelivered(_ eventID: String) -> Instant? { state.withLock { $0.firstDelivered[eventID] } }
}
