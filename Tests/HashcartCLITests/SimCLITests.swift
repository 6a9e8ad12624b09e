import Foundation
import Testing

/// `hashcart sim` as an operator runs it: a range of seeds, a summary with seeds/s, and one seed's
/// trace that comes out the same on every run.
@Suite struct SimCLITests {
    @Test("hashcart sim runs a range of seeds, reports seeds/s and what it injected, exit 0")
    func runsSeeds() async throws {
        let result = try await hashcart(["sim", "--seeds", "1..3", "--jobs", "1"], timeout: 300)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("3 seeds in"), "\(result)")
        #expect(result.stdout.contains("seeds/s"), "\(result)")
        #expect(result.stdout.contains("every seed kept every rule"), "\(result)")
        #expect(result.stdout.contains("crashes"), "\(result)")
    }

    @Test("hashcart sim --seeds N --trace prints the same trace on every run")
    func traceIsReproducible() async throws {
        let first = try await hashcart(["sim", "--seeds", "11", "--trace"], timeout: 120)
        let second = try await hashcart(["sim", "--seeds", "11", "--trace"], timeout: 120)
        #expect(first.status == 0 && second.status == 0, "\(first)\n\(second)")
        // Everything but the wall-clock timing line is the seed's trace and must match exactly.
        func trace(_ output: String) -> [Substring] { output.split(separator: "\n").filter { !$0.contains("seeds/s") } }
        #expect(trace(first.stdout) == trace(second.stdout))
        #expect(first.stdout.contains("seed 11: trace digest"), "\(first)")
        #expect(first.stdout.contains("deliver "), "\(first)")
    }

    @Test("the last possible seed runs too: --seeds 18446744073709551615 is one seed, not none")
    func theLastSeedRuns() async throws {
        let result = try await hashcart(["sim", "--seeds", "18446744073709551615", "--jobs", "1"], timeout: 120)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("1 seeds in"), "\(result)")
    }
}
