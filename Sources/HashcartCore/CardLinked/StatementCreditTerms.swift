/// What an offer sells: a unit of a product bought by post, or a statement credit loaded by post
/// and earned by a later card transaction ("spend $75 at Zappos, get $20 back").
public enum OfferType: String, Sendable, Hashable, Codable, CaseIterable {
    case purchase
    case statementCredit = "statement_credit"
}

/// The terms of a card-linked offer. A cardholder who loaded the offer earns `credit` once per
/// card, from the first card transaction at one of the merchant's acceptors (and, if given, one of
/// the MCCs) of at least `spendThreshold`, inside the offer's window, while the offer's `budget`
/// lasts. The merchant funds the credit from its payable, as Amex's merchants did.
public struct StatementCreditTerms: Sendable, Hashable, Codable {
    /// The least a transaction must be to qualify.
    public var spendThreshold: Money
    /// What the cardholder gets back.
    public var credit: Money
    /// The merchant's card acceptor ids (ISO 8583 field 42, up to 15 characters).
    public var acceptorIDs: Set<String>
    /// Merchant category codes (field 18, four digits); empty means any.
    public var merchantCategoryCodes: Set<String>
    /// The most the merchant pays out in credits over the offer's life.
    public var budget: Money

    public static let maximumAcceptors = 100
    public static let maximumCategoryCodes = 50
    /// $100,000.00, the largest purchase price: bounds every amount here.
    public static let maximumAmount = Money.usd(10_000_000)
    /// $10,000,000.00 of credits per offer.
    public static let maximumBudget = Money.usd(1_000_000_000)

    public init(spendThreshold: Money, credit: Money, acceptorIDs: Set<String>, merchantCategoryCodes: Set<String> = [], budget: Money) {
        self.spendThreshold = spendThreshold
        self.credit = credit
        self.acceptorIDs = acceptorIDs
        self.merchantCategoryCodes = merchantCategoryCodes
        self.budget = budget
    }

    /// Checks every field a merchant sets.
    public func validated() throws(ValidationError) -> StatementCreditTerms {
        for (field, amount) in [("spend_threshold", spendThreshold), ("credit_amount", credit)] {
            guard amount.currency == .usd, amount.isPositive, amount <= Self.maximumAmount else {
                throw ValidationError(field: field, message: "must be between 1 and \(Self.maximumAmount.minorUnits) minor units of USD")
            }
        }
        guard credit <= spendThreshold else {
            throw ValidationError(field: "credit_amount", message: "must not exceed spend_threshold")
        }
        guard budget.currency == .usd, budget >= credit, budget <= Self.maximumBudget else {
            throw ValidationError(field: "budget", message: "must be at least credit_amount and at most \(Self.maximumBudget.minorUnits) minor units")
        }
        guard (1...Self.maximumAcceptors).contains(acceptorIDs.count) else {
            throw ValidationError(field: "acceptor_ids", message: "must name 1 to \(Self.maximumAcceptors) card acceptor ids")
        }
        for id in acceptorIDs where !CardTransaction.isAcceptorID(id) {
            throw ValidationError(field: "acceptor_ids", message: "each must be 1 to 15 letters, digits, spaces, hyphens or dots")
        }
        guard merchantCategoryCodes.count <= Self.maximumCategoryCodes else {
            throw ValidationError(field: "mccs", message: "must name at most \(Self.maximumCategoryCodes) codes")
        }
        for code in merchantCategoryCodes where !CardTransaction.isCategoryCode(code) {
            throw ValidationError(field: "mccs", message: "each must be four digits")
        }
        return self
    }
}
