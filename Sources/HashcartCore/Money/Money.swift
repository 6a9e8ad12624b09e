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
        // Built right to left in a small byte buffer: this runs several times per purchase.
        var magnitude = minorUnits.magnitude
        var bytes = [UInt8](repeating: 0, count: 32)
        var index = bytes.count
        func put(_ byte: UInt8) {
            index -= 1
            bytes[index] = byte
        }
        put(UInt8(ascii: "0") + UInt8(magnitude % 10)); magnitude /= 10
        put(UInt8(ascii: "0") + UInt8(magnitude % 10)); magnitude /= 10
        put(UInt8(ascii: "."))
        var digits = 0
        repeat {
            if digits > 0 && digits % 3 == 0 { put(UInt8(ascii: ",")) }
            put(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
            digits += 1
        } while magnitude > 0
        put(UInt8(ascii: "$"))
        if minorUnits < 0 { put(UInt8(ascii: "-")) }
        return String(decoding: bytes[index...], as: UTF8.self)
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
