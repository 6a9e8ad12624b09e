/// The issuer's risk limits for pay-by-post purchases. Every limit is bounded and has a default.
public struct RiskPolicy: Sendable, Hashable, Codable {
    /// Most a card account may spend (totals with tax) through Hashcart in one UTC day.
    public var dailySpendCap: Money
    /// Most purchases a card account may start in any rolling hour.
    public var maximumPurchasesPerHour: Int64
    /// A link younger than this cannot buy (fresh links are an account-takeover signal).
    public var minimumLinkAgeSeconds: Int64

    public init(dailySpendCap: Money = .usd(250_000), maximumPurchasesPerHour: Int64 = 10, minimumLinkAgeSeconds: Int64 = 3_600) {
        self.dailySpendCap = dailySpendCap
        self.maximumPurchasesPerHour = maximumPurchasesPerHour
        self.minimumLinkAgeSeconds = minimumLinkAgeSeconds
    }

    public func validated() throws(ValidationError) -> RiskPolicy {
        guard dailySpendCap.minorUnits > 0, dailySpendCap <= CardAccount.maximumCreditLimit else {
            throw ValidationError(field: "risk.daily_spend_cap", message: "must be between 1 and \(CardAccount.maximumCreditLimit.minorUnits)")
        }
        guard (1...1_000).contains(maximumPurchasesPerHour) else {
            throw ValidationError(field: "risk.max_purchases_per_hour", message: "must be between 1 and 1000")
        }
        guard (0...30 * 86_400).contains(minimumLinkAgeSeconds) else {
            throw ValidationError(field: "risk.min_link_age_seconds", message: "must be between 0 and 2592000 (30 days)")
        }
        return self
    }
}

/// One offer's own risk limits (set by the issuer over the API): each one set replaces the
/// issuer's limit for purchases of that offer, stricter or looser; the others follow the issuer.
public struct RiskOverrides: Sendable, Hashable, Codable {
    public var dailySpendCap: Money?
    public var maximumPurchasesPerHour: Int64?
    public var minimumLinkAgeSeconds: Int64?

    public init(dailySpendCap: Money? = nil, maximumPurchasesPerHour: Int64? = nil, minimumLinkAgeSeconds: Int64? = nil) {
        self.dailySpendCap = dailySpendCap
        self.maximumPurchasesPerHour = maximumPurchasesPerHour
        self.minimumLinkAgeSeconds = minimumLinkAgeSeconds
    }

    public var isEmpty: Bool { dailySpendCap == nil && maximumPurchasesPerHour == nil && minimumLinkAgeSeconds == nil }

    /// Checks each limit set against ``RiskPolicy``'s bounds.
    public func validated() throws(ValidationError) -> RiskOverrides {
        _ = try RiskPolicy().applying(self).validated()
        return self
    }
}

extension RiskPolicy {
    /// This policy with an offer's own limits in place of the issuer's.
    public func applying(_ overrides: RiskOverrides) -> RiskPolicy {
        var policy = self
        if let cap = overrides.dailySpendCap { policy.dailySpendCap = cap }
        if let perHour = overrides.maximumPurchasesPerHour { policy.maximumPurchasesPerHour = perHour }
        if let age = overrides.minimumLinkAgeSeconds { policy.minimumLinkAgeSeconds = age }
        return policy
    }
}

/// What the risk rules need to know about one purchase attempt; the store gathers it.
public struct RiskContext: Sendable, Hashable {
    public var offerKillSwitch: Bool
    public var linkAgeSeconds: Int64
    /// Totals (with tax) of this card's purchases today that still count (not expired, declined or cancelled).
    public var spentToday: Money
    /// This card's purchases started in the last hour.
    public var purchasesLastHour: Int64
    /// Units of this offer this card bought or holds, in purchases that still count.
    public var unitsOfOffer: Int64
    /// Units the attempt asks for (`#Tag x2`).
    public var attemptUnits: Int64
    public var perCardholderLimit: Int64
    /// The total (with tax) of the attempted purchase.
    public var attemptTotal: Money

    public init(offerKillSwitch: Bool, linkAgeSeconds: Int64, spentToday: Money, purchasesLastHour: Int64,
                unitsOfOffer: Int64, attemptUnits: Int64 = 1, perCardholderLimit: Int64, attemptTotal: Money) {
        precondition(attemptUnits >= 1, "an attempt buys at least one unit")
        self.offerKillSwitch = offerKillSwitch
        self.linkAgeSeconds = linkAgeSeconds
        self.spentToday = spentToday
        self.purchasesLastHour = purchasesLastHour
        self.unitsOfOffer = unitsOfOffer
        self.attemptUnits = attemptUnits
        self.perCardholderLimit = perCardholderLimit
        self.attemptTotal = attemptTotal
    }
}

extension RiskPolicy {
    /// The first rule the attempt breaks, or `nil` if it passes. Checked in a fixed order so the
    /// reason is deterministic: kill switch, per-cardholder limit, link age, velocity, daily cap.
    public func evaluate(_ context: RiskContext) -> DeclineReason? {
        if context.offerKillSwitch { return .offerKillSwitch }
        if context.unitsOfOffer + context.attemptUnits > context.perCardholderLimit { return .perCardholderLimit }
        if context.linkAgeSeconds < minimumLinkAgeSeconds { return .linkTooNew }
        if context.purchasesLastHour >= maximumPurchasesPerHour { return .velocity }
        let (after, overflow) = context.spentToday.minorUnits.addingReportingOverflow(context.attemptTotal.minorUnits)
        if overflow || after > dailySpendCap.minorUnits { return .dailySpendCap }
        return nil
    }
}
