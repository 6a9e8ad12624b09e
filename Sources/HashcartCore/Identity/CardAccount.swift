/// A cardholder's card account at the issuer: the credit line purchases are authorized against
/// and the billing address orders ship to.
public struct CardAccount: Sendable, Hashable, Codable {
    public var id: CardAccountID
    public var creditLimit: Money
    public var billing: BillingAddress
    /// The last four digits of the card, shown only to the cardholder; never posted to a network.
    public var cardLast4: String
    public var createdAt: Instant
    /// The card number's keyed fingerprint, when the issuer gave the PAN (card-linked offers find
    /// the account by it); the PAN itself is never kept.
    public var panFingerprint: CardFingerprint?
    /// When the issuer closed the account: it buys nothing more, and its links have ended.
    public var closedAt: Instant?

    public init(id: CardAccountID, creditLimit: Money, billing: BillingAddress, cardLast4: String, createdAt: Instant,
                panFingerprint: CardFingerprint? = nil, closedAt: Instant? = nil) {
        self.id = id
        self.creditLimit = creditLimit
        self.billing = billing
        self.cardLast4 = cardLast4
        self.createdAt = createdAt
        self.panFingerprint = panFingerprint
        self.closedAt = closedAt
    }

    /// The largest credit line Hashcart accepts ($1,000,000.00); bounds every ledger amount.
    public static let maximumCreditLimit = Money.usd(100_000_000)

    public func validated() throws(ValidationError) -> CardAccount {
        _ = try billing.validated()
        guard creditLimit.minorUnits >= 0, creditLimit <= Self.maximumCreditLimit else {
            throw ValidationError(field: "credit_limit", message: "must be between 0 and \(Self.maximumCreditLimit)")
        }
        guard cardLast4.utf8.count == 4, cardLast4.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ValidationError(field: "card_last4", message: "must be exactly four digits")
        }
        return self
    }
}
