import ArgumentParser
import Foundation
import HashcartCore
import HashcartStore

@main
struct Hashcart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hashcart",
        abstract: "Pay-by-post: buy an offer by posting its hashtag, confirm by reposting the reply.",
        subcommands: [DemoCommand.self, ServeCommand.self, CheckCommand.self, SettleCommand.self, TaxTableCommand.self, BenchCommand.self, ReplayCommand.self, SimCommand.self])
}

/// Where the data folder and its encryption key come from, shared by the commands.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "The data folder (SQLite store and sandbox network).")
    var data: String?

    @Option(name: .customLong("encryption-key"),
            help: "32-byte key (base64 or hex) that seals billing addresses. Default: $HASHCART_ENCRYPTION_KEY, else the demo key file in the data folder.")
    var encryptionKey: String?

    @Option(name: .customLong("database"),
            help: "A PostgreSQL database, postgres://user[:password]@host[:port]/db (default: $HASHCART_DATABASE_URL; none: the SQLite store in the data folder).")
    var database: String?

    /// The PostgreSQL URL from the flag or the environment, checked; nil for the embedded SQLite store.
    func databaseURL() -> PostgresDatabaseURL? {
        Self.databaseURL(flag: database)
    }

    static func databaseURL(flag: String?) -> PostgresDatabaseURL? {
        guard let text = flag ?? ProcessInfo.processInfo.environment["HASHCART_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return nil
        }
        do {
            return try PostgresDatabaseURL(text)
        } catch {
            fail(error.description)
        }
    }

    static let demoKeyFile = "demo-encryption.key"

    /// The key from the flag, the environment, or (for demo data) the key file beside the data.
    func resolvedKey(directory: String) -> String? {
        if let encryptionKey { return encryptionKey }
        if let fromEnvironment = ProcessInfo.processInfo.environment["HASHCART_ENCRYPTION_KEY"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let path = (directory as NSString).appendingPathComponent(Self.demoKeyFile)
        return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension StoreOptions {
    /// Opens the existing store of `mode` (never creates one), or fails with a clear line.
    func openExisting(mode: Mode) async -> any HashcartDatabase {
        let url = databaseURL().map { mode == .live ? $0 : $0.testMode }
        let folder = data ?? "hashcart-data"
        let directory = mode == .live ? folder : (folder as NSString).appendingPathComponent(ServeCommand.testModeFolder)
        if url == nil {
            guard data != nil else { fail("--data DIR is required: the data folder (or --database postgres://…)") }
            guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(SQLiteStore.fileName)) else {
                let testStore = ((folder as NSString).appendingPathComponent(ServeCommand.testModeFolder) as NSString)
                    .appendingPathComponent(SQLiteStore.fileName)
                let hint = mode == .live && FileManager.default.fileExists(atPath: testStore) ? "; test mode's store is in \(folder)/test: add --mode test" : ""
                fail("no Hashcart store in \(directory) (expected \(SQLiteStore.fileName))\(hint)")
            }
        }
        do {
            let key = resolvedKey(directory: folder)
            if let url { return try await PostgresStore(url: url, encryptionKey: key) }
            return try SQLiteStore(directory: directory, encryptionKey: key)
        } catch let error as StoreError {
            fail(error.description)
        } catch {
            fail("\(error)")
        }
    }
}

/// A failure the command reports in one clear line (no stack trace), with exit code 2.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("hashcart: \(message)\n".utf8))
    exit(2)
}

/// Prints one JSON object: pretty, or on one line (`compact`, for JSON Lines).
func printJSON(_ value: Any, compact: Bool = false) {
    let options: JSONSerialization.WritingOptions = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys]
    let data = try! JSONSerialization.data(withJSONObject: value, options: options)
    print(String(decoding: data, as: UTF8.self))
}
