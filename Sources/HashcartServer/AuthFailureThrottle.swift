import Foundation
import Synchronization

/// Throttles failed authentication, per client address and across all clients, in every mode.
///
/// Every request that presents a credential which turns out wrong (an unknown key, a revoked
/// token, a wrong admin token, no credential on a route that needs one) costs its client address
/// one token of a bucket. An address whose bucket is empty is refused with 429 and `Retry-After`
/// *before* its credential is looked at, so guessing stops, whatever the guesses are. A global
/// bucket bounds failures from all addresses together (many addresses guessing at once); it is
/// applied only to addresses that have failed recently, so clients that never failed are never
/// locked out by someone else's guessing.
public struct AuthFailureLimit: Sendable, Hashable {
    /// Failures one address may make at once.
    public var burstPerAddress: Double
    /// Failures per second an address earns back.
    public var refillPerAddress: Double
    /// Failures all addresses may make at once.
    public var burstGlobal: Double
    /// Failures per second all addresses earn back together.
    public var refillGlobal: Double

    /// 10 failures at once, then one every 6 s per address; 200 at once, then 5 per second overall.
    public init(burstPerAddress: Double = 10, refillPerAddress: Double = 1.0 / 6, burstGlobal: Double = 200, refillGlobal: Double = 5) {
        precondition(burstPerAddress >= 1 && refillPerAddress > 0 && burstGlobal >= 1 && refillGlobal > 0, "a throttle lets something through")
        self.burstPerAddress = burstPerAddress
        self.refillPerAddress = refillPerAddress
        self.burstGlobal = burstGlobal
        self.refillGlobal = refillGlobal
    }

    /// Most addresses tracked at once; beyond it, recovered buckets are dropped, then all.
    public static let maximumTrackedAddresses = 10_000
}

/// The failure buckets, shared by every authentication middleware of one router.
public final class AuthFailureThrottle: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    struct State {
        var addresses: [String: Bucket] = [:]
        var global: Bucket
    }

    let limit: AuthFailureLimit
    let state: Mutex<State>
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant

    public init(limit: AuthFailureLimit = AuthFailureLimit()) {
        self.limit = limit
        self.state = Mutex(State(global: Bucket(tokens: limit.burstGlobal, updated: 0)))
        self.start = clock.now
    }

    var now: Double {
        let elapsed = start.duration(to: clock.now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Throws ``RateLimited`` when `address` may not try a credential now.
    public func check(address: String) throws {
        let now = self.now
        let wait: Double? = state.withLock { state in
            guard var bucket = state.addresses[address] else { return nil }
            bucket.tokens = min(limit.burstPerAddress, bucket.tokens + (now - bucket.updated) * limit.refillPerAddress)
            bucket.updated = now
            state.addresses[address] = bucket
            if bucket.tokens < 1 { return (1 - bucket.tokens) / limit.refillPerAddress }
            var global = state.global
            global.tokens = min(limit.burstGlobal, global.tokens + (now - global.updated) * limit.refillGlobal)
            global.updated = now
            state.global = global
            if global.tokens < 1 { return (1 - global.tokens) / limit.refillGlobal }
            return nil
        }
        if let wait { throw RateLimited(retryAfterSeconds: max(1, Int(wait.rounded(.up))), reason: .failedAuthentication) }
    }

    /// Counts one failed authentication from `address`.
    public func recordFailure(address: String) {
        let now = self.now
        state.withLock { state in
            if state.addresses[address] == nil, state.addresses.count >= AuthFailureLimit.maximumTrackedAddresses {
                state.addresses = state.addresses.filter {
                    $0.value.tokens + (now - $0.value.updated) * limit.refillPerAddress < limit.burstPerAddress
                }
                if state.addresses.count >= AuthFailureLimit.maximumTrackedAddresses { state.addresses.removeAll() }
            }
            var bucket = state.addresses[address] ?? Bucket(tokens: limit.burstPerAddress, updated: now)
            bucket.tokens = min(limit.burstPerAddress, bucket.tokens + (now - bucket.updated) * limit.refillPerAddress) - 1
            bucket.updated = now
            state.addresses[address] = bucket
            var global = state.global
            global.tokens = min(limit.burstGlobal, global.tokens + (now - global.updated) * limit.refillGlobal) - 1
            global.updated = now
            state.global = global
        }
    }
}
