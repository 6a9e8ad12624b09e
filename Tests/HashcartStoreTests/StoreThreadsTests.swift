import Foundation
import HashcartStore
import Synchronization
import Testing

/// What `hashcart serve` relies on from ``StoreThreads``: work that blocks its thread (a store
/// call waiting on PostgreSQL) runs there, and the rest of the process keeps going meanwhile.
@Suite struct StoreThreadsTests {
    static let threads = StoreThreads(count: 4, name: "st-test")

    @Test func blockedStoreCallsLeaveTheCooperativePoolFree() async throws {
        let release = DispatchSemaphore(value: 0)
        let names = ThreadNames()
        // More blocked callers than the machine has cores: on the cooperative pool these alone
        // would stop every other task of the process.
        let blockers = Task {
            await withTaskExecutorPreference(Self.threads) {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            names.append(Self.threads.isCurrent ? "store" : "other")
                            release.wait()
                        }
                    }
                }
            }
        }
        // All four are blocked on their own threads…
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while names.count < 4, clock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(names.count == 4)
        #expect(names.all == ["store", "store", "store", "store"], "\(names.all)")
        // …and ordinary async work still runs, on more tasks than there are cores.
        let sums = await withTaskGroup(of: Int.self) { group in
            for n in 1...8 { group.addTask { (1...n).reduce(0, +) } }
            return await group.reduce(0, +)
        }
        #expect(sums == 120)
        for _ in 0..<4 { release.signal() }
        await blockers.value
    }

    @Test func workResumesOnTheStoreThreadsAfterEverySuspension() async throws {
        let seen = await withTaskExecutorPreference(Self.threads) {
            var seen: [Bool] = []
            for _ in 0..<20 {
                seen.append(Self.threads.isCurrent)
                try? await Task.sleep(for: .milliseconds(1))
            }
            return seen
        }
        #expect(seen == Array(repeating: true, count: 20), "\(seen)")
    }
}

/// What several tasks at once recorded about the thread they ran on.
final class ThreadNames: Sendable {
    private let names = Mutex<[String]>([])
    func append(_ name: String) { names.withLock { $0.append(name) } }
    var count: Int { names.withLock { $0.count } }
    var all: [String] { names.withLock { $0 } }
}
