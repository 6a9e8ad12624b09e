public enum SettlementBatchKind {}
/// A settlement batch id: `stl_<YYYYMMDD>_<merchant>`, one per merchant and day by construction,
/// so that a second run or a second instance settling the same day collides instead of paying twice.
public typealias SettlementBatchID = Identifier<SettlementBatchKind>

/// What the issuer pays one merchant for one UTC day: its captured sales less the issuer's fees,
/// refunds and the statement credits it funded, plus what an earlier negative day left to recover.
///
/// The figures are signed minor units as a statement shows them: `sales` positive, `fees`,
/// `refunds` and `statementCredits` usually negative. `net` is exactly what the day moved on the
/// merchant's payable. A day whose `net` (with what was carried in) is negative pays nothing and
/// carries the deficit to the merchant's next batch: a refund after settlement comes off the next
/// payout as a negative line.
public struct SettlementBatch: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// The payout sits in settlement clearing, waiting for a payout file.
        case awaitingPayout = "awaiting_payout"
        /// Written into a NACHA file: clearing → paid.
        case paid
        /// Nothing to pay (the day netted to zero or less); any deficit is carried forward.
        case nothingToPay = "nothing_to_pay"
    }

    public var id: SettlementBatchID
    public var merchantID: MerchantID
    public var day: SettlementDay
    public var sales: Int64
    public var fees: Int64
    public var refunds: Int64
    public var statementCredits: Int64
    /// A deficit from earlier batches (≤ 0).
    public var carriedIn: Int64
    /// sales + fees + refunds + statementCredits.
    public var net: Int64
    /// max(0, net + carriedIn).
    public var payout: Int64
    /// min(0, net + carriedIn): the deficit the next batch starts from.
    public var carriedOut: Int64
    public var movementCount: Int
    public var state: State
    public var createdAt: Instant
    public var paidAt: Instant?
    public var payoutFileID: String?
    public var traceNumber: String?

    public init(id: SettlementBatchID, merchantID: MerchantID, day: SettlementDay, sales: Int64, fees: Int64, refunds: Int64,
                statementCredits: Int64, carriedIn: Int64, net: Int64, payout: Int64, carriedOut: Int64, movementCount: Int,
                state: State, createdAt: Instant, paidAt: Instant? = nil, payoutFileID: String? = nil, traceNumber: String? = nil) {
        self.id = id
        self.merchantID = merchantID
        self.day = day
        self.sales = sales
        self.fees = fees
        self.refunds = refunds
        self.statementCredits = statementCredits
        self.carriedIn = carriedIn
        self.net = net
        self.payout = payout
        self.carriedOut = carriedOut
        self.movementCount = movementCount
        self.state = state
        self.createdAt = createdAt
        self.paidAt = paidAt
        self.payoutFileID = payoutFileID
        self.traceNumber = traceNumber
    }

    public static func id(merchant: MerchantID, day: SettlementDay) -> SettlementBatchID {
        SettlementBatchID("stl_\(day.compact)_\(merchant.rawValue)")
    }

    /// The 15-character identification number the NACHA entry carries (`HC` and 13 base-36
    /// digits of the batch id's FNV-1a hash): what the merchant's bank statement shows.
    public var reference: String {
        var value = FNV1a.hash(id.rawValue)
        var digits: [Character] = []
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for _ in 0..<13 {
            digits.append(alphabet[Int(value % 36)])
            value /= 36
        }
        return "HC" + String(digits.reversed())
    }
}

/// Computes a day's batches from its movements: pure, so the engine, the audit and the tests
/// compute the same figures.
public enum SettlementCalculator {
    /// The most (summed) movements one day's computation takes: six kinds per merchant, so far
    /// more merchants than one issuer has.
    public static let maximumMovementsPerDay = 1_000_000

    /// One batch per merchant that moved money on `day` or still carries a deficit into it.
    ///
    /// - Parameters:
    ///   - movements: the day's settlement movements (summed or not).
    ///   - carried: each merchant's deficit carried out of its latest earlier batch (≤ 0).
    public static func batches(day: SettlementDay, movements: [SettlementMovement], carried: [MerchantID: Int64],
                               now: Instant) -> [SettlementBatch] {
        precondition(movements.count <= maximumMovementsPerDay, "a day's movements are bounded")
        struct Sums { var sale: Int64 = 0, saleFee: Int64 = 0, refund: Int64 = 0, refundFee: Int64 = 0, funding: Int64 = 0, clawback: Int64 = 0, count = 0 }
        var sums: [MerchantID: Sums] = [:]
        for movement in movements {
            precondition(movement.amount > 0 && movement.count > 0, "movements are positive")
            var entry = sums[movement.merchantID, default: Sums()]
            switch movement.kind {
            case .sale: entry.sale += movement.amount
            case .saleFee: entry.saleFee += movement.amount
            case .refund: entry.refund += movement.amount
            case .refundFee: entry.refundFee += movement.amount
            case .creditFunding: entry.funding += movement.amount
            case .creditClawback: entry.clawback += movement.amount
            }
            entry.count += movement.count
            sums[movement.merchantID] = entry
        }
        // Only movements create a batch: a carried deficit waits for the merchant's next day of business.
        return sums.keys.sorted().map { merchant in
            let s = sums[merchant]!
            let carriedIn = carried[merchant] ?? 0
            precondition(carriedIn <= 0, "only a deficit is carried forward")
            let sales = s.sale + s.saleFee
            let fees = s.refundFee - s.saleFee
            let refunds = -(s.refund + s.refundFee)
            let credits = s.clawback - s.funding
            let net = sales + fees + refunds + credits
            precondition(net == s.sale - s.refund - s.funding + s.clawback, "a batch's net is what the day moved on the payable")
            let balance = net + carriedIn
            let payout = max(0, balance)
            let carriedOut = min(0, balance)
            precondition(payout + carriedOut == net + carriedIn && payout >= 0 && carriedOut <= 0, "payout and carry add up")
            return SettlementBatch(id: SettlementBatch.id(merchant: merchant, day: day), merchantID: merchant, day: day,
                                   sales: sales, fees: fees, refunds: refunds, statementCredits: credits, carriedIn: carriedIn,
                                   net: net, payout: payout, carriedOut: carriedOut, movementCount: s.count,
                                   state: payout > 0 ? .awaitingPayout : .nothingToPay, createdAt: now)
        }
    }
}

/// The ledger transfers of a batch: its payout leaves the merchant's payable for settlement
/// clearing when the batch is closed, and leaves clearing for the issuer's paid-out account when
/// it is written into a payout file.
public enum SettlementTransfers {
    public static func clearing(of batch: SettlementBatch, now: Instant) -> Transfer {
        precondition(batch.payout > 0, "only a positive payout moves money")
        return Transfer(id: TransferID("settle:\(batch.id.rawValue):clearing"), debit: LedgerAccounts.merchantPayable(batch.merchantID).id,
                        credit: LedgerAccounts.settlementClearing.id, amount: batch.payout, code: .settlementBatch, createdAt: now)
    }

    public static func payout(of batch: SettlementBatch, now: Instant) -> Transfer {
        precondition(batch.payout > 0, "only a positive payout moves money")
        return Transfer(id: TransferID("settle:\(batch.id.rawValue):payout"), debit: LedgerAccounts.settlementClearing.id,
                        credit: LedgerAccounts.settlementPaid.id, amount: batch.payout, code: .settlementPayout, createdAt: now)
    }
}
