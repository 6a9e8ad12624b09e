import ArgumentParser

/// The options `bench purchases`, `bench latency` and `bench flash-sale` share: the batch bound, the store, the output.
struct BenchRunOptions: ParsableArguments {
    @Option(help: "The most events per store transaction (1…10000).")
    var batch = 1_000

    @Option(name: .customLong("database"),
            help: "Run on PostgreSQL, postgres://user[:password]@host[:port]/db: in a fresh schema of its own, dropped afterwards (or in ?schema=NAME, kept).")
    var database: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be between 1 and 10000") }
    }
}
