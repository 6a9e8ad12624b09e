import HashcartCore

/// Why settlement refused to run. Nothing is changed when it does.
public enum SettlementError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The day has not ended (with its grace) yet: a capture could still be recorded in it.
    case dayNotOver(SettlementDay, settleableFrom: Instant)
    case tooManyDays(first: SettlementDay, through: SettlementDay)
    case tooManyFilesToday(SettlementDay)
    case payoutFile(NACHAFile.BuildError)

    public var description: String {
        switch self {
        case .dayNotOver(let day, let from):
            "\(day) is not over: a day can be settled from \(Settlement.closingGraceSeconds / 60) minutes after it ends (UTC), here from \(from.millisecondsSinceEpoch / 1000) (unix seconds)"
        case .tooManyDays(let first, let through):
            "settling \(first) through \(through) would close more than \(Settlement.maximumDaysPerRun) days in one run; settle an earlier --through first"
        case .tooManyFilesToday(let day): "\(PayoutFileRecord.modifiers.count) payout files were already written on \(day), the most one day's modifiers allow"
        case .payoutFile(let error): "the payout file could not be built: \(error)"
        }
    }
}

/// What one run of ``Settlement/close(through:now:)`` did.
public struct SettlementCloseResult: Sendable, Hashable {
    /// Days this run closed, in order (days closed earlier, by this or another instance, are not here).
    public var daysClosed: [SettlementDay] = []
    /// Batches this run created, by day then merchant.
    public var batches: [SettlementBatch] = []
    /// The first and last day looked at (nil when there was nothing to settle).
    public var from: SettlementDay?
    public var through: SettlementDay?
}

/// What one run of ``Settlement/pay(originator:now:stage:)`` did.
public struct PayoutResult: Sendable {
    /// The file written, or nil when no batch was waiting (or none had a payout account).
    public var file: PayoutFileRecord?
    public var batchesPaid: [SettlementBatch] = []
    /// Merchants with batches waiting but no payout account: their batches stay in clearing.
    public var merchantsWithoutPayoutAccount: [MerchantID] = []
}

/// Settling merchants: each UTC day closed once into one batch per merchant (payable →
/// settlement clearing), then every batch waiting paid by one NACHA file (clearing → paid).
///
/// Both steps are single write transactions of the store, so a crash leaves either all of a day
/// (or a file) or none of it; a day's row in `settlement_days` is its claim, so a second run or
/// a second instance never settles it again. Live and test mode are separate stores: settlement
/// runs on the store it is given.
public struct Settlement: Sendable {
    /// A day is settled from this long after it ends, so that a capture committed in its last
    /// moments (a transaction's time is taken when it starts) is inside it.
    public static let closingGraceSeconds: Int64 = 300
    /// The most days one run closes (ten years): the bound on a run's work.
    public static let maximumDaysPerRun = 3_660
    /// The most batches one payout file pays.
    public static let maximumBatchesPerFile = 10_000

    let store: any EngineStore

    public init(store: any EngineStore) { self.store = store }

    /// Closes every day not yet closed, from the first with money through `through`.
    public func close(through: SettlementDay, now: Instant) async throws -> SettlementCloseResult {
        let settleableFrom = through.end.adding(seconds: Self.closingGraceSeconds)
        guard now >= settleableFrom else { throw SettlementError.dayNotOver(through, settleableFrom: settleableFrom) }
        let (latest, earliest) = try await store.write { tx in (try tx.latestClosedSettlementDay(), try tx.earliestPostedTransferAt()) }
        guard let first = latest?.next ?? earliest.map(SettlementDay.init(containing:)) else { return SettlementCloseResult() }
        var result = SettlementCloseResult(from: first, through: through)
        guard first <= through else { return result }
        guard through.dayNumber - first.dayNumber < Int64(Self.maximumDaysPerRun) else {
            throw SettlementError.tooManyDays(first: first, through: through)
        }
        var day = first
        while day <= through {
            let closing = day
            if let batches = try await store.write({ tx in try Self.closeDay(closing, now: now, tx: tx) }) {
                result.daysClosed.append(day)
                result.batches += batches
            }
            day = day.next
        }
        return result
    }

