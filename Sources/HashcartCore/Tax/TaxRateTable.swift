/// A versioned table of destination-based sales-tax rates: one rate per state, optionally
/// overridden for a five-digit ZIP code (the combined state and local rate there), the way each
/// state treats the categories beyond general and exempt, and the UTC day it takes effect.
///
/// Rates are integers in parts per million of the pre-tax amount (6.875 % = `68750`), so no
/// floating point ever touches money. The table is parsed from text (the engine ships one and
/// `serve --tax-table` loads later ones); parsing is pure, bounded and rejects anything malformed.
public struct TaxRateTable: Sendable, Hashable {
    /// The table's version, stored on every order (e.g. `2025-01-01`).
    public let version: String
    /// The first UTC day the table applies to; nil: it applies from the beginning.
    public let effective: SettlementDay?
    public let stateRates: [USState: Int64]
    /// The combined rate in a ZIP, for addresses of the ZIP's state.
    public let zipRates: [String: ZIPRate]
    /// Each state's treatment of a category, where it is not the general rate.
    public let categoryRules: [TaxCategory: [USState: TaxTreatment]]
    /// The states whose rule for a category covers only the state's own rate: the address's local
    /// part (its ZIP's combined rate less the state's rate) is still charged on the whole price, as
    /// Tennessee's local taxes are on groceries the state taxes at 4 %. Elsewhere a rule covers the
    /// whole rate (California's local taxes exempt groceries as the state does).
    public let localPartStillTaxed: [TaxCategory: Set<USState>]

    /// The largest rate accepted (25 %), a bound against a corrupt table.
    public static let maximumRatePartsPerMillion: Int64 = 250_000
    /// The largest table text accepted (every US ZIP fits with room to spare).
    public static let maximumTextBytes = 8 << 20

    public init(version: String, effective: SettlementDay? = nil, stateRates: [USState: Int64], zipRates: [String: ZIPRate] = [:],
                categoryRules: [TaxCategory: [USState: TaxTreatment]] = [:],
                localPartStillTaxed: [TaxCategory: Set<USState>] = [:]) throws(ValidationError) {
        try Validate.text(version, field: "tax.version", maxLength: 40)
        let missing = USState.allCases.filter { stateRates[$0] == nil }
        guard missing.isEmpty else {
            throw ValidationError(field: "tax", message: "no rate for \(missing.map(\.rawValue).joined(separator: ", "))")
        }
        for rate in Array(stateRates.values) + zipRates.values.map(\.ratePartsPerMillion) where !(0...Self.maximumRatePartsPerMillion).contains(rate) {
            throw ValidationError(field: "tax", message: "rate \(rate) ppm is outside 0…\(Self.maximumRatePartsPerMillion)")
        }
        for (category, rules) in categoryRules {
            guard category != .general && category != .exempt else {
                throw ValidationError(field: "tax", message: "`\(category.rawValue)` is the same in every state and takes no rule")
            }
            for treatment in rules.values { try treatment.validate() }
        }
        for (category, states) in localPartStillTaxed where !states.isSubset(of: Set((categoryRules[category] ?? [:]).keys)) {
            throw ValidationError(field: "tax", message: "plus_local without a rule for \(category.rawValue)")
        }
        self.version = version
        self.effective = effective
        self.stateRates = stateRates
        self.zipRates = zipRates
        self.categoryRules = categoryRules
        self.localPartStillTaxed = localPartStillTaxed
    }

