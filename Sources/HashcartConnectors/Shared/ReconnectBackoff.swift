import HashcartCore

/// How long to wait before reconnecting: exponential from ``base`` to ``cap``, with full jitter
/// (a random delay between half and all of the step) so that many instances dropped at once do not
/// come back in step. ``reset()`` after a connection that stayed up.
public struct ReconnectBackoff: Sendable {
    public let baseMilliseconds: Int64
    public let capMilliseconds: Int64
    public private(set) var failures = 0
    private var random: SplitMix64

    public init(baseMilliseconds: Int64 = 500, capMilliseconds: Int64 = 60_000, seed: UInt64) {
        precondition(baseMilliseconds > 0 && capMilliseconds >= baseMilliseconds, "backoff bounds")
        self.baseMilliseconds = baseMilliseconds
        self.capMilliseconds = capMilliseconds
        self.random = SplitMix64(seed: seed)
    }

    /// The delay before the next attempt, in milliseconds; at least `minimum` (a server's Retry-After).
    public mutating func nextDelay(minimum: Int64 = 0) -> Int64 {
        let step = min(capMilliseconds, baseMilliseconds << Int64(min(failures, 20)))
        failures += 1
        let jittered = step / 2 + Int64(random.next() % UInt64(step / 2 + 1))
        return max(minimum, jittered)
    }

    public mutating func reset() { failures = 0 }
}
