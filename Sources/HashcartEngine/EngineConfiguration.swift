import HashcartCore

/// How the engine behaves. Every limit is bounded; defaults suit a laptop demo and production alike.
public struct EngineConfiguration: Sendable, Hashable {
    public var risk: RiskPolicy
    /// How long an authorization hold lasts before it lapses (7 days).
    public var holdDurationSeconds: Int64
    /// How long after a window closes the expiry timer waits, for reposts still in flight.
    public var expiryGraceSeconds: Int64
    /// How long a link code stays valid.
    public var linkCodeLifetimeSeconds: Int64
    /// Most events processed in one store transaction.
    public var maximumEventsPerBatch: Int
    /// Most outbox posts sent per dispatch round.
    public var maximumOutboundPerRound: Int
    /// Most timers fired per round.
    public var maximumTimersPerRound: Int
    /// How long an engine holds the outbox posts it claimed before another instance may take them
    /// over (it records each result well before; the lease matters only if it dies mid-round).
    public var outboundLeaseMilliseconds: Int64 = 30_000
    /// How often the connector is told which hashtags and authors matter (a new offer is matched
    /// at the edge within this time).
    public var interestRefreshMilliseconds: Int64 = 1_000
    /// Most purchases one offer's waitlist holds (a post beyond it is declined sold out); 0 turns
    /// waitlists off, so a post on a sold-out offer is declined at once.
    public var maximumWaitlistLength: Int64 = 1_000

    public init(risk: RiskPolicy = RiskPolicy(), holdDurationSeconds: Int64 = 7 * 86_400, expiryGraceSeconds: Int64 = 30,
                linkCodeLifetimeSeconds: Int64 = 900, maximumEventsPerBatch: Int = 2_000, maximumOutboundPerRound: Int = 2_000,
                maximumTimersPerRound: Int = 2_000) {
        self.risk = risk
        self.holdDurationSeconds = holdDurationSeconds
        self.expiryGraceSeconds = expiryGraceSeconds
        self.linkCodeLifetimeSeconds = linkCodeLifetimeSeconds
        self.maximumEventsPerBatch = maximumEventsPerBatch
        self.maximumOutboundPerRound = maximumOutboundPerRound
        self.maximumTimersPerRound = maximumTimersPerRound
    }

    public func validated() throws(ValidationError) -> EngineConfiguration {
        _ = try risk.validated()
        guard (3_600...30 * 86_400).contains(holdDurationSeconds) else {
            throw ValidationError(field: "hold_duration_seconds", message: "must be between 3600 and 2592000")
        }
        guard (0...600).contains(expiryGraceSeconds) else {
            throw ValidationError(field: "expiry_grace_seconds", message: "must be between 0 and 600")
        }
        guard (60...86_400).contains(linkCodeLifetimeSeconds) else {
            throw ValidationError(field: "link_code_lifetime_seconds", message: "must be between 60 and 86400")
        }
        guard (1_000...600_000).contains(outboundLeaseMilliseconds) else {
            throw ValidationError(field: "outbound_lease_milliseconds", message: "must be between 1000 and 600000")
        }
        guard (0...60_000).contains(interestRefreshMilliseconds) else {
            throw ValidationError(field: "interest_refresh_milliseconds", message: "must be between 0 and 60000")
        }
        guard (0...10_000).contains(maximumWaitlistLength) else {
            throw ValidationError(field: "maximum_waitlist_length", message: "must be between 0 (no waitlists) and 10000")
        }
        for (name, value) in [("maximum_events_per_batch", maximumEventsPerBatch), ("maximum_outbound_per_round", maximumOutboundPerRound),
                              ("maximum_timers_per_round", maximumTimersPerRound)] where !(1...10_000).contains(value) {
            throw ValidationError(field: name, message: "must be between 1 and 10000")
        }
        return self
    }
}

/// What the engine refuses to do, with a message for the person who asked.
public enum EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(ValidationError)
    case notFound(String)
    case conflict(String)
    case refused(String)

    public var description: String {
        switch self {
        case .invalid(let error): error.description
        case .notFound(let what): "\(what) not found"
        case .conflict(let detail): detail
        case .refused(let detail): detail
        }
    }
}