    /// Parses the CSV form:
    ///
    /// ```
    /// # comments
    /// version,2026-01-01
    /// effective,2026-01-01                    (optional: the first UTC day it applies to)
    /// state,zip,rate_ppm
    /// NY,,40000                               (the state's rate)
    /// NY,10004,88750                          (the combined rate in one ZIP)
    /// category,NY,clothing,exempt_below,11000 (a state's treatment of a category)
    /// ```
    ///
    /// A category row is `category,STATE,CATEGORY,TREATMENT[,VALUE]`: `exempt`, `general`,
    /// `reduced,RATE_PPM` (that rate instead of the address's), `exempt_below,CENTS` (a unit priced
    /// below is exempt, at or above taxed in full) or `exempt_up_to,CENTS` (the first CENTS of each
    /// unit is exempt, the rest taxed).
    public static func parse(_ text: String) throws(ValidationError) -> TaxRateTable {
        guard text.utf8.count <= maximumTextBytes else {
            throw ValidationError(field: "tax", message: "the table is over \(maximumTextBytes >> 20) MiB")
        }
        var version: String?
        var effective: SettlementDay?
        var states: [USState: Int64] = [:]
        var zips: [String: ZIPRate] = [:]
        var rules: [TaxCategory: [USState: TaxTreatment]] = [:]
        var plusLocal: [TaxCategory: Set<USState>] = [:]
        var sawHeader = false
        // "\r\n" is one Character in Swift: split on it too, or a Windows file is one long line.
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = rawLine.trimmingSuffix(while: { $0 == "\r" || $0 == " " })
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let at = "tax line \(number + 1)"
            switch fields.first {
            case "version":
                guard version == nil else { throw ValidationError(field: at, message: "a second `version` line") }
                guard fields.count == 2, !fields[1].isEmpty else { throw ValidationError(field: at, message: "expected `version,<version>`") }
                version = fields[1]
                continue
            case "effective":
                guard effective == nil else { throw ValidationError(field: at, message: "a second `effective` line") }
                guard fields.count == 2, let day = try? SettlementDay(parsing: fields[1]) else {
                    throw ValidationError(field: at, message: "expected `effective,YYYY-MM-DD`")
                }
                effective = day
                continue
            case "category":
                let (state, category, treatment, local) = try Self.categoryRow(fields, at: at)
                guard rules[category]?[state] == nil else {
                    throw ValidationError(field: at, message: "a second rule for \(category.rawValue) in \(state.rawValue)")
                }
                rules[category, default: [:]][state] = treatment
                if local { plusLocal[category, default: []].insert(state) }
                continue
            default:
                break
            }
            if fields == ["state", "zip", "rate_ppm"] { sawHeader = true; continue }
            guard sawHeader else {
                throw ValidationError(field: at, message: "expected the header `state,zip,rate_ppm` first")
            }
            guard fields.count == 3, let state = USState(rawValue: fields[0]), let rate = Self.number(fields[2]) else {
                throw ValidationError(field: at, message: "expected `STATE,[ZIP],RATE_PPM`, got `\(line.prefix(80))`")
            }
            if fields[1].isEmpty {
                guard states[state] == nil else { throw ValidationError(field: at, message: "second rate for \(state.rawValue)") }
                states[state] = rate
            } else {
                guard fields[1].utf8.count == 5, fields[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw ValidationError(field: at, message: "ZIP must be five digits")
                }
                guard zips[fields[1]] == nil else { throw ValidationError(field: at, message: "second rate for ZIP \(fields[1])") }
                zips[fields[1]] = ZIPRate(state: state, ratePartsPerMillion: rate)
            }
        }
        guard let version else { throw ValidationError(field: "tax", message: "missing `version,<version>` line") }
        return try TaxRateTable(version: version, effective: effective, stateRates: states, zipRates: zips, categoryRules: rules,
                                localPartStillTaxed: plusLocal)
    }

    /// A plain non-negative decimal integer of at most 12 digits (no sign, spaces or exponent).
    static func number(_ text: String) -> Int64? {
        guard (1...12).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }

    static func categoryRow(_ fields: [String], at: String) throws(ValidationError) -> (USState, TaxCategory, TaxTreatment, Bool) {
        guard (4...6).contains(fields.count), let state = USState(rawValue: fields[1]) else {
            throw ValidationError(field: at, message: "expected `category,STATE,CATEGORY,TREATMENT[,VALUE][,plus_local]`")
        }
        guard fields.count < 6 || fields[5] == "plus_local" else {
            throw ValidationError(field: at, message: "the sixth field is `plus_local` or nothing")
        }
        guard let category = TaxCategory(rawValue: fields[2]), category != .general, category != .exempt else {
            let names = TaxCategory.allCases.filter { $0 != .general && $0 != .exempt }.map(\.rawValue).joined(separator: ", ")
            throw ValidationError(field: at, message: "category must be one of \(names)")
        }
        let value = fields.count >= 5 && !fields[4].isEmpty ? fields[4] : nil
        let amount = value.flatMap(number)
        let treatment: TaxTreatment? = switch (fields[3], value, amount) {
        case ("exempt", nil, _): .exempt
        case ("general", nil, _): .general
        case ("reduced", _, let n?): .reduced(ratePartsPerMillion: n)
        case ("exempt_below", _, let n?): .exemptBelow(minorUnits: n)
        case ("exempt_up_to", _, let n?): .exemptUpTo(minorUnits: n)
        default: nil
        }
        guard let treatment else {
            throw ValidationError(field: at, message: "treatment must be exempt, general, reduced,RATE_PPM, exempt_below,CENTS or exempt_up_to,CENTS")
        }
        try treatment.validate()
        return (state, category, treatment, fields.count == 6)
    }

    /// The rate for an address: its ZIP's combined rate if the table has one for a ZIP of the
    /// address's state, else its state's rate (a ZIP that is not in the address's state is a typo
    /// or a lie, and never moves an address into another state's rate).
    public func ratePartsPerMillion(state: USState, zip5: String?) -> Int64 {
        if let zip5, let row = zipRates[zip5], row.state == state { return row.ratePartsPerMillion }
        return stateRates[state]!
    }

    /// How `state` treats `category` in this table.
    public func treatment(of category: TaxCategory, in state: USState) -> TaxTreatment {
        switch category {
        case .general: .general
        case .exempt: .exempt
        default: categoryRules[category]?[state] ?? .general
        }
    }

    /// The tax on one order line, destination-based: rounded once per line, half up to the cent.
    /// The quote's rate is the one applied to the line's taxable part (0 when nothing was taxable).
    /// With `plus_local`, the rule applies to the state's rate and the address's local part is
    /// added on the whole line; the quote's rate is then the sum of the two as applied.
    public func quote(unitPrice: Money, quantity: Int64 = 1, category: TaxCategory, state: USState, zip5: String?) -> TaxQuote {
        precondition(quantity > 0 && unitPrice.minorUnits >= 0, "a tax line has a positive quantity and a price")
        let price = unitPrice.minorUnits
        let addressRate = ratePartsPerMillion(state: state, zip5: zip5)
        let statePartOnly = localPartStillTaxed[category]?.contains(state) == true
        let ruleRate = statePartOnly ? stateRates[state]! : addressRate
        let localRate = statePartOnly ? max(0, addressRate - stateRates[state]!) : 0
        let taxablePerUnit: Int64, rate: Int64
        switch treatment(of: category, in: state) {
        case .general: (taxablePerUnit, rate) = (price, ruleRate)
        case .exempt: (taxablePerUnit, rate) = (0, 0)
        case .reduced(let reduced): (taxablePerUnit, rate) = (price, reduced)
        case .exemptBelow(let threshold): (taxablePerUnit, rate) = (price < threshold ? 0 : price, ruleRate)
        case .exemptUpTo(let threshold): (taxablePerUnit, rate) = (max(0, price - threshold), ruleRate)
        }
        // Lines are bounded (a unit price and 999 units) far below where these products overflow.
        let line = price.multipliedReportingOverflow(by: quantity), taxable = taxablePerUnit.multipliedReportingOverflow(by: quantity)
        precondition(!line.overflow && !taxable.overflow && line.partialValue <= 1 << 40, "a tax line is bounded")
        let applied = taxable.partialValue == 0 ? 0 : rate
        let millionths = taxable.partialValue * applied + line.partialValue * localRate
        let tax = (millionths + 500_000) / 1_000_000
        precondition(tax >= 0 && tax <= line.partialValue, "tax is never negative nor more than the line")
        return TaxQuote(ratePartsPerMillion: applied + localRate, tax: Money(minorUnits: tax, currency: unitPrice.currency), tableVersion: version)
    }
}

