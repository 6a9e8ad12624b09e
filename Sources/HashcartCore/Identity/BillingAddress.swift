/// A cardholder's billing name and US address. Orders ship here. It never leaves Hashcart except
/// to the merchant of an order (for shipping), and it is encrypted at rest.
public struct BillingAddress: Sendable, Hashable, Codable {
    public var name: String
    public var line1: String
    public var line2: String?
    public var city: String
    public var state: USState
    /// Five digits, or ZIP+4 as `12345-6789`.
    public var postalCode: String

    public init(name: String, line1: String, line2: String? = nil, city: String, state: USState, postalCode: String) {
        self.name = name
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.state = state
        self.postalCode = postalCode
    }

    /// The five-digit ZIP, for tax look-ups.
    public var zip5: String { String(postalCode.prefix(5)) }

    /// Checks every field, so a malformed address is refused before it is stored.
    public func validated() throws(ValidationError) -> BillingAddress {
        try Validate.text(name, field: "billing_name", maxLength: 100)
        try Validate.text(line1, field: "address.line1", maxLength: 120)
        if let line2 { try Validate.text(line2, field: "address.line2", maxLength: 120, allowEmpty: true) }
        try Validate.text(city, field: "address.city", maxLength: 80)
        let digits = postalCode.utf8
        let isZip5 = digits.count == 5 && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        let isZip9 = digits.count == 10 && postalCode.split(separator: "-").map(\.count) == [5, 4]
            && digits.filter({ $0 != UInt8(ascii: "-") }).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        guard isZip5 || isZip9 else {
            throw ValidationError(field: "address.postal_code", message: "must be a US ZIP code like 10004 or 10004-1234")
        }
        return self
    }
}
