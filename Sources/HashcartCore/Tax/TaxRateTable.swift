/// A versioned table of destination-based sales-tax rates: one rate per state, optionally
/// overridden for a five-digit ZIP code.
///
/// Rates are integers in parts per million of the pre-tax amount (6.875 % = `68750`), so no
/// floating point ever touches money. The table is parsed from text (the engine ships it as a
/// data file); parsing is pure and rejects anything malformed.
public struct TaxRateTable: Sendable, Hashable {
    /// The table's version, stored on every order (e.g. `2025-01-01`).
    public let version: String
    public let stateRates: [USState: Int64]
    public let zipRates: [String: Int64]

    /// The largest rate accepted (25 %), a bound against a corrupt table.
    public static let maximumRatePartsPerMillion: Int64 = 250_000

    public init(version: String, stateRates: [USState: Int64], zipRates: [String: Int64] = [:]) throws(ValidationError) {
        try Validate.text(version, field: "tax.version", maxLength: 40)
        let missing = USState.allCases.filter { stateRates[$0] == nil }
        guard missing.isEmpty else {
            throw ValidationError(field: "tax", message: "no rate for \(missing.map(\.rawValue).joined(separator: ", "))")
        }
        for rate in Array(stateRates.values) + Array(zipRates.values) where !(0...Self.maximumRatePartsPerMillion).contains(rate) {
            throw ValidationError(field: "tax", message: "rate \(rate) ppm is outside 0…\(Self.maximumRatePartsPerMillion)")
        }
        self.version = version
        self.stateRates = stateRates
        self.zipRates = zipRates
    }

    /// Parses the CSV form:
    ///
    /// ```
    /// # comments
    /// version,2025-01-01
    /// state,zip,rate_ppm
    /// NY,,40000
    /// NY,10004,88750
    /// ```
    public static func parse(_ text: String) throws(ValidationError) -> TaxRateTable {
        var version: String?
        var states: [USState: Int64] = [:]
        var zips: [String: Int64] = [:]
        var sawHeader = false
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingSuffix(while: { $0 == "\r" || $0 == " " })
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let lineNumber = number + 1
            if fields.first == "version" {
                guard fields.count == 2, !fields[1].isEmpty else {
                    throw ValidationError(field: "tax line \(lineNumber)", message: "expected `version,<version>`")
                }
                version = fields[1]
                continue
            }
            if fields == ["state", "zip", "rate_ppm"] { sawHeader = true; continue }
            guard sawHeader else {
                throw ValidationError(field: "tax line \(lineNumber)", message: "expected the header `state,zip,rate_ppm` first")
            }
            guard fields.count == 3, let state = USState(rawValue: fields[0]), let rate = Int64(fields[2]) else {
                throw ValidationError(field: "tax line \(lineNumber)", message: "expected `STATE,[ZIP],RATE_PPM`, got `\(line)`")
            }
            if fields[1].isEmpty {
                guard states[state] == nil else {
                    throw ValidationError(field: "tax line \(lineNumber)", message: "second rate for \(state.rawValue)")
                }
                states[state] = rate
            } else {
                guard fields[1].utf8.count == 5, fields[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw ValidationError(field: "tax line \(lineNumber)", message: "ZIP must be five digits")
                }
                zips[fields[1]] = rate
            }
        }
        guard let version else { throw ValidationError(field: "tax", message: "missing `version,<version>` line") }
        return try TaxRateTable(version: version, stateRates: states, zipRates: zips)
    }

    /// The rate for an address: its ZIP's override if the table has one, else its state's rate.
    public func ratePartsPerMillion(state: USState, zip5: String?) -> Int64 {
        if let zip5, let rate = zipRates[zip5] { return rate }
        return stateRates[state]!
    }

    /// The tax on one order line, destination-based: rounded once per line, half up to the cent.
    public func quote(unitPrice: Money, quantity: Int64 = 1, category: TaxCategory, state: USState, zip5: String?) -> TaxQuote {
        precondition(quantity > 0 && unitPrice.minorUnits >= 0, "a tax line has a positive quantity and a price")
        let line = unitPrice.minorUnits * quantity
        let rate = category == .exempt ? 0 : ratePartsPerMillion(state: state, zip5: zip5)
        let tax = MinorUnitMath.multiplyRoundingHalfUp(line, by: rate, dividedBy: 1_000_000)
        return TaxQuote(ratePartsPerMillion: rate, tax: Money(minorUnits: tax, currency: unitPrice.currency), tableVersion: version)
    }
}

/// The tax on one line and where it came from; stored on the order.
public struct TaxQuote: Sendable, Hashable, Codable {
    public var ratePartsPerMillion: Int64
    public var tax: Money
    public var tableVersion: String
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let last = result.last, predicate(last) { result.removeLast() }
        return result
    }
}
