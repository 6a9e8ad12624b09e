import ArgumentParser
import Foundation
import HashcartCore
import HashcartEngine

/// `hashcart tax-table`: checks a sales-tax table, or builds one from a rate provider's ZIP5
/// tables, for `serve --tax-table`.
struct TaxTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tax-table",
        abstract: "Check a sales-tax table, or build one with combined rates by ZIP from a rate provider's ZIP5 files (for serve --tax-table).",
        subcommands: [Check.self, Import.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Parse a table as serve would and say what it holds.")

        @Argument(help: "The table (CSV).")
        var file: String

        func run() throws {
            let table = TaxTableFiles.table(at: file, flag: "tax-table check")
            let rules = table.categoryRules.values.reduce(0) { $0 + $1.count }
            print("\(file): version \(table.version), effective \(table.effective.map(String.init(describing:)) ?? "always (no effective day)"), "
                  + "\(table.stateRates.count) state rates, \(table.zipRates.count) ZIP rates, \(rules) category rules")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a table from ZIP5 rate files (State,ZipCode,…,EstimatedCombinedRate,StateRate,…: Avalara's free monthly layout).",
            discussion: """
                The files' states take their state rate and ZIP rows from the files; other states, and \
                every category rule, come from the bundled table. Rates are read exactly (to a \
                millionth); a malformed row stops the import with its file and line, and nothing is written.
                """)

        @Option(help: "The new table's version (stored on every order priced with it).")
        var version: String

        @Option(help: "The UTC day it takes effect, YYYY-MM-DD.")
        var effective: String

        @Option(help: "Where to write the table; the file must not exist.")
        var output: String

        @Argument(help: "The provider's ZIP5 files, one per state (at most 60).")
        var files: [String]

        func run() throws {
            let day: SettlementDay
            do {
                day = try SettlementDay(parsing: effective)
            } catch {
                fail("--effective: \(error.message)")
            }
            guard !files.isEmpty else { fail("tax-table import: name at least one ZIP5 file") }
            guard !FileManager.default.fileExists(atPath: output) else { fail("--output \(output.prefix(256)) already exists: a table is never overwritten") }
            var importer = ZIP5RateImport()
            for file in files {
                let text = TaxTableFiles.text(at: file, limit: ZIP5RateImport.maximumFileBytes, flag: "tax-table import")
                do {
                    try importer.add(text, name: (file as NSString).lastPathComponent)
                } catch {
                    fail("\(error.field): \(error.message)")
                }
            }
            let table: TaxRateTable
            do {
                table = try importer.table(version: version, effective: day, base: try BundledTaxTable.load())
            } catch let error as HashcartCore.ValidationError {
                fail("\(error.field): \(error.message)")
            } catch {
                fail("\(error)")
            }
            do {
                try Data(table.csv.utf8).write(to: URL(fileURLWithPath: output), options: .withoutOverwriting)
            } catch {
                fail("--output \(output.prefix(256)): \(error.localizedDescription)")
            }
            print("\(output): version \(table.version) from \(day): \(importer.rows) ZIP rows from \(importer.files) files, "
                  + "states \(importer.stateRates.keys.map(\.rawValue).sorted().joined(separator: " "))")
        }
    }
}

/// Reading table files: a regular file, its size checked before it is read, UTF-8.
enum TaxTableFiles {
    static func text(at path: String, limit: Int, flag: String) -> String {
        let shown = String(path.prefix(256))
        // A link is followed to what it names (the size and type checked are the target's).
        let resolved = path.utf8.count <= 4096 ? URL(fileURLWithPath: path).resolvingSymlinksInPath().path : nil
        let attributes = resolved.flatMap { try? FileManager.default.attributesOfItem(atPath: $0) }
        guard let attributes else { fail("\(flag) \(shown): no such file") }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { fail("\(flag) \(shown): not a regular file") }
        guard let size = attributes[.size] as? Int, size <= limit else { fail("\(flag) \(shown): over \(limit >> 20) MiB") }
        guard let resolved, let data = FileManager.default.contents(atPath: resolved) else { fail("\(flag) \(shown): cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { fail("\(flag) \(shown): not UTF-8 text") }
        return text
    }

    static func table(at path: String, flag: String) -> TaxRateTable {
        let text = text(at: path, limit: TaxRateTable.maximumTextBytes, flag: flag)
        do {
            return try TaxRateTable.parse(text)
        } catch {
            fail("\(flag) \(String(path.prefix(256))): \(error.field): \(error.message)")
        }
    }
}
