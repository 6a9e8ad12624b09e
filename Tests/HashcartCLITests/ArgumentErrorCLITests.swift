import Foundation
import Testing

/// Bad command lines get one clear error, a non-zero exit, and create nothing.
@Suite struct ArgumentErrorCLITests {
    struct BadCommand: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        /// Text the error must contain.
        var message: String
        var usesDataFolder: Bool

        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badCommands: [BadCommand] = [
        BadCommand(arguments: ["demo", "--cardholders", "0"], message: "--cardholders must be between", usesDataFolder: true),
        BadCommand(arguments: ["demo", "--cardholders", "20001"], message: "--cardholders must be between", usesDataFolder: true),
        BadCommand(arguments: ["demo", "--cardholders", "abc"], message: "'abc' is invalid", usesDataFolder: true),
        BadCommand(arguments: ["demo", "--seed", "-5"], message: "--seed", usesDataFolder: true),
        BadCommand(arguments: ["demo", "--seed", "banana"], message: "--seed", usesDataFolder: true),
        BadCommand(arguments: ["demo", "--serve", "--port", "70000"], message: "--port must be between 0 and 65535", usesDataFolder: true),
        BadCommand(arguments: ["demo", "--serve", "--port", "-1"], message: "--port", usesDataFolder: true),
        BadCommand(arguments: ["demo", "--serve", "--port", "http"], message: "--port", usesDataFolder: true),
        BadCommand(arguments: ["demo", "--serve", "--json"], message: "leave out --json", usesDataFolder: true),
        BadCommand(arguments: ["bench", "pages", "--orders", "0"], message: "--orders must be between", usesDataFolder: true),
        BadCommand(arguments: ["bench", "pages", "--requests", "5"], message: "--requests must be between", usesDataFolder: true),
        BadCommand(arguments: ["bench", "pages", "--requests", "many"], message: "--requests", usesDataFolder: true),
        BadCommand(arguments: ["check"], message: "--data", usesDataFolder: false),
        BadCommand(arguments: ["check", "--data", "/nonexistent"], message: "no Hashcart store", usesDataFolder: false),
        BadCommand(arguments: ["check"], message: "no Hashcart store", usesDataFolder: true),
        BadCommand(arguments: ["check", "--hold-grace", "-1"], message: "--hold-grace", usesDataFolder: true),
        BadCommand(arguments: ["check", "--hold-grace", "soon"], message: "--hold-grace", usesDataFolder: true),
        BadCommand(arguments: ["bench", "purchases", "--count", "0"], message: "--count must be between", usesDataFolder: true),
        BadCommand(arguments: ["bench", "purchases", "--count", "1000001"], message: "--count must be between", usesDataFolder: true),
        BadCommand(arguments: ["bench", "purchases", "--batch", "999999"], message: "--batch must be between", usesDataFolder: true),
        BadCommand(arguments: ["bench", "purchases", "--batch", "0"], message: "--batch must be between", usesDataFolder: true),
        BadCommand(arguments: ["bench", "frobnicate"], message: "frobnicate", usesDataFolder: false),
        BadCommand(arguments: ["bench", "latency", "--peak-count", "10"], message: "--peak-count must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "latency", "--seconds", "0"], message: "--seconds must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "latency", "--batch", "10001"], message: "--batch must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "flash-sale", "--cardholders", "10"], message: "--cardholders must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "flash-sale", "--cardholders", "1000", "--units", "1001"], message: "--units must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "flash-sale", "--window-ms=-1"], message: "--window-ms must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "scale", "--cardholders", "999"], message: "--cardholders must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "scale", "--events", "many"], message: "--events", usesDataFolder: false),
        BadCommand(arguments: ["bench", "scale", "--cardholders", "1000", "--events", "1000000"], message: "purchase posts need as many --cardholders",
                   usesDataFolder: false),
        BadCommand(arguments: ["frobnicate"], message: "frobnicate", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "x", "--file", "/dev/null", "--official", "ShopBot"], message: "numeric user id", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "mastodon", "--file", "/dev/null", "--official", "did:plc:a"], message: "account's URI", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "myspace", "--file", "/dev/null", "--dry-run"], message: "is not one of x, mastodon, bluesky", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "bluesky", "--file", "/nonexistent", "--dry-run"], message: "cannot read", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "bluesky", "--file", "/dev/null"], message: "--official is required", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "bluesky", "--file", "/dev/null", "--official", "alice"], message: "--official must be a DID", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "bluesky", "--file", "/dev/null", "--dry-run", "--hashtags", "no spaces"], message: "--hashtags", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "bluesky", "--file", "/dev/null", "--official", "did:plc:a"], message: "no Hashcart store", usesDataFolder: true),
        BadCommand(arguments: ["bench", "ingest", "--generate", "0"], message: "--generate must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "ingest"], message: "exactly one of --file and --generate", usesDataFolder: false),
        BadCommand(arguments: ["bench", "ingest", "--generate", "10", "--network", "x"], message: "only bluesky", usesDataFolder: false),
        BadCommand(arguments: ["bench", "ingest", "--generate", "10", "--rounds", "0"], message: "--rounds must be between", usesDataFolder: false),
        BadCommand(arguments: ["bench", "ingest", "--generate", "10", "--official", "bob"], message: "--official must be a DID", usesDataFolder: false),
        BadCommand(arguments: ["demo", "--no-such-flag"], message: "no-such-flag", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "bluesky", "--file", "/dev/null", "--dry-run", "--at=-5"], message: "--at must be unix seconds", usesDataFolder: false),
        BadCommand(arguments: ["replay", "--network", "bluesky", "--file", "/dev/null", "--dry-run", "--at", "tomorrow"], message: "--at", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds", "9..1"], message: "the first seed must not be after the last", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds", "banana"], message: "--seeds must be A..B or one seed N", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds", "1...5"], message: "--seeds must be A..B or one seed N", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds=-3..4"], message: "--seeds must be A..B or one seed N", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds", "0..99999999"], message: "at most 10000000 seeds", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--jobs", "0"], message: "--jobs must be between 1 and 64", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds", "1", "--directory", "/dev/null"], message: "--directory /dev/null: cannot make a folder", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds", "1", "--directory", " "], message: "--directory must name a folder", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds", "1", "--database", "mysql://root@localhost/shop"], message: "--database must be a postgres:// URL", usesDataFolder: false),
        BadCommand(arguments: ["sim", "--seeds", "1", "--database", "postgres://u@localhost/db?schema=Bad-Name"], message: "--database:", usesDataFolder: false),
        BadCommand(arguments: ["settle"], message: "--through", usesDataFolder: true),
        BadCommand(arguments: ["settle", "--through", "2026-13-01"], message: "--through: 2026-13-01 is not a day", usesDataFolder: true),
        BadCommand(arguments: ["settle", "--through", "2026-2-1"], message: "--through: must be a calendar date written YYYY-MM-DD", usesDataFolder: true),
        BadCommand(arguments: ["settle", "--through", "2026-11-27T00:00:00Z"], message: "YYYY-MM-DD", usesDataFolder: true),
        BadCommand(arguments: ["settle", "--through", "2026-11-27", "--mode", "prod"], message: "--mode must be live or test", usesDataFolder: true),
        BadCommand(arguments: ["settle", "--through", "2026-11-27"], message: "no Hashcart store", usesDataFolder: true),
        BadCommand(arguments: ["settle", "--through", "2026-11-27", "--nacha", "/nonexistent/payout.ach"], message: "the folder /nonexistent does not exist",
                   usesDataFolder: true),
        BadCommand(arguments: ["settle", "--through", "2026-11-27", "--nacha", "/dev/null"], message: "already exists: a payout file is never overwritten",
                   usesDataFolder: true),
        BadCommand(arguments: ["serve", "--tax-table", "/nonexistent/rates.csv"], message: "--tax-table /nonexistent/rates.csv: no such file",
                   usesDataFolder: true),
        BadCommand(arguments: ["serve", "--tax-table", "/etc/passwd"], message: "--tax-table /etc/passwd: tax line 1", usesDataFolder: true),
        BadCommand(arguments: ["serve", "--tax-table", "/bin/sh"], message: "not UTF-8 text", usesDataFolder: true),
        BadCommand(arguments: ["serve", "--tax-table", bundledTaxTable], message: "needs an `effective,YYYY-MM-DD` line", usesDataFolder: true),
        BadCommand(arguments: ["serve", "--tax-table", "/dev/zero"], message: "--tax-table /dev/zero: not a regular file", usesDataFolder: true),
        BadCommand(arguments: ["tax-table", "check", "/nonexistent/rates.csv"], message: "no such file", usesDataFolder: false),
        BadCommand(arguments: ["tax-table", "check", "/etc/passwd"], message: "tax line 1", usesDataFolder: false),
        BadCommand(arguments: ["tax-table", "import", "--version", "v", "--effective", "2026-13-01", "--output", "/nonexistent/t.csv", "/etc/passwd"],
                   message: "--effective", usesDataFolder: false),
        BadCommand(arguments: ["tax-table", "import", "--version", "v", "--effective", "2026-12-01", "--output", "/nonexistent/t.csv", "/etc/passwd"],
                   message: "passwd line 1: no State, ZipCode", usesDataFolder: false),
        BadCommand(arguments: ["tax-table", "import", "--version", "v", "--effective", "2026-12-01", "--output", "/nonexistent/t.csv"],
                   message: "files", usesDataFolder: false),
    ]

    /// The bundled table's source: a whole table, but with no day to take effect.
    static var bundledTaxTable: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/HashcartEngine/Resources/us-sales-tax-rates.csv").path
    }

    @Test(arguments: badCommands)
    func badArgumentsAreAClearErrorAndCreateNothing(_ command: BadCommand) async throws {
        let folder = TemporaryFolder("bad")
        let arguments = command.arguments + (command.usesDataFolder ? ["--data", folder.path] : [])
        let result = try await hashcart(arguments, timeout: 20)
        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.contains(command.message), "\(result)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Error Domain"), "\(result)")
        #expect(result.stderr.count < 2_000, "\(result)")
        #expect(!folder.exists, "\(folder.path) was created")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent"))
    }

    @Test func helpIsNotAnError() async throws {
        let help = try await hashcart(["--help"])
        #expect(help.status == 0, "\(help)")
        #expect(help.stdout.contains("demo") && help.stdout.contains("check") && help.stdout.contains("bench"))
    }
}
