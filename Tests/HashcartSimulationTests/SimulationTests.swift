import Foundation
import HashcartCore
import Testing
import HashcartSimulation
import HashcartStore

/// The simulator itself: deterministic, really injecting its faults, and able to fail.
/// Serialized, and a handful of seeds: `swift test` runs every suite at once on small CI machines,
/// and `.ci/run` runs 10,000 seeds on a release build anyway.
@Suite("Deterministic simulation", .serialized)
struct SimulationTests {
    static func folder() -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("hashcart-sim-test-" + UUID().uuidString)
    }

    static func run(_ seed: UInt64, sabotage: Sabotage? = nil) async throws -> SimulationResult {
        let folder = folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try await Simulation(seed: seed, directory: folder, sabotage: sabotage).run()
    }

    @Test("the same seed gives the same trace, byte for byte, from another folder; another seed another trace")
    func sameSeedSameTrace() async throws {
        let first = try await Self.run(42)
        let second = try await Self.run(42)
        #expect(first.trace == second.trace)
        #expect(first.traceDigest == second.traceDigest)
        #expect(first.trace.count > 20)
        let other = try await Self.run(43)
        #expect(other.trace != first.trace)
    }

    @Test("16 seeds keep every rule while every kind of fault is really injected")
    func seedsKeepTheRules() async throws {
        var stats = SimulationStats()
        for seed in UInt64(1)...16 {
            let result = try await Self.run(seed)
            #expect(result.violations.isEmpty, "seed \(seed): \(result.violations)")
            stats.add(result.stats)
        }
        #expect(stats.crashes > 0)
        #expect(stats.duplicates > 0)
        #expect(stats.drops > 0)
        #expect(stats.clockJumps > 0)
        #expect(stats.orders > 0)
        #expect(stats.expired > 0)
        #expect(stats.webhookAttempts > stats.orders)
    }

    @Test("a connector that loses events is caught: the funnel misses posts, or confirmations made in time did not buy")
    func lostEventsAreCaught() async throws {
        var caught: [String] = []
        for seed in UInt64(1)...10 where caught.isEmpty { caught += try await Self.run(seed, sabotage: .loseEvents).violations }
        #expect(caught.contains { $0.contains("in time") || $0.contains("never received") || $0.contains("the merchant is told") }, "\(caught)")
    }

    @Test("replies posted without their idempotency key are caught: the same reply twice")
    func doubleRepliesAreCaught() async throws {
        var caught: [String] = []
        for seed in UInt64(1)...10 where caught.isEmpty { caught += try await Self.run(seed, sabotage: .ignoreIdempotencyKeys).violations }
        #expect(caught.contains { $0.contains("twice") }, "\(caught)")
    }

    @Test("a store that forgets which events it processed is caught: the merchant is told duplicate deliveries twice")
    func duplicateCountsAreCaught() async throws {
        var caught: [String] = []
        for seed in UInt64(1)...10 where caught.isEmpty { caught += try await Self.run(seed, sabotage: .forgetProcessedEvents).violations }
        #expect(caught.contains { $0.contains("the merchant is told") }, "\(caught)")
    }

    @Test("webhooks that carry a stub instead of the event's object are caught: the merchant cannot read them")
    func stubPayloadsAreCaught() async throws {
        var caught: [String] = []
        for seed in UInt64(1)...10 where caught.isEmpty { caught += try await Self.run(seed, sabotage: .stubWebhookPayloads).violations }
        #expect(caught.contains { $0.contains("could not verify or read") }, "\(caught)")
    }

    /// The PostgreSQL server of the tests (`HASHCART_TEST_DATABASE_URL`, set by `.ci/run`).
    static var postgresURL: String? { ProcessInfo.processInfo.environment["HASHCART_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    @Test("on PostgreSQL each seed keeps every rule and gives the very trace it gives on SQLite",
          .enabled(if: postgresURL != nil, "HASHCART_TEST_DATABASE_URL is not set"))
    func postgresGivesTheSameTraces() async throws {
        let url = try PostgresDatabaseURL(try #require(Self.postgresURL))
        for seed in UInt64(1)...4 {
            let sqlite = try await Self.run(seed)
            let folder = Self.folder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let postgres = try await Simulation(seed: seed, directory: folder, sabotage: nil, store: .postgres(url: url)).run()
            #expect(postgres.passed, "seed \(seed): \(postgres.violations)")
            #expect(postgres.trace == sqlite.trace, "seed \(seed): the stores disagree from line \(Array(zip(postgres.trace, sqlite.trace)).firstIndex { $0.0 != $0.1 } ?? min(postgres.trace.count, sqlite.trace.count))")
        }
    }
}
