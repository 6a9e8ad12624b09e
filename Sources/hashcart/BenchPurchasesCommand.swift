import ArgumentParser
struct BenchPurchasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "purchases")
    func run() async throws {}
}
