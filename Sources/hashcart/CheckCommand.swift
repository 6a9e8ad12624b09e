import ArgumentParser
import Foundation
import HashcartCore
import HashcartStore

/// `hashcart check`: reads a store and reports every broken rule; exit 1 if any.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a store (a data folder, or --database) against the rules that are never broken (ledger, stock, captures, refunds, privacy).")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let url = store.databaseURL()
        let directory = store.data ?? "hashcart-data"
        if url == nil {
            guard store.data != nil else { fail("--data DIR is required: the data folder to check (or --database postgres://…)") }
            guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(SQLiteStore.fileName)) else {
                fail("no Hashcart store in \(directory) (expected \(SQLiteStore.fileName))")
            }
        }
        let violations: [InvariantViolation]
        let counts: [String: Int64]
        do {
            let key = store.resolvedKey(directory: directory)
            let opened: any HashcartDatabase = if let url { try PostgresStore(url: url, encryptionKey: key) }
                else { try SQLiteStore(directory: directory, encryptionKey: key) }
            defer { try? opened.close() }
            (violations, counts) = try opened.read { reader in
                (try reader.audit(), [
                    "purchases": try reader.count("purchases"), "orders": try reader.count("orders"),
                    "ledger_transfers": try reader.count("ledger_transfers"), "outbound_posts": try reader.count("outbound_posts"),
                ])
            }
        } catch let error as StoreError {
            fail(error.description)
        }
        if json {
            printJSON([
                "ok": violations.isEmpty, "checked": counts,
                "invariant_violations": violations.map { ["rule": $0.rule, "subject": $0.subject, "detail": $0.detail] },
            ] as [String: Any])
        } else {
            print("checked \(counts["purchases"]!) purchases, \(counts["orders"]!) orders, \(counts["ledger_transfers"]!) ledger transfers, \(counts["outbound_posts"]!) outbound posts")
            if violations.isEmpty {
                print("ok: no rule is broken")
            } else {
                print("\(violations.count) violation(s):")
                for violation in violations { print("  \(violation)") }
            }
        }
        if !violations.isEmpty { throw ExitCode(1) }
    }
}
