/// One posted ledger transfer that changes what the issuer owes a merchant, as settlement reads
/// it: the capture of a sale (its principal and the issuer's fee), a refund (its principal and
/// the fee given back), a statement credit the merchant funds, or the claw-back of one.
///
/// Movements are read from the ledger, never kept beside it: a batch is exactly the ledger's
/// transfers of its day, and the audit recomputes it from them. The store sums a day's transfers
/// by merchant and kind, so one movement may stand for many transfers (`count`).
public struct SettlementMovement: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Capture, principal leg: the merchant's share of the price (price − fee).
        case sale
        /// Capture, fee leg: the issuer's merchant discount on the sale.
        case saleFee = "sale_fee"
        /// Refund, principal leg: what the merchant gives back.
        case refund
        /// Refund, fee leg: the part of the fee the issuer gives back.
        case refundFee = "refund_fee"
        /// A statement credit the merchant funds.
        case creditFunding = "credit_funding"
        /// A reversed transaction's credit coming back to the merchant.
        case creditClawback = "credit_clawback"

        /// How the movement changes the merchant's payable: +1 owed more, −1 owed less, 0 not at all
        /// (fee legs move between the cardholder and the issuer).
        public var payableSign: Int64 {
            switch self {
            case .sale, .creditClawback: 1
            case .refund, .creditFunding: -1
            case .saleFee, .refundFee: 0
            }
        }
    }

    public var merchantID: MerchantID
    public var kind: Kind
    /// Positive minor units.
    public var amount: Int64
    /// How many transfers the movement sums.
    public var count: Int

    public init(merchantID: MerchantID, kind: Kind, amount: Int64, count: Int = 1) {
        self.merchantID = merchantID
        self.kind = kind
        self.amount = amount
        self.count = count
    }

    /// What a posted transfer means for settlement, or nil when it is not a merchant's money.
    ///
    /// - Parameter merchantOfSubject: the merchant whose purchase or order a transfer's subject
    ///   names (for fee legs, which touch no merchant account).
    public static func classify(_ transfer: Transfer, merchantOfSubject: MerchantID?) -> SettlementMovement? {
        guard transfer.type == .single || transfer.type == .postPending, transfer.amount > 0 else { return nil }
        func payableMerchant(_ account: LedgerAccountID) -> MerchantID? {
            let raw = account.rawValue
            guard raw.hasPrefix("merchant:"), raw.hasSuffix(":payable") else { return nil }
            return MerchantID(String(raw.dropFirst("merchant:".count).dropLast(":payable".count)))
        }
        let kind: Kind
        let merchant: MerchantID?
        switch transfer.code {
        case .capture:
            if let credited = payableMerchant(transfer.creditAccountID) {
                (kind, merchant) = (.sale, credited)
            } else if transfer.creditAccountID == LedgerAccounts.issuerFeeRevenue.id {
                (kind, merchant) = (.saleFee, merchantOfSubject)
            } else {
                return nil  // the tax leg: the issuer's liability to the state, not the merchant's money
            }
        case .refundPrincipal: (kind, merchant) = (.refund, payableMerchant(transfer.debitAccountID))
        case .refundFee: (kind, merchant) = (.refundFee, merchantOfSubject)
        case .statementCreditFunding: (kind, merchant) = (.creditFunding, payableMerchant(transfer.debitAccountID))
        case .statementCreditClawback:
            guard let credited = payableMerchant(transfer.creditAccountID) else { return nil }
            (kind, merchant) = (.creditClawback, credited)
        default: return nil
        }
        guard let merchant else { return nil }
        return SettlementMovement(merchantID: merchant, kind: kind, amount: transfer.amount)
    }
}
