import Synchronization

/// A clock that moves only when told to: for tests, the demo and deterministic simulation.
public final class ManualClock: WallClock {
    private let current: Mutex<Instant>

    public init(_ start: Instant) {
        current = Mutex(start)
    }

    public func now() -> Instant { current.withLock { $0 } }

    public func advance(seconds: Int64) {
        current.withLock { $0 = $0.adding(seconds: seconds) }
    }

    public func advance(milliseconds: Int64) {
        current.withLock { $0 = $0.adding(milliseconds: milliseconds) }
    }

    public func set(_ instant: Instant) {
        current.withLock { $0 = instant }
    }
}
