import ArgumentParser
import Foundation
import HashcartSimulation
import HashcartStore
import Synchronization

/// `hashcart sim --seeds A..B`: the deterministic simulation, one flash sale per seed under faults.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the deterministic simulation: per seed, a flash sale on the real engine and store (SQLite, or PostgreSQL with --database) under duplicated, reordered, delayed and dropped events, failing posts and webhooks, clock jumps and crashes; every rule checked after every step.",
        discussion: "A failing seed prints the command that replays it. The same seed gives the same trace, byte for byte (--trace prints it).")

    @Option(help: "The seeds to run: A..B (both included) or one seed N.")
    var seeds: String = "1..100"

    @Option(help: "Seeds run at once (default: one per core), 1…64.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print each seed's trace (for replaying one seed; runs one seed at a time).")
    var trace = false

    @Option(help: "Where the seeds' stores are made and removed (default: /dev/shm when there is one, else the temporary folder).")
    var directory: String?

    @Option(name: .customLong("database"),
            help: "Run every seed on PostgreSQL instead of SQLite: postgres://USER@HOST:PORT/DB (each seed gets a schema of its own there, dropped at its end).")
    var database: String?

    static let maximumSeeds: UInt64 = 10_000_000
    static let maximumReportedFailures = 10

    /// The seeds `A..B` or `N`, checked.
    static func parseSeeds(_ text: String) throws -> ClosedRange<UInt64> {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let bounds: (String, String)
        if parts.count == 1 {
            bounds = (String(parts[0]), String(parts[0]))
        } else if parts.count == 3, parts[1].isEmpty {
            bounds = (String(parts[0]), String(parts[2]))
        } else {
            throw ValidationError("--seeds must be A..B or one seed N (non-negative whole numbers), not \"\(text.prefix(40))\"")
        }
        guard let low = UInt64(bounds.0), let high = UInt64(bounds.1) else {
            throw ValidationError("--seeds must be A..B or one seed N (non-negative whole numbers), not \"\(text.prefix(40))\"")
        }
        guard low <= high else { throw ValidationError("--seeds \(text): the first seed must not be after the last") }
        guard high - low < maximumSeeds else { throw ValidationError("--seeds: at most \(maximumSeeds) seeds per run") }
        return low...high
    }

    func validate() throws {
        _ = try Self.parseSeeds(seeds)
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
        if let directory, directory.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--directory must name a folder") }
        if let database {
            guard PostgresDatabaseURL.isPostgresURL(database) else { throw ValidationError("--database must be a postgres:// URL") }
            do { _ = try PostgresDatabaseURL(database) } catch { throw ValidationError("--database: \(error)") }
        }
    }

    func run() async throws {
        let range = try Self.parseSeeds(seeds)
        let store: SimulationStore = try database.map { .postgres(url: try PostgresDatabaseURL($0)) } ?? .sqlite
        let base = directory ?? (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
        let root = (base as NSString).appendingPathComponent("hashcart-sim-\(getpid())")
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            fail("--directory \(base): cannot make a folder for the seeds' stores there (is it a folder you may write to?)")
        }
        defer { try? FileManager.default.removeItem(atPath: root) }
        let total = range.upperBound - range.lowerBound + 1
        // Traces come out whole and in seed order: one seed at a time.
        let workers = trace ? 1 : min(UInt64(jobs), total)
        print("hashcart sim: seeds \(range.lowerBound)..\(range.upperBound) (\(total)), \(workers) at once, on \(database == nil ? "SQLite" : "PostgreSQL")")

        let queue = SeedQueue(range)
        let started = ContinuousClock.now
        let printTrace = trace
        let outcome = try await withThrowingTaskGroup(of: Report.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var report = Report()
                    while true {
                        guard let seed = queue.take() else { return report }
                        let folder = (root as NSString).appendingPathComponent("seed-\(seed)")
                        try? FileManager.default.removeItem(atPath: folder)
                        let result = try await Simulation(seed: seed, directory: folder, sabotage: nil, store: store).run()
                        try? FileManager.default.removeItem(atPath: folder)
                        if printTrace {
                            print(result.trace.joined(separator: "\n"))
                            print("seed \(seed): trace digest \(String(result.traceDigest, radix: 16)), \(result.passed ? "passed" : "FAILED")")
                        }
                        report.add(result)
                        if !result.passed { queue.failed() }
                    }
                }
            }
            var all = Report()
            for try await report in group { all.merge(report) }
            return all
        }
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        let stats = outcome.stats
        print(String(format: "%d seeds in %.1f s: %.1f seeds/s", outcome.seeds, seconds, Double(outcome.seeds) / max(seconds, 0.001)))
        print("  \(stats.steps) steps, \(stats.posts) posts, \(stats.deliveries) deliveries (\(stats.duplicates) duplicates, \(stats.drops) drops), "
              + "\(stats.crashes) crashes, \(stats.clockJumps) clock jumps, \(stats.orders) orders, \(stats.expired) expired, \(stats.webhookAttempts) webhook attempts")
        let failures = outcome.failures.sorted { $0.seed < $1.seed }
        guard failures.isEmpty else {
            for failure in failures.prefix(Self.maximumReportedFailures) {
                print("seed \(failure.seed) FAILED (\(failure.faults)):")
                for violation in failure.violations.prefix(5) { print("  \(violation)") }
                print("  replay: swift run hashcart sim --seeds \(failure.seed) --trace\(database == nil ? "" : " --database URL")")
            }
            print("\(failures.count) of \(outcome.seeds) seeds broke a rule")
            throw ExitCode(1)
        }
        print("every seed kept every rule")
    }

    struct Report: Sendable {
        var seeds = 0
        var stats = SimulationStats()
        var failures: [SimulationResult] = []

        mutating func add(_ result: SimulationResult) {
            seeds += 1
            stats.add(result.stats)
            if !result.passed { failures.append(result) }
        }

        mutating func merge(_ other: Report) {
            seeds += other.seeds
            stats.add(other.stats)
            failures += other.failures
        }
    }
}

/// Hands out the seeds to the workers; stops once enough seeds have failed to report.
final class SeedQueue: Sendable {
    struct State {
        var next: UInt64
        /// Set once the last seed was handed out (`next` cannot step past `UInt64.max`).
        var exhausted = false
        var failures = 0
    }

    let state: Mutex<State>
    let last: UInt64

    init(_ range: ClosedRange<UInt64>) {
        state = Mutex(State(next: range.lowerBound))
        last = range.upperBound
    }

    func take() -> UInt64? {
        state.withLock { state in
            guard !state.exhausted, state.failures < SimCommand.maximumReportedFailures else { return nil }
            let seed = state.next
            if seed == last { state.exhausted = true } else { state.next += 1 }
            return seed
        }
    }

    func failed() { state.withLock { $0.failures += 1 } }
}