/// A ZIP's combined state and local rate, and the state the ZIP is in.
public struct ZIPRate: Sendable, Hashable {
    public var state: USState
    public var ratePartsPerMillion: Int64

    public init(state: USState, ratePartsPerMillion: Int64) {
        self.state = state
        self.ratePartsPerMillion = ratePartsPerMillion
    }
}

/// How one state taxes one category.
public enum TaxTreatment: Sendable, Hashable {
    /// The address's general rate (its ZIP's or its state's).
    case general
    /// Not taxed.
    case exempt
    /// This rate instead of the address's (e.g. groceries at a reduced combined rate).
    case reduced(ratePartsPerMillion: Int64)
    /// A unit priced below this is exempt; at or above it, the whole unit is taxed (New York's
    /// clothing under $110).
    case exemptBelow(minorUnits: Int64)
    /// The first this much of each unit is exempt; the rest is taxed (Massachusetts' clothing over
    /// $175 is taxed on the excess).
    case exemptUpTo(minorUnits: Int64)

    /// The treatment as a category row writes it (after `category,STATE,CATEGORY,`).
    public var csv: String {
        switch self {
        case .general: "general"
        case .exempt: "exempt"
        case .reduced(let rate): "reduced,\(rate)"
        case .exemptBelow(let cents): "exempt_below,\(cents)"
        case .exemptUpTo(let cents): "exempt_up_to,\(cents)"
        }
    }

