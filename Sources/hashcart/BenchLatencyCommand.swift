import ArgumentParser
import Foundation
import HashcartCore
import HashcartEngine
import Histogram

/// `hashcart bench latency`: latency from a confirming repost's arrival to its committed
/// authorization under a steady arrival rate, open loop.
///
/// First the peak: `--peak-count` reposts ingested back to back in batches of `--batch` give the
/// peak confirmed purchases per second. Then, for each of 25, 50 and 75 % of the peak, reposts
/// arrive on a fixed schedule (one every 1/rate s for `--seconds` s), independent of how fast
/// they are answered: the engine takes whatever has arrived (at most `--batch`) into one store
/// transaction, again and again. Each repost's latency runs from its *scheduled* arrival to the
/// commit of its authorization, so a stall is counted in full for every repost that arrived
/// during it (no coordinated omission). Low load means small batches; high load, big ones.
struct BenchLatencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Open-loop latency, repost arrival → committed authorization, at 25, 50 and 75 % of the peak purchase rate.")

    @Option(name: .customLong("peak-count"), help: "Reposts for finding the peak (1000…1000000).")
    var peakCount = 20_000

    @Option(help: "Seconds each rate runs (1…120).")
    var seconds = 10

    @OptionGroup var options: BenchRunOptions

    static let loads = [25, 50, 75]
    /// The most reposts one run may schedule (memory and setup time stay bounded).
    static let maximumPerRun = 2_000_000

    func validate() throws {
        guard (1_000...1_000_000).contains(peakCount) else { throw ValidationError("--peak-count must be between 1000 and 1000000") }
        guard (1...120).contains(seconds) else { throw ValidationError("--seconds must be between 1 and 120") }
    }

    func run() async throws {
        let wall = ContinuousClock()
        // The peak, closed loop: batches back to back.
        let peakSale = try await BenchSale(count: peakCount, batch: options.batch, captureOnConfirmation: false, data: nil, database: options.database)
        let peakReposts = try await peakSale.requestPurchases()
        var peakConfirmed = 0
        let peakStart = wall.now
        for start in stride(from: 0, to: peakReposts.count, by: options.batch) {
            peakConfirmed += BenchSale.confirmed(try await peakSale.engine.ingest(Array(peakReposts[start..<min(start + options.batch, peakReposts.count)])))
        }
        let peak = Double(peakConfirmed) / (wall.now - peakStart).seconds
        let storeName = peakSale.storeName
        await peakSale.close()
        guard peakConfirmed == peakCount else { fail("the peak run confirmed \(peakConfirmed) of \(peakCount) purchases") }

        var runs: [[String: Any]] = []
        var failed = false
        for load in Self.loads {
            let rate = peak * Double(load) / 100
            let count = min(Self.maximumPerRun, max(1, Int((rate * Double(seconds)).rounded())))
            let sale = try await BenchSale(count: count, batch: options.batch, captureOnConfirmation: false, data: nil, database: options.database)
            let outcome = try await openLoop(sale, reposts: try await sale.requestPurchases(), rate: rate)
            let violations = try await sale.store.read { try $0.audit() }.count
            await sale.close()
            if outcome.confirmed != count || violations > 0 { failed = true }
            runs.append([
                "load_percent": load, "rate": Int(rate.rounded()), "reposts": count, "confirmed": outcome.confirmed,
                "transactions": outcome.transactions, "mean_batch": round1(Double(count) / Double(max(1, outcome.transactions))),
                "p50_ms": milliseconds(outcome.histogram.valueAtPercentile(50)), "p99_ms": milliseconds(outcome.histogram.valueAtPercentile(99)),
                "p999_ms": milliseconds(outcome.histogram.valueAtPercentile(99.9)), "max_ms": milliseconds(outcome.histogram.max),
                "invariant_violations": violations,
            ])
        }
        let result: [String: Any] = ["benchmark": "latency", "store": storeName, "batch": options.batch, "seconds": seconds,
                                     "peak_per_second": Int(peak.rounded()), "runs": runs]
        if options.json {
            printJSON(result)
        } else {
            print("store: \(storeName); peak \(Int(peak.rounded())) confirmed purchases/s (\(peakCount) reposts, batches of \(options.batch))")
            for run in runs {
                print("  \(run["load_percent"]!) % = \(run["rate"]!)/s for \(seconds) s: p50 \(run["p50_ms"]!) ms, p99 \(run["p99_ms"]!) ms, p99.9 \(run["p999_ms"]!) ms, max \(run["max_ms"]!) ms (mean batch \(run["mean_batch"]!))")
            }
        }
        if failed { throw ExitCode(1) }
    }

    struct Outcome {
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var confirmed = 0
        var transactions = 0
    }

    /// Reposts arrive one every 1/`rate` s from the start; each transaction takes what has arrived.
    func openLoop(_ sale: BenchSale, reposts: [NetworkEvent], rate: Double) async throws -> Outcome {
        let wall = ContinuousClock()
        let start = wall.now
        let interval = 1 / rate
        var outcome = Outcome()
        var next = 0
        while next < reposts.count {
            let elapsed = (wall.now - start).seconds
            // Arrivals up to now: repost i arrives at start + i × interval.
            let arrived = min(reposts.count, Int(elapsed / interval) + 1)
            if arrived <= next {
                let wait = Double(next) * interval - elapsed
                if wait > 0 { try await Task.sleep(for: .microseconds(Int64(min(wait, 0.01) * 1_000_000))) }
                continue
            }
            let end = min(arrived, next + options.batch)
            outcome.confirmed += BenchSale.confirmed(try await sale.engine.ingest(Array(reposts[next..<end])))
            outcome.transactions += 1
            let committed = (wall.now - start).seconds
            for index in next..<end {
                let latency = max(0, committed - Double(index) * interval)
                _ = outcome.histogram.record(UInt64(max(1, (latency * 1_000_000).rounded())))
            }
            next = end
        }
        return outcome
    }

    func milliseconds(_ microseconds: UInt64) -> Double { (Double(microseconds) / 100).rounded() / 10 }
    func round1(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
