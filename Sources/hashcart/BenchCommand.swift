import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (run in a release build).", subcommands: [BenchPurchasesCommand.self, BenchLatencyCommand.self, BenchFlashSaleCommand.self, BenchScaleCommand.self,
                                                                        BenchIngestCommand.self, BenchPagesCommand.self])
}
