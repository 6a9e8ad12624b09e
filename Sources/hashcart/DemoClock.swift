import HashcartCore
import Synchronization

/// The demo's clock: the sale runs on manual time (Black Friday 2026, moved only as the sale
/// does); once released for `demo --serve`, that time moves on with the wall clock, so
/// confirmation windows run out and new posts land after the sale's.
final class DemoClock: WallClock {
    let manual: ManualClock
    private let released = Mutex<ContinuousClock.Instant?>(nil)

    init(_ manual: ManualClock) {
        self.manual = manual
    }

    func now() -> Instant {
        guard let since = released.withLock({ $0 }) else { return manual.now() }
        let elapsed = since.duration(to: .now)
        return manual.now().adding(milliseconds: elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    /// From now on, time flows from where the sale left it.
    func release() {
        released.withLock { if $0 == nil { $0 = .now } }
    }
}
