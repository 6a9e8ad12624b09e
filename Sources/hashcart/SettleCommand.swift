import ArgumentParser
import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore

/// `hashcart settle`: closes each UTC day through `--through` into one batch per merchant, and
/// with `--nacha FILE` pays every batch waiting in one NACHA payout file.
struct SettleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settle",
        abstract: "Settle merchants: one batch per merchant per UTC day through --through (captures less fees, refunds and funded statement credits), paid by a NACHA payout file with --nacha.",
        discussion: """
            Each day is settled once, whatever runs it (a second run, a second instance): the day's \
            batches move each payout from the merchant's payable to settlement clearing. With --nacha, \
            every batch waiting whose merchant has a payout account is written into one file of CCD \
            credits, and moves from clearing to paid. A day can be settled from 5 minutes after it \
            ends (UTC). A day that nets negative (refunds after settlement) pays nothing and comes \
            off the merchant's next batch.
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: "The last UTC day to settle, YYYY-MM-DD (every earlier day not yet settled is settled too).")
    var through: String

    @Option(help: "Write the payout file (NACHA, CCD credits) here, paying every batch waiting. The file must not exist.")
    var nacha: String?

    @Option(help: "Which mode's store to settle: `live` (the folder itself, or the URL's schema) or `test` (DIR/test, or NAME_test). Default: live.")
    var mode: String = Mode.live.rawValue

    @Option(name: .customLong("config"),
            help: "hashcart.yaml, whose `settlement:` section names the ACH originator (required for live payout files; test mode has a test originator). Default: $HASHCART_CONFIG.")
    var config: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        do {
            _ = try SettlementDay(parsing: through)
        } catch {
            throw ValidationError("--through: \(error.message)")
        }
        guard Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be live or test") }
        if let nacha {
            guard !nacha.isEmpty, nacha.utf8.count <= 4096, !nacha.hasSuffix("/") else { throw ValidationError("--nacha must be a file path") }
            guard !FileManager.default.fileExists(atPath: nacha) else {
                throw ValidationError("--nacha \(nacha) already exists: a payout file is never overwritten")
            }
            let folder = (nacha as NSString).deletingLastPathComponent
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--nacha: the folder \(folder) does not exist")
            }
        }
    }

    func run() async throws {
        let mode = Mode(rawValue: mode)!
        let day = try! SettlementDay(parsing: through)
        let environment = ProcessInfo.processInfo.environment
        var originator: NACHAOriginator?
        if nacha != nil {
            if let path = config ?? environment["HASHCART_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
                do {
                    originator = try HashcartConfiguration.load(path: path, environment: environment).settlement
                } catch {
                    fail(error.description)
                }
            }
            if originator == nil {
                // Test data: test mode's store, or a folder with the sandbox network beside its store
                // (the demo's; live mode never has a sandbox). Its files use the test originator.
                let folder = store.data ?? "hashcart-data"
                let sandboxBeside = store.databaseURL() == nil
                    && FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(SandboxNetwork.fileName))
                guard mode == .test || sandboxBeside else {
                    fail("a live payout file needs the originator: add a settlement: section to hashcart.yaml (--config)")
                }
                originator = .testMode
            }
        }
        let opened = await store.openExisting(mode: mode)
        let closed: SettlementCloseResult
        var paid: PayoutResult?
        let now = SystemWallClock().now()
        do {
            do {
                let settlement = Settlement(store: opened)
                closed = try await settlement.close(through: day, now: now)
                if let nacha, let originator {
                    paid = try await PayoutFileWriter.pay(settlement, originator: originator, now: now) { _ in nacha }.result
                }
            } catch {
                try? await opened.close()
                throw error
            }
            try? await opened.close()
        } catch let error as SettlementError {
            fail(error.description)
        } catch let error as PayoutFileWriter.WriteError {
            fail(error.description)
        } catch let error as StoreError {
            fail(error.description)
        } catch let error as CocoaError {
            fail("--nacha \(nacha ?? ""): \(error.localizedDescription)")
        }
        report(mode: mode, closed: closed, paid: paid)
    }

    func report(mode: Mode, closed: SettlementCloseResult, paid: PayoutResult?) {
        let created = closed.batches
        let paidBatches = paid?.batchesPaid ?? []
        let netPaid = paidBatches.reduce(Int64(0)) { $0 + $1.payout }
        if json {
            var object: [String: Any] = [
                "mode": mode.rawValue, "through": closed.through?.description ?? through,
                "days_closed": closed.daysClosed.map(\.description), "batches": created.count,
                "net_settled": created.reduce(Int64(0)) { $0 + $1.payout },
                "carried_forward": created.reduce(Int64(0)) { $0 + $1.carriedOut },
                "batches_paid": paidBatches.count, "net_paid": netPaid,
                "settlements": created.map(Self.json),
                "merchants_without_payout_account": (paid?.merchantsWithoutPayoutAccount ?? []).map(\.rawValue),
            ]
            if let from = closed.from { object["from"] = from.description }
            if let file = paid?.file {
                object["payout_file"] = [
                    "id": file.id, "path": nacha ?? "", "batch_count": file.totals.batchCount, "entry_count": file.totals.entryCount,
                    "block_count": file.totals.blockCount, "entry_hash": file.totals.entryHash, "total_credit": file.totals.totalCredit,
                ] as [String: Any]
            }
            printJSON(object)
            return
        }
        if closed.daysClosed.isEmpty {
            print("nothing to settle through \(closed.through?.description ?? through) in \(mode) mode (every day with money is settled)")
        } else {
            print("settled \(closed.daysClosed.first!) through \(closed.daysClosed.last!) in \(mode) mode: \(created.count) batch(es), \(Money.usd(created.reduce(0) { $0 + $1.payout })) to pay")
        }
        for batch in created {
            print("  \(batch.id): sales \(Money.usd(batch.sales)), fees \(Money.usd(batch.fees)), refunds \(Money.usd(batch.refunds)), credits \(Money.usd(batch.statementCredits)), carried in \(Money.usd(batch.carriedIn)) → payout \(Money.usd(batch.payout))\(batch.carriedOut < 0 ? ", carried forward \(Money.usd(batch.carriedOut))" : "")")
        }
        if let paid {
            if let file = paid.file {
                print("payout file \(file.id) → \(nacha!): \(file.totals.entryCount) credit(s), \(Money.usd(file.totals.totalCredit)), entry hash \(file.totals.entryHash)")
            } else {
                print("no payout file: no batch is waiting for one")
            }
            if !paid.merchantsWithoutPayoutAccount.isEmpty {
                print("waiting for a payout account: \(paid.merchantsWithoutPayoutAccount.map(\.rawValue).joined(separator: ", "))")
            }
        }
    }

    static func json(_ batch: SettlementBatch) -> [String: Any] {
        var object: [String: Any] = [
            "id": batch.id.rawValue, "merchant": batch.merchantID.rawValue, "day": batch.day.description, "sales": batch.sales,
            "fees": batch.fees, "refunds": batch.refunds, "statement_credits": batch.statementCredits, "carried_in": batch.carriedIn,
            "net": batch.net, "payout": batch.payout, "carried_out": batch.carriedOut, "state": batch.state.rawValue,
            "movements": batch.movementCount,
        ]
        if let trace = batch.traceNumber { object["trace_number"] = trace }
        return object
    }
}
