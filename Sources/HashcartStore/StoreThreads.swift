import Foundation

/// Dedicated threads for async code that calls the store.
///
/// The store's API is synchronous, as GRDB's is: a call holds its thread until SQLite's disk
/// write or PostgreSQL's round trip is done. Swift's cooperative pool, where async code runs by
/// default, has one thread per core (two on a small VM), and every task of the process shares
/// it. A handful of requests waiting on PostgreSQL (a lock held by a flash sale, a slow network)
/// would take all of it: the HTTP server, the network streams and the webhook deliverer would
/// stop until they returned.
///
/// `StoreThreads` is a `TaskExecutor`. Code run under
/// `withTaskExecutorPreference(storeThreads) { … }` (and every child task it starts: the HTTP
/// server's connections, the services of a `ServiceGroup`) runs on these threads instead, so a
/// store call blocks one of them and the cooperative pool stays free. `hashcart serve` runs under
/// it; so do the tests on both stores (`.onEveryBackend`).
///
/// ```swift
/// let threads = StoreThreads(count: 16, name: "hc-store")
/// try await withTaskExecutorPreference(threads) { try await app.runService() }
/// ```
///
/// The threads live as long as the process: make one per process, not one per request. Jobs wait
/// in one first-in, first-out queue; it holds at most one job per task that prefers this
/// executor and is ready to run, so the callers bound it (HTTP connections, engine loops).
public final class StoreThreads: TaskExecutor, @unchecked Sendable {
    /// The most threads one executor may start.
    public static let maximumCount = 256

    /// How many threads run jobs.
    public let count: Int

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var next = 0
    private var threads: Set<pthread_t> = []

    /// Starts `count` threads (1…``maximumCount``) named `name-0`, `name-1`, … (as `top -H` and
    /// debuggers show them; Linux keeps the first 15 bytes of a thread's name).
    public init(count: Int, name: String = "hc-store") {
        precondition((1...Self.maximumCount).contains(count), "StoreThreads needs 1…\(Self.maximumCount) threads, not \(count)")
        self.count = count
        for index in 0..<count {
            let threadName = "\(name)-\(index)"
            let thread = Thread { [self] in work(name: threadName) }
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Whether the caller runs on one of these threads.
    public var isCurrent: Bool {
        condition.lock()
        defer { condition.unlock() }
        return threads.contains(pthread_self())
    }

    private func work(name: String) {
        // Named from inside (on Linux a thread otherwise keeps the name of the thread that made
        // it); names are for people reading `top -H`, nothing relies on them.
        Thread.current.name = name
        condition.lock()
        threads.insert(pthread_self())
        condition.unlock()
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while next == jobs.count { condition.wait() }
            let job = jobs[next]
            next += 1
            if next == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                next = 0
            } else if next >= 1_024 {
                jobs.removeFirst(next)
                next = 0
            }
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
