/// Who asked for what, when and from where: one line of the audit log, written in the same
/// transaction as the action it records (never apart from it: a change without its line, or a
/// line without its change, cannot be committed).
public struct AuditEntry: Sendable, Hashable {
    /// `operator (admin token)`, `api key key_…`, `dashboard ann@example.com`.
    public var actor: String
    /// The client's address the request came from.
    public var address: String
    /// `offer.create`, `order.ship`, `kill_switch.on`, `api_key.revoke`, `session.sign_in`, …
    public var action: String
    /// The object acted on (an id).
    public var objectID: String
    /// The merchant it belongs to, when it does: a merchant sees its own lines.
    public var merchantID: MerchantID?
    /// What changed, in a few words (bounded).
    public var detail: String
    public var at: Instant

    public static let maximumDetailLength = 300

    public init(actor: AuditActor, action: String, objectID: String, merchantID: MerchantID?, detail: String = "", at: Instant) {
        self.actor = String(actor.name.prefix(120))
        self.address = String(actor.address.prefix(64))
        self.action = String(action.prefix(64))
        self.objectID = String(objectID.prefix(128))
        self.merchantID = merchantID
        self.detail = String(detail.prefix(Self.maximumDetailLength))
        self.at = at
    }

    public init(actor: String, address: String, action: String, objectID: String, merchantID: MerchantID?, detail: String, at: Instant) {
        self.actor = actor
        self.address = address
        self.action = action
        self.objectID = objectID
        self.merchantID = merchantID
        self.detail = detail
        self.at = at
    }
}

/// The person (or credential) on whose behalf the current task acts, and from where: set by the
/// HTTP layer for the length of a request (a task-local value, so every engine call the request
/// makes sees it), read by the engine and the stores to write the audit log. Nil for what Hashcart
/// does by itself (timers, deliveries, network events), which is not an operator's or merchant's
/// action.
public struct AuditActor: Sendable, Hashable {
    public var name: String
    public var address: String

    public init(name: String, address: String) {
        self.name = name
        self.address = address
    }

    @TaskLocal public static var current: AuditActor?

    /// The audit line of `action` by the current actor, or nil when no person asked for it.
    public static func entry(_ action: String, objectID: String, merchantID: MerchantID?, detail: String = "", at: Instant) -> AuditEntry? {
        current.map { AuditEntry(actor: $0, action: action, objectID: objectID, merchantID: merchantID, detail: detail, at: at) }
    }
}

/// An action a store write outside the engine records (an API key made, a webhook's secret
/// rotated, a user signed in): the caller names it for the length of the call, and the store
/// method reads it before its transaction and writes the line inside it.
public struct AuditAction: Sendable, Hashable {
    public var action: String
    public var objectID: String
    public var merchantID: MerchantID?
    public var detail: String
    /// When it happened, by the caller's clock.
    public var at: Instant

    @TaskLocal public static var pending: AuditAction?

    /// Runs `body` with `action` pending for the store writes it makes.
    public static func recording<T>(_ action: String, objectID: String, merchantID: MerchantID? = nil, detail: String = "", at: Instant,
                                    _ body: () async throws -> T) async rethrows -> T {
        try await $pending.withValue(AuditAction(action: action, objectID: objectID, merchantID: merchantID, detail: detail, at: at)) {
            try await body()
        }
    }

    /// The line the pending action records: when one is pending and a person asked for it.
    public static func entry() -> AuditEntry? {
        guard let pending, let actor = AuditActor.current else { return nil }
        return AuditEntry(actor: actor, action: pending.action, objectID: pending.objectID, merchantID: pending.merchantID, detail: pending.detail,
                          at: pending.at)
    }
}
