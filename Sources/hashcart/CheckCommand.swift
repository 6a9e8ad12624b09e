import ArgumentParser
import Foundation
import HashcartCore
import HashcartEngine
import HashcartStore

/// `hashcart check`: reads a store and reports every broken rule; exit 1 if any.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a store (a data folder, or --database) against the rules that are never broken (ledger, clearing, holds, stock, captures, refunds, privacy).")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(name: .customLong("hold-grace"),
            help: "Seconds a hold may stay pending past its timeout before it is reported (the engine's timers release it), 0…2592000.")
    var holdGrace: Int64 = 3_600

    @Option(help: "Which mode's store of a `serve` data folder or database to check: `live` (the folder itself, or the URL's schema) or `test` (DIR/test, or the schema NAME_test). Default: live.")
    var mode: String = Mode.live.rawValue

    func validate() throws {
        guard (0...2_592_000).contains(holdGrace) else { throw ValidationError("--hold-grace must be between 0 and 2592000 seconds") }
        guard Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be live or test") }
    }

    func run() async throws {
        let mode = Mode(rawValue: mode)!
        let violations: [InvariantViolation]
        let counts: [String: Int64]
        do {
            let opened = await store.openExisting(mode: mode)
            do {
                (violations, counts) = try await opened.read { [holdGrace] reader in
                    // Holds are judged as of the store's last recorded moment when that is earlier than
                    // now: a store nobody has run since (the demo's, a backup) did not fail to expire
                    // holds whose timeout came after it stopped; an engine that runs but does not
                    // expire them keeps recording, and is caught.
                    let now = SystemWallClock().now()
                    let asOf = try reader.latestRecordedAt().map { min($0, now) } ?? now
                    return (try reader.audit(limit: 100, holdsExpiredBefore: asOf.adding(seconds: -holdGrace)), [
                        "purchases": try reader.count("purchases"), "orders": try reader.count("orders"),
                        "ledger_transfers": try reader.count("ledger_transfers"), "outbound_posts": try reader.count("outbound_posts"),
                    ])
                }
            } catch {
                try? await opened.close()
                throw error
            }
            try? await opened.close()
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
