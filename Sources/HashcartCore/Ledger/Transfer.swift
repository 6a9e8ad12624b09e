/// How a transfer moves money, as in TigerBeetle.
public enum TransferType: String, Sendable, Hashable, Codable {
    /// Posted at once.
    case single
    /// A hold: counts against bounds but is not yet posted; lapses at its timeout.
    case pending
    /// Posts an earlier pending transfer in full.
    case postPending = "post_pending"
    /// Releases an earlier pending transfer.
    case voidPending = "void_pending"
    /// Releases an earlier pending transfer whose timeout has passed.
    case expirePending = "expire_pending"
}

/// Why a transfer was made.
public enum TransferCode: String, Sendable, Hashable, Codable, CaseIterable {
    case creditLimit = "credit_limit"
    /// The issuer lowered a credit limit: the credit line gives the difference back.
    case creditLimitDecrease = "credit_limit_decrease"
    case purchasePrincipal = "purchase_principal"
    case purchaseTax = "purchase_tax"
    case purchaseFee = "purchase_fee"
    case capture
    case void
    case holdExpiry = "hold_expiry"
    case refundPrincipal = "refund_principal"
    case refundTax = "refund_tax"
    case refundFee = "refund_fee"
    /// A merchant funds a statement credit: its payable to statement-credit expense.
    case statementCreditFunding = "statement_credit_funding"
    /// A statement credit reaches the cardholder: expense to the credit line.
    case statementCredit = "statement_credit"
    /// A reversed transaction takes its credit back (both legs, the other way).
    case statementCreditClawback = "statement_credit_clawback"
    /// A settlement batch's payout leaves the merchant's payable for settlement clearing.
    case settlementBatch = "settlement_batch"
    /// A batch written into a payout file: settlement clearing to paid out.
    case settlementPayout = "settlement_payout"
}

/// An immutable movement of money between two accounts. Never updated, never deleted.
public struct Transfer: Sendable, Hashable, Codable {
    public var id: TransferID
    public var debitAccountID: LedgerAccountID
    public var creditAccountID: LedgerAccountID
    /// Minor units; for post/void/expire, the pending transfer's amount.
    public var amount: Int64
    public var type: TransferType
    /// For post/void/expire: the pending transfer this resolves.
    public var pendingID: TransferID?
    /// For pending transfers: when the hold lapses.
    public var timeoutAt: Instant?
    public var code: TransferCode
    public var createdAt: Instant

    public init(id: TransferID, debit: LedgerAccountID, credit: LedgerAccountID, amount: Int64, type: TransferType = .single,
                pendingID: TransferID? = nil, timeoutAt: Instant? = nil, code: TransferCode, createdAt: Instant) {
        self.id = id
        self.debitAccountID = debit
        self.creditAccountID = credit
        self.amount = amount
        self.type = type
        self.pendingID = pendingID
        self.timeoutAt = timeoutAt
        self.code = code
        self.createdAt = createdAt
    }

    /// Same transfer apart from when it was submitted: a replay of the same cause.
    ///
    /// A post/void/expire takes its accounts and amount from the pending transfer it resolves,
    /// so for those only the id, type, pending id and code must match.
    public func isReplay(of other: Transfer) -> Bool {
        let resolves = type == .postPending || type == .voidPending || type == .expirePending
        return id == other.id && type == other.type && pendingID == other.pendingID && code == other.code
            && (resolves || (debitAccountID == other.debitAccountID && creditAccountID == other.creditAccountID && amount == other.amount))
    }
}

/// The state of a pending transfer.
public enum PendingStatus: String, Sendable, Hashable, Codable {
    case pending, posted, voided, expired
}