    func validate() throws(ValidationError) {
        switch self {
        case .general, .exempt: return
        case .reduced(let rate):
            guard (0...TaxRateTable.maximumRatePartsPerMillion).contains(rate) else {
                throw ValidationError(field: "tax", message: "rate \(rate) ppm is outside 0…\(TaxRateTable.maximumRatePartsPerMillion)")
            }
        case .exemptBelow(let cents), .exemptUpTo(let cents):
            guard (1...100_000_000).contains(cents) else { throw ValidationError(field: "tax", message: "a threshold is 1…100000000 cents") }
        }
    }
}

/// The tax on one line and where it came from; stored on the order.
public struct TaxQuote: Sendable, Hashable, Codable {
    public var ratePartsPerMillion: Int64
    public var tax: Money
    public var tableVersion: String
}

/// The tax tables an engine prices with: each from its effective day, the latest one in effect at
/// the moment a purchase is priced. Before the earliest effective day, the earliest table applies.
public struct TaxSchedule: Sendable, Hashable {
    /// Oldest first.
    public let tables: [TaxRateTable]

    /// At most this many tables at once.
    public static let maximumTables = 100

    public init(_ tables: [TaxRateTable]) throws(ValidationError) {
        guard !tables.isEmpty, tables.count <= Self.maximumTables else {
            throw ValidationError(field: "tax", message: "between 1 and \(Self.maximumTables) tax tables")
        }
        guard Set(tables.map(\.version)).count == tables.count else {
            throw ValidationError(field: "tax", message: "two tax tables have the same version")
        }
        let undated = tables.filter { $0.effective == nil }.count
        guard undated <= 1 else { throw ValidationError(field: "tax", message: "only one tax table may have no `effective` day") }
        let days = tables.compactMap(\.effective)
        guard Set(days).count == days.count else {
            throw ValidationError(field: "tax", message: "two tax tables take effect the same day")
        }
        self.tables = tables.sorted { ($0.effective?.dayNumber ?? .min) < ($1.effective?.dayNumber ?? .min) }
    }

    /// The table in effect at `instant`.
    public func table(at instant: Instant) -> TaxRateTable {
        tables.last { ($0.effective?.start ?? .init(millisecondsSinceEpoch: .min)) <= instant } ?? tables[0]
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let last = result.last, predicate(last) { result.removeLast() }
        return result
    }
}
