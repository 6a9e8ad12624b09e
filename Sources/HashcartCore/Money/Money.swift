/// A currency Hashcart settles in. Only US dollars today: offers, credit lines and tax are USD.
public enum Currency: String, Sendable, Hashable, Codable, CaseIterable {
    case usd = "USD"

    /// Digits after the decimal point in this currency's minor unit (cents for USD).
    public var minorUnitDigits: Int { 2 }
}

/// An amount of money in integer minor units (cents for USD). Never floating point.
///
/// Arithmetic is overflow-checked and throws ``MoneyError`` rather than trapping or wrapping,
/// so a hostile or corrupt amount becomes a clear error instead of a crash or a wrong balance.
public struct Money: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The amount in minor units, e.g. `14999` for $149.99.
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency = .usd) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func usd(_ minorUnits: Int64) -> Money { Money(minorUnits: minorUnits, currency: .usd) }
    public static let zero = Money(minorUnits: 0)

    public var isPositive: Bool { minorUnits > 0 }
    public var isNegative: Bool { minorUnits < 0 }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: sum, currency: currency)
    }

    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: difference, currency: currency)
    }

    public func multiplied(by factor: Int64) throws(MoneyError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: product, currency: currency)
    }

    public static func < (lhs: Money, rhs: Money) -> Bool {
        precondition(lhs.currency == rhs.currency, "comparing amounts in different currencies")
        return lhs.minorUnits < rhs.minorUnits
    }

    /// `$149.99`, `-$0.05`, `$1,000.00`: the form used in posts and messages.
    public var description: String {
        let negative = minorUnits < 0
        let magnitude = minorUnits.magnitude
        let major = magnitude / 100
        let minor = magnitude % 100
        var majorText = String(major)
        var grouped = ""
        while majorText.count > 3 {
            grouped = "," + majorText.suffix(3) + grouped
            majorText.removeLast(3)
        }
        grouped = majorText + grouped
        let cents = minor < 10 ? "0\(minor)" : "\(minor)"
        return (negative ? "-$" : "$") + grouped + "." + cents
    }
}

public enum MoneyError: Error, Sendable, Hashable, CustomStringConvertible {
    case overflow
    case currencyMismatch(Currency, Currency)

    public var description: String {
        switch self {
        case .overflow: "amount is too large to represent in minor units"
        case .currencyMismatch(let a, let b): "cannot combine amounts in \(a.rawValue) and \(b.rawValue)"
        }
    }
}

/// Integer helpers for rates and rounding that the tax and fee rules share.
public enum MinorUnitMath {
    /// `amount × numerator ÷ denominator`, rounded half up (away from zero for positive values),
    /// computed without intermediate overflow for any `Int64` amount and a numerator ≤ denominator·1000.
    public static func multiplyRoundingHalfUp(_ amount: Int64, by numerator: Int64, dividedBy denominator: Int64) -> Int64 {
        precondition(amount >= 0 && numerator >= 0 && denominator > 0, "rates apply to non-negative amounts")
        let product = amount.multipliedFullWidth(by: numerator)
        let (quotient, remainder) = denominator.dividingFullWidth(product)
        // Half up: round when the remainder is at least half the denominator.
        return remainder * 2 >= denominator ? quotient + 1 : quotient
    }
}
