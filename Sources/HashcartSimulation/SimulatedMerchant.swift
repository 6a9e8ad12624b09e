import Foundation
import HashcartApp
import HashcartCore
import Synchronization

/// A merchant's webhook endpoint in the simulation: it answers 500 at times, is slow at times
/// (the clock moves while it thinks; past the deliverer's timeout the answer never comes), and
/// keeps every event id it acknowledged, deduplicating redeliveries as merchants are told to.
final class SimulatedMerchant: WebhookTransport {
    struct State {
        var random: SplitMix64
        var healthy = false
        /// Acknowledged event ids, with how many times each arrived.
        var received: [String: Int] = [:]
        var order: [String] = []
    }

    let state: Mutex<State>
    let clock: ManualClock
    let crash: CrashSwitch
    let failurePercent: Int
    let slowPercent: Int

    init(seed: UInt64, clock: ManualClock, crash: CrashSwitch, failurePercent: Int, slowPercent: Int) {
        state = Mutex(State(random: SplitMix64(seed: seed)))
        self.clock = clock
        self.crash = crash
        self.failurePercent = failurePercent
        self.slowPercent = slowPercent
    }

    /// From now on the endpoint always answers 200 at once (the end of the run).
    func heal() { state.withLock { $0.healthy = true } }

    var received: [String: Int] { state.withLock { $0.received } }

    func post(url: String, headers: [(String, String)], body: Data, timeoutSeconds: Int64) async throws -> Int {
        try crash.checkAlive()
        guard let eventID = headers.first(where: { $0.0 == "Hashcart-Event-Id" })?.1 else { return 400 }
        let (roll, thinking) = state.withLock { state in
            state.healthy ? (100, Int64(0)) : (Int.random(in: 0..<100, using: &state.random), Int64.random(in: 1...15, using: &state.random))
        }
        if roll < failurePercent { return 500 }
        let slow = roll < failurePercent + slowPercent
        if slow { clock.advance(milliseconds: thinking * 1_000) }
        // The merchant takes the event even when its answer comes too late: the retry is a duplicate.
        state.withLock { state in
            if state.received[eventID] == nil { state.order.append(eventID) }
            state.received[eventID, default: 0] += 1
        }
        if slow && thinking >= timeoutSeconds { throw SimulatedTimeout() }
        return 200
    }
}

struct SimulatedTimeout: Error, CustomStringConvertible {
    var description: String { "simulated: the merchant did not answer in time" }
}
