import Foundation
import HashcartCore
import HashcartEngine
import Logging
import ServiceLifecycle

/// `serve --settle-daily`: settlement on a schedule, for one mode's store. Every minute it
/// closes every day that is over (from 5 minutes past midnight UTC), and, with a payout folder,
/// pays every batch waiting in a NACHA file there (`payout_YYYYMMDD_M.ach`). Runs on every
/// instance: a day is closed once and a batch paid once whichever instance gets there first.
public struct SettlementScheduler: Service {
    let settlement: Settlement
    let mode: Mode
    let clock: any WallClock
    /// Where payout files are written; nil: days are closed and batches wait in clearing.
    let payoutDirectory: String?
    let originator: NACHAOriginator
    let logger: Logger
    let interval: Duration

    public init(store: any EngineStore, mode: Mode, clock: any WallClock, payoutDirectory: String?, originator: NACHAOriginator,
                logger: Logger, interval: Duration = .seconds(60)) {
        self.settlement = Settlement(store: store)
        self.mode = mode
        self.clock = clock
        self.payoutDirectory = payoutDirectory
        self.originator = originator
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await runOnce()
                failures = 0
            } catch {
                failures += 1
                logger.error("settlement failed; retrying", metadata: ["mode": "\(mode)", "error": "\(error)", "failures": "\(failures)"])
            }
            let interval = interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Closes the days that are over and pays what waits; what it did is logged.
    public func runOnce() async throws {
        let now = clock.now()
        let lastOver = SettlementDay(containing: now.adding(seconds: -Settlement.closingGraceSeconds)).previous
        let closed = try await settlement.close(through: lastOver, now: now)
        if !closed.daysClosed.isEmpty {
            logger.info("settled", metadata: [
                "mode": "\(mode)", "days": "\(closed.daysClosed.map(\.description).joined(separator: ","))",
                "batches": "\(closed.batches.count)", "payout": "\(closed.batches.reduce(Int64(0)) { $0 + $1.payout })",
            ])
        }
        guard let payoutDirectory else { return }
        let folder = payoutDirectory
        let paid: PayoutResult
        do {
            let (result, path) = try await PayoutFileWriter.pay(settlement, originator: originator, now: now) { file in
                (folder as NSString).appendingPathComponent("\(file.id).ach")
            }
            paid = result
            if let file = paid.file, let final = path {
                logger.info("payout file written", metadata: [
                    "mode": "\(mode)", "path": "\(final)", "entries": "\(file.totals.entryCount)", "total_credit": "\(file.totals.totalCredit)",
                ])
            }
        } catch let error as PayoutFileWriter.WriteError {
            logger.critical("\(error)")
            return
        }
        if !paid.merchantsWithoutPayoutAccount.isEmpty {
            logger.warning("batches wait for a payout account", metadata: ["mode": "\(mode)",
                           "merchants": "\(paid.merchantsWithoutPayoutAccount.map(\.rawValue).joined(separator: ","))"])
        }
    }
}
