import HashcartCore
import Synchronization

/// The engine host's clock: the simulation's time plus an error that NTP steps now and then,
/// forward or back. The network and the merchant keep the true time.
final class SkewedClock: WallClock {
    let base: ManualClock
    private let offset = Mutex<Int64>(0)

    init(base: ManualClock) {
        self.base = base
    }

    func now() -> Instant { base.now().adding(milliseconds: offset.withLock { $0 }) }

    /// Steps the error to `milliseconds` (negative: the host's clock is behind).
    func step(to milliseconds: Int64) {
        offset.withLock { $0 = milliseconds }
    }
}
