import HashcartCore
import Synchronization

/// The simulated engine process's life: alive, or crashed until the simulator restarts it.
///
/// The simulator arms a crash at the n-th store write of a step, before or after that write
/// commits. From the crash on, every store call, network post and webhook of the dead process
/// fails with ``SimulatedCrash``, so nothing it had in memory reaches the store: exactly what a
/// SIGKILL leaves behind. ``restart()`` brings a new process up.
public final class CrashSwitch: Sendable {
    struct State {
        var alive = true
        /// Writes left before the armed crash (nil: none armed).
        var writesLeft: Int?
        var afterCommit = false
        var crashes = 0
    }

    /// What the next write does.
    enum Fate {
        case commit
        case crashBeforeCommit
        case crashAfterCommit
    }

    private let state = Mutex(State())

    public init() {}

    /// Crashes the process at its `write`-th store write from now (1 = the next one).
    func arm(atWrite write: Int, afterCommit: Bool) {
        precondition(write >= 1, "crashes are armed at a write")
        state.withLock {
            $0.writesLeft = write
            $0.afterCommit = afterCommit
        }
    }

    func disarm() { state.withLock { $0.writesLeft = nil } }

    var isAlive: Bool { state.withLock { $0.alive } }
    var crashes: Int { state.withLock { $0.crashes } }

    /// Throws if the process is dead.
    func checkAlive() throws(SimulatedCrash) {
        guard isAlive else { throw SimulatedCrash() }
    }

    /// Called before each store write: whether it commits, and whether the process dies around it.
    func nextWrite() throws(SimulatedCrash) -> Fate {
        let fate = state.withLock { state -> Fate? in
            guard state.alive else { return nil }
            guard let left = state.writesLeft else { return .commit }
            guard left <= 1 else {
                state.writesLeft = left - 1
                return .commit
            }
            state.writesLeft = nil
            state.alive = false
            state.crashes += 1
            return state.afterCommit ? .crashAfterCommit : .crashBeforeCommit
        }
        guard let fate else { throw SimulatedCrash() }
        return fate
    }

    /// A new process: alive, nothing armed.
    func restart() {
        state.withLock {
            $0.alive = true
            $0.writesLeft = nil
        }
    }
}

/// The simulated process died here (thrown through the engine to the simulator).
public struct SimulatedCrash: Error, Sendable, CustomStringConvertible {
    public var description: String { "simulated crash" }
}
