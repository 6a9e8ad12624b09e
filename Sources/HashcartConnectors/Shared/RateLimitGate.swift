import HashcartCore
import Synchronization

/// Remembers until when a network asked us to stop calling (HTTP 429, `Retry-After`,
/// `x-rate-limit-reset`, `ratelimit-reset`) so the connector waits instead of hammering: calls
/// before then fail at once as retryable, without touching the network.
public final class RateLimitGate: Sendable {
    private let blockedUntil = Mutex<Instant?>(nil)
    public let network: NetworkName

    public init(network: NetworkName) {
        self.network = network
    }

    /// Throws a retryable ``ConnectorError`` while the network's limit is in force.
    public func check(now: Instant) throws(ConnectorError) {
        if let until = blockedUntil.withLock({ $0 }), now < until {
            throw ConnectorError(network: network, message: "rate limited until \(until.millisecondsSinceEpoch / 1_000) (unix s); not calling", isRetryable: true)
        }
    }

    /// Records the headers of a response. `status` 429 without a reset header blocks for `fallbackSeconds`.
    public func record(status: Int, headers: [(String, String)], now: Instant, fallbackSeconds: Int64 = 60) {
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        var until: Instant?
        let remaining = (header("x-rate-limit-remaining") ?? header("ratelimit-remaining") ?? header("x-ratelimit-remaining")).flatMap { Int64($0) }
        let reset = header("x-rate-limit-reset") ?? header("ratelimit-reset") ?? header("x-ratelimit-reset")
        if status == 429 || remaining == 0 {
            if let retryAfter = header("retry-after").flatMap({ Int64($0) }), retryAfter >= 0 {
                until = now.adding(seconds: min(retryAfter, 3_600))
            } else if let reset, let seconds = Int64(reset) {
                // Unix seconds (X, Bluesky), or a delta when small.
                let at = seconds > 1_000_000_000 ? Instant(secondsSinceEpoch: seconds) : now.adding(seconds: seconds)
                until = min(at, now.adding(seconds: 3_600))
            } else if let reset, let at = Timestamp.parse(reset) {
                until = min(at, now.adding(seconds: 3_600))  // Mastodon: an ISO 8601 time
            } else if status == 429 {
                until = now.adding(seconds: fallbackSeconds)
            }
        }
        if let until { blockedUntil.withLock { $0 = max($0 ?? until, until) } }
    }
}