    /// One day in one transaction: nil if it was already closed.
    static func closeDay(_ day: SettlementDay, now: Instant, tx: any StoreTransaction) throws -> [SettlementBatch]? {
        let movements = try tx.settlementMovements(day: day)
        let merchants = Array(Set(movements.map(\.merchantID))).sorted()
        let carries = try tx.settlementCarries(merchants: merchants, before: day)
        let batches = SettlementCalculator.batches(day: day, movements: movements, carried: carries, now: now)
        guard try tx.closeSettlementDay(day, batchCount: batches.count, at: now) else { return nil }
        for batch in batches {
            try tx.insertSettlementBatch(batch)
            if batch.payout > 0 {
                try Ledger.submit([SettlementTransfers.clearing(of: batch, now: now)], now: now, storage: tx, knownNew: true)
            }
        }
        return batches
    }

    /// Pays every batch waiting whose merchant has a payout account, in one NACHA file.
    ///
    /// - Parameter stage: called inside the transaction with the file before it commits (write
    ///   it somewhere durable there); if it throws, nothing is paid. The file's text stays in
    ///   the store either way it ends, to be written again.
    public func pay(originator: NACHAOriginator, now: Instant,
                    stage: @escaping @Sendable (PayoutFileRecord) throws -> Void) async throws -> PayoutResult {
        try await store.write { tx in
            var result = PayoutResult()
            let waiting = try tx.settlementBatchesAwaitingPayout(limit: Self.maximumBatchesPerFile)
            let accounts = try tx.payoutAccounts(Array(Set(waiting.map(\.merchantID))))
            result.merchantsWithoutPayoutAccount = Array(Set(waiting.map(\.merchantID)).subtracting(accounts.keys)).sorted()
            let payable = waiting.filter { accounts[$0.merchantID] != nil }
            guard !payable.isEmpty else { return result }
            let today = SettlementDay(containing: now)
            let count = try tx.payoutFileCount(createdOn: today)
            guard count < PayoutFileRecord.modifiers.count else { throw SettlementError.tooManyFilesToday(today) }
            let modifier = PayoutFileRecord.modifiers[count]
            var names: [MerchantID: String] = [:]
            for merchant in Set(payable.map(\.merchantID)) { names[merchant] = try tx.merchant(merchant)?.name ?? merchant.rawValue }
            let entries = payable.map { batch in
                NACHAEntry(account: accounts[batch.merchantID]!, amount: batch.payout, identification: batch.reference,
                           receiverName: names[batch.merchantID]!, day: batch.day)
            }
            let file: NACHAFile
            do throws(NACHAFile.BuildError) {
                file = try NACHAFile(originator: originator, entries: entries, createdAt: now, fileIDModifier: modifier,
                                      effectiveDate: BankingCalendar.nextBankingDay(after: today))
            } catch {
                throw SettlementError.payoutFile(error)
            }
            precondition(file.totals.totalCredit == payable.reduce(0) { $0 + $1.payout }, "the file pays exactly the batches")
            let record = PayoutFileRecord(id: PayoutFileRecord.id(day: today, modifier: modifier), createdDay: today, modifier: modifier,
                                          createdAt: now, totals: file.totals, content: file.text)
            try tx.insertPayoutFile(record)
            for (batch, trace) in zip(payable, file.traceNumbers) {
                try tx.markSettlementBatchPaid(batch.id, fileID: record.id, traceNumber: trace, at: now)
                try Ledger.submit([SettlementTransfers.payout(of: batch, now: now)], now: now, storage: tx, knownNew: true)
                var paid = batch
                paid.state = .paid
                paid.paidAt = now
                paid.payoutFileID = record.id
                paid.traceNumber = trace
                result.batchesPaid.append(paid)
            }
            try stage(record)
            result.file = record
            return result
        }
    }
}
