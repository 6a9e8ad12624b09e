public enum LedgerAccountKind {}
public enum TransferKind {}
/// A ledger account id, e.g. `card:acct_000001:credit_line` or `tax:NY:payable`.
public typealias LedgerAccountID = Identifier<LedgerAccountKind>
/// A transfer id, derived from what caused it (e.g. `auth:pur_sandbox_42:principal`), so that
/// replaying the cause finds the transfer already there and changes nothing.
public typealias TransferID = Identifier<TransferKind>

/// Balance bounds, as in TigerBeetle.
public struct LedgerAccountFlags: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// `debits_pending + debits_posted ≤ credits_posted`: a credit line cannot be overdrawn.
    public static let debitsMustNotExceedCredits = LedgerAccountFlags(rawValue: 1)
    /// `credits_pending + credits_posted ≤ debits_posted`.
    public static let creditsMustNotExceedDebits = LedgerAccountFlags(rawValue: 2)
    /// Closed (a closed card's credit line): takes no new holds. Unlike TigerBeetle's closed
    /// accounts it still takes credits and posted debits, so refunds, statement credits and
    /// their clawbacks, and holds placed before the close, settle as usual.
    public static let closed = LedgerAccountFlags(rawValue: 4)
}

/// What an account is for. The chart of accounts in PRODUCT.md §4.
public enum LedgerAccountCode: String, Sendable, Hashable, Codable, CaseIterable {
    /// A cardholder's credit line: credited with the limit, debited by purchases.
    case cardholderCreditLine = "cardholder_credit_line"
    /// What the issuer owes a merchant for its sales, net of fees.
    case merchantPayable = "merchant_payable"
    /// Sales tax collected for one state.
    case salesTaxPayable = "sales_tax_payable"
    /// The issuer's merchant-discount revenue.
    case issuerFeeRevenue = "issuer_fee_revenue"
    /// The issuer's side of every credit line granted (a control account).
    case issuerCreditLines = "issuer_credit_lines"
    case statementCreditExpense = "statement_credit_expense"
    case settlementClearing = "settlement_clearing"
    /// What has left for merchants' banks in payout files (the issuer's side of every payout).
    case settlementPaid = "settlement_paid"
}

/// A ledger account: four running totals and its bounds. Totals change only through transfers.
public struct LedgerAccount: Sendable, Hashable, Codable {
    public var id: LedgerAccountID
    public var code: LedgerAccountCode
    public var flags: LedgerAccountFlags
    public var debitsPending: Int64 = 0
    public var debitsPosted: Int64 = 0
    public var creditsPending: Int64 = 0
    public var creditsPosted: Int64 = 0

    public init(id: LedgerAccountID, code: LedgerAccountCode, flags: LedgerAccountFlags = [],
                debitsPending: Int64 = 0, debitsPosted: Int64 = 0, creditsPending: Int64 = 0, creditsPosted: Int64 = 0) {
        self.id = id
        self.code = code
        self.flags = flags
        self.debitsPending = debitsPending
        self.debitsPosted = debitsPosted
        self.creditsPending = creditsPending
        self.creditsPosted = creditsPosted
    }

    /// For a credit line: what can still be authorized (`credits_posted − debits_posted − debits_pending`).
    public var availableCredit: Int64 { creditsPosted - debitsPosted - debitsPending }

    /// Whether the totals respect the account's flags.
    public var isWithinBounds: Bool {
        guard debitsPending >= 0 && debitsPosted >= 0 && creditsPending >= 0 && creditsPosted >= 0 else { return false }
        // By subtraction, which cannot overflow for non-negative totals.
        if flags.contains(.debitsMustNotExceedCredits), debitsPending > creditsPosted - debitsPosted { return false }
        if flags.contains(.creditsMustNotExceedDebits), creditsPending > debitsPosted - creditsPosted { return false }
        return true
    }
}

/// The chart of accounts: every account id Hashcart uses, in one place.
public enum LedgerAccounts {
    public static func creditLine(_ card: CardAccountID) -> LedgerAccount {
        LedgerAccount(id: LedgerAccountID("card:\(card.rawValue):credit_line"), code: .cardholderCreditLine,
                      flags: .debitsMustNotExceedCredits)
    }
    public static func merchantPayable(_ merchant: MerchantID) -> LedgerAccount {
        LedgerAccount(id: LedgerAccountID("merchant:\(merchant.rawValue):payable"), code: .merchantPayable)
    }
    public static func salesTaxPayable(_ state: USState) -> LedgerAccount {
        LedgerAccount(id: LedgerAccountID("tax:\(state.rawValue):payable"), code: .salesTaxPayable)
    }
    public static let issuerFeeRevenue = LedgerAccount(id: "issuer:fee_revenue", code: .issuerFeeRevenue)
    public static let issuerCreditLines = LedgerAccount(id: "issuer:credit_lines", code: .issuerCreditLines)
    public static let statementCreditExpense = LedgerAccount(id: "issuer:statement_credit_expense", code: .statementCreditExpense)
    public static let settlementClearing = LedgerAccount(id: "issuer:settlement_clearing", code: .settlementClearing)
    public static let settlementPaid = LedgerAccount(id: "issuer:settlement_paid", code: .settlementPaid)

    /// Accounts every ledger starts with.
    public static let issuerAccounts = [issuerFeeRevenue, issuerCreditLines, statementCreditExpense, settlementClearing, settlementPaid]
}
