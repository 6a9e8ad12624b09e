/// Reads combined sales-tax rates by five-digit ZIP from a rate provider's ZIP5 table (the
/// layout of Avalara's free monthly downloads, one file per state:
/// `State,ZipCode,TaxRegionName,EstimatedCombinedRate,StateRate,…`, rates as decimal fractions
/// such as `0.088750`) into a ``TaxRateTable``: a ZIP row per ZIP and each state's own rate.
///
/// Decimals become parts per million exactly, by their digits (never through floating point); a
/// rate finer than a millionth, negative, over 25 % or written any other way is refused with its
/// file and line, and so is a ZIP given two different rates.
public struct ZIP5RateImport: Sendable {
    public private(set) var zipRates: [String: ZIPRate] = [:]
    public private(set) var stateRates: [USState: Int64] = [:]
    /// ZIP rows read, files read.
    public private(set) var rows = 0
    public private(set) var files = 0

    public static let maximumFileBytes = 16 << 20
    public static let maximumFiles = 60
    static let requiredColumns = ["State", "ZipCode", "EstimatedCombinedRate", "StateRate"]

    public init() {}

    /// Adds one provider file; `name` is how errors name it.
    public mutating func add(_ text: String, name: String) throws(ValidationError) {
        guard files < Self.maximumFiles else { throw ValidationError(field: name, message: "at most \(Self.maximumFiles) files") }
        guard text.utf8.count <= Self.maximumFileBytes else { throw ValidationError(field: name, message: "over \(Self.maximumFileBytes >> 20) MiB") }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).makeIterator()
        guard let headerLine = lines.next() else { throw ValidationError(field: name, message: "empty") }
        let header = Self.fields(String(headerLine.trimmingCharacters(in: [" ", "\r", "\u{FEFF}"])))
        var column: [String: Int] = [:]
        for (index, title) in header.enumerated() where column[title] == nil { column[title] = index }
        let missing = Self.requiredColumns.filter { column[$0] == nil }
        guard missing.isEmpty else {
            throw ValidationError(field: "\(name) line 1", message: "no \(missing.joined(separator: ", ")) column (expected a ZIP5 rate table: \(Self.requiredColumns.joined(separator: ",")),…)")
        }
        var number = 1
        var fileStates: [USState: Int64] = [:]
        var fileZips: [String: ZIPRate] = [:]
        while let raw = lines.next() {
            number += 1
            let line = String(raw.trimmingCharacters(in: [" ", "\r"]))
            if line.isEmpty { continue }
            let fields = Self.fields(line)
            let at = "\(name) line \(number)"
            func field(_ title: String) -> String { column[title].flatMap { $0 < fields.count ? fields[$0] : nil } ?? "" }
            guard let state = USState(rawValue: field("State")) else {
                throw ValidationError(field: at, message: "`\(field("State").prefix(20))` is not a two-letter state code")
            }
            let zip = field("ZipCode")
            guard zip.utf8.count == 5, zip.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw ValidationError(field: at, message: "`\(zip.prefix(20))` is not a five-digit ZIP")
            }
            let combined = try Self.partsPerMillion(field("EstimatedCombinedRate"), at: at)
            let stateRate = try Self.partsPerMillion(field("StateRate"), at: at)
            guard stateRate <= combined else { throw ValidationError(field: at, message: "the state rate is over the combined rate") }
            if let known = fileStates[state] ?? stateRates[state], known != stateRate {
                throw ValidationError(field: at, message: "\(state.rawValue)'s state rate is \(stateRate) ppm here and \(known) ppm before")
            }
            let row = ZIPRate(state: state, ratePartsPerMillion: combined)
            if let known = fileZips[zip] ?? zipRates[zip], known != row {
                throw ValidationError(field: at, message: "ZIP \(zip) is \(state.rawValue) \(combined) ppm here and \(known.state.rawValue) \(known.ratePartsPerMillion) ppm before")
            }
            fileStates[state] = stateRate
            fileZips[zip] = row
            rows += 1
        }
        guard !fileZips.isEmpty else { throw ValidationError(field: name, message: "no ZIP rows") }
        stateRates.merge(fileStates) { old, _ in old }
        zipRates.merge(fileZips) { old, _ in old }
        files += 1
    }

    /// A whole table: the imported states' own rates and ZIP rows; for states the files did not
    /// cover, `base`'s rates and ZIP rows; `base`'s category rules for all.
    public func table(version: String, effective: SettlementDay, base: TaxRateTable) throws(ValidationError) -> TaxRateTable {
        // A state the files cover takes its ZIP rows from them alone (they are the newer word
        // there); other states keep the base's.
        var zips = base.zipRates.filter { stateRates[$0.value.state] == nil }
        zips.merge(zipRates) { _, new in new }
        var states = base.stateRates
        states.merge(stateRates) { _, new in new }
        return try TaxRateTable(version: version, effective: effective, stateRates: states, zipRates: zips, categoryRules: base.categoryRules,
                                localPartStillTaxed: base.localPartStillTaxed)
    }

    /// `0.08875`, `.08875`, `0.088750`, `0` → ppm, exactly; anything else refused.
    static func partsPerMillion(_ text: String, at: String) throws(ValidationError) -> Int64 {
        let bytes = Array(text.utf8)
        guard let dot = bytes.firstIndex(of: 0x2E) ?? (bytes.isEmpty ? nil : bytes.count) else {
            throw ValidationError(field: at, message: "a rate is missing")
        }
        let whole = bytes[..<dot], fraction = dot < bytes.count ? Array(bytes[(dot + 1)...]) : []
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        guard whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit), whole.count <= 1, !(whole.isEmpty && fraction.isEmpty),
              fraction.count <= 12, fraction.dropFirst(6).allSatisfy({ $0 == 0x30 }) else {
            throw ValidationError(field: at, message: "`\(text.prefix(20))` is not a rate written as a decimal fraction to a millionth, e.g. 0.088750")
        }
        var ppm = Int64(whole.first.map { $0 - 0x30 } ?? 0) * 1_000_000
        var scale: Int64 = 100_000
        for digit in fraction.prefix(6) {
            ppm += Int64(digit - 0x30) * scale
            scale /= 10
        }
        guard ppm <= TaxRateTable.maximumRatePartsPerMillion else {
            throw ValidationError(field: at, message: "\(text.prefix(20)) is over \(TaxRateTable.maximumRatePartsPerMillion / 10_000) %")
        }
        return ppm
    }

    /// One CSV line's fields (RFC 4180 quoting: `"a, b"`, `""` for a quote).
    static func fields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch (character, quoted) {
            case ("\"", true):
                var lookahead = iterator
                if lookahead.next() == "\"" {
                    current.append("\"")
                    iterator = lookahead
                } else {
                    quoted = false
                }
            case ("\"", false) where current.isEmpty: quoted = true
            case (",", false):
                fields.append(current)
                current = ""
            default: current.append(character)
            }
        }
        fields.append(current)
        return fields.map { $0.trimmingCharacters(in: [" "]) }
    }
}

extension TaxRateTable {
    /// The table as the CSV ``parse(_:)`` reads back to an equal table.
    public var csv: String {
        var lines = ["# Written by hashcart tax-table.", "version,\(version)"]
        if let effective { lines.append("effective,\(effective)") }
        lines.append("state,zip,rate_ppm")
        for state in USState.allCases.sorted(by: { $0.rawValue < $1.rawValue }) { lines.append("\(state.rawValue),,\(stateRates[state]!)") }
        for (zip, row) in zipRates.sorted(by: { $0.key < $1.key }) { lines.append("\(row.state.rawValue),\(zip),\(row.ratePartsPerMillion)") }
        for category in TaxCategory.allCases {
            for (state, treatment) in (categoryRules[category] ?? [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let local = localPartStillTaxed[category]?.contains(state) == true
                let written = treatment.csv + (local ? (treatment.csv.contains(",") ? ",plus_local" : ",,plus_local") : "")
                lines.append("category,\(state.rawValue),\(category.rawValue),\(written)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
