import HashcartCore

/// How hard one seed hits the engine: each seed draws its own rates, so a run of many seeds covers
/// calm sales and storms alike. All percentages are per opportunity (per event, per round, per post).
public struct SimulationFaults: Sendable, Hashable, CustomStringConvertible {
    /// An event reaches the engine 2–6 times.
    public var duplicatePercent: Int
    /// Events delivered in one step are shuffled.
    public var reorderPercent: Int
    /// An event waits 1–30 s before delivery.
    public var delayPercent: Int
    /// An event is dropped and redelivered 30 s – 10 min later (a reconnect's replay).
    public var dropPercent: Int
    /// A confirmation repost is held back past its window and grace.
    public var delayPastWindowPercent: Int
    /// An engine round dies at one of its store writes (then the process restarts from disk).
    public var crashPercent: Int
    /// A reply post fails, or succeeds with its answer lost.
    public var postFailurePercent: Int
    public var lostAnswerPercent: Int
    /// The merchant answers 500, or answers slowly (past the 10 s timeout at times).
    public var merchantFailurePercent: Int
    public var merchantSlowPercent: Int
    /// A step jumps the clock forward 1–20 minutes (a stalled process), or steps the engine host's
    /// clock to up to 60 s off the network's, ahead or behind (NTP correcting a drifted clock).
    public var clockJumpPercent: Int

    static func draw(using random: inout SplitMix64) -> SimulationFaults {
        func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        return SimulationFaults(duplicatePercent: pick(0...30), reorderPercent: pick(0...50), delayPercent: pick(0...30),
                                dropPercent: pick(0...10), delayPastWindowPercent: pick(0...10), crashPercent: pick(0...25),
                                postFailurePercent: pick(0...15), lostAnswerPercent: pick(0...10), merchantFailurePercent: pick(0...30),
                                merchantSlowPercent: pick(0...15), clockJumpPercent: pick(0...6))
    }

    public var description: String {
        "dup=\(duplicatePercent)% reorder=\(reorderPercent)% delay=\(delayPercent)% drop=\(dropPercent)% late=\(delayPastWindowPercent)% "
            + "crash=\(crashPercent)% post_fail=\(postFailurePercent)% lost_answer=\(lostAnswerPercent)% "
            + "merchant_fail=\(merchantFailurePercent)% merchant_slow=\(merchantSlowPercent)% clock_jump=\(clockJumpPercent)%"
    }
}

/// What one seed went through and produced.
public struct SimulationStats: Sendable, Hashable {
    public var steps = 0
    public var posts = 0
    public var deliveries = 0
    public var duplicates = 0
    public var drops = 0
    public var crashes = 0
    public var clockJumps = 0
    public var orders = 0
    public var expired = 0
    public var webhookAttempts = 0

    public init() {}

    public mutating func add(_ other: SimulationStats) {
        steps += other.steps
        posts += other.posts
        deliveries += other.deliveries
        duplicates += other.duplicates
        drops += other.drops
        crashes += other.crashes
        clockJumps += other.clockJumps
        orders += other.orders
        expired += other.expired
        webhookAttempts += other.webhookAttempts
    }
}

/// One seed's outcome: its trace (the same seed gives the same trace, byte for byte) and every
/// rule it saw broken.
public struct SimulationResult: Sendable {
    public var seed: UInt64
    public var faults: SimulationFaults
    public var trace: [String]
    public var violations: [String]
    public var stats: SimulationStats

    public var passed: Bool { violations.isEmpty }

    /// FNV-1a of the trace: two runs of a seed agree on it exactly when their traces are identical.
    public var traceDigest: UInt64 {
        var hasher = FNV1a()
        for line in trace {
            hasher.combine(line)
            hasher.combine(0x0a)
        }
        return hasher.value
    }
}
