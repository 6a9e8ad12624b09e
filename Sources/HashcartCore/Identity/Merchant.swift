/// A merchant that sells offers through Hashcart.
public struct Merchant: Sendable, Hashable, Codable {
    public var id: MerchantID
    public var name: String
    /// The issuer's merchant discount rate in basis points (250 = 2.50 % of the pre-tax price).
    public var discountRateBasisPoints: Int64
    public var createdAt: Instant
    /// When the issuer closed the merchant: its offers ended and it can start no new ones; its
    /// orders can still be shipped, cancelled and refunded, and settlement still pays it.
    public var closedAt: Instant?

    public init(id: MerchantID, name: String, discountRateBasisPoints: Int64, createdAt: Instant, closedAt: Instant? = nil) {
        self.id = id
        self.name = name
        self.discountRateBasisPoints = discountRateBasisPoints
        self.createdAt = createdAt
        self.closedAt = closedAt
    }

    public func validated() throws(ValidationError) -> Merchant {
        try Validate.publicText(name, field: "name", maxLength: 100)
        guard (0...2_000).contains(discountRateBasisPoints) else {
            throw ValidationError(field: "discount_rate_bps", message: "must be between 0 and 2000 basis points (20 %)")
        }
        return self
    }

    /// The issuer's fee on a pre-tax amount, rounded half up to the cent.
    public func fee(on principal: Money) -> Money {
        Money(minorUnits: MinorUnitMath.multiplyRoundingHalfUp(principal.minorUnits, by: discountRateBasisPoints, dividedBy: 10_000),
              currency: principal.currency)
    }
}
