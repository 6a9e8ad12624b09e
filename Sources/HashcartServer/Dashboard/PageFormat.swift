/// How pages write amounts, times and counts. Numbers only: nothing here carries text from outside.
enum PageFormat {
    /// `$1,234.56` for USD; `1,234.56 EUR` otherwise. Minor units, never floating point.
    static func money(_ minor: Int64, _ currency: String = "USD") -> String {
        let negative = minor < 0
        let magnitude = minor.magnitude
        let units = grouped(String(magnitude / 100))
        let cents = magnitude % 100
        let amount = "\(units).\(cents < 10 ? "0" : "")\(cents)"
        let sign = negative ? "−" : ""
        return currency.uppercased() == "USD" ? "\(sign)$\(amount)" : "\(sign)\(amount) \(currency.uppercased().prefix(3))"
    }

    /// `2500.00`: an amount as a form takes it back (no sign, symbol or grouping).
    static func plainAmount(_ minor: Int64) -> String {
        let magnitude = minor.magnitude
        return "\(magnitude / 100).\(two(Int64(magnitude % 100)))"
    }

    /// `0.42 s`, `12.3 s`, `4 min`: a duration given in milliseconds, rounded for reading.
    static func seconds(_ milliseconds: Int64) -> String {
        let ms = max(0, milliseconds)
        if ms < 10_000 { return "\(ms / 1000).\(two((ms % 1000) / 10)) s" }
        if ms < 120_000 { return "\(ms / 1000) s" }
        return "\(count(ms / 60_000)) min"
    }

    /// `12,345`.
    static func count(_ value: Int64) -> String {
        (value < 0 ? "−" : "") + grouped(String(value.magnitude))
    }

    static func grouped(_ digits: String) -> String {
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }

    /// `42.5%` of a share in 0…1 (one decimal, rounded half up in integer arithmetic).
    static func percent(_ part: Int64, of whole: Int64) -> String {
        guard whole > 0 else { return "—" }
        let tenths = (part * 1000 + whole / 2) / whole
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// `2026-12-07 08:30 UTC` for unix seconds.
    static func time(_ seconds: Int64) -> String {
        let (year, month, day) = civil(days: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let second = ((seconds % 86_400) + 86_400) % 86_400
        return "\(year)-\(two(month))-\(two(day)) \(two(second / 3600)):\(two(second / 60 % 60)) UTC"
    }

    /// `08:30` (UTC), for chart labels.
    static func clock(_ seconds: Int64) -> String {
        let second = ((seconds % 86_400) + 86_400) % 86_400
        return "\(two(second / 3600)):\(two(second / 60 % 60))"
    }

    /// `12-07` (UTC month and day), for chart labels over days.
    static func day(_ seconds: Int64) -> String {
        let (_, month, day) = civil(days: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        return "\(two(month))-\(two(day))"
    }

    static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Reads an amount typed in a form (`12`, `12.5`, `12.50`, `$1,234.56`) as minor units; nil
    /// for anything else (negative, more than two decimals, letters, over $10 million).
    static func parseAmount(_ text: String) -> Int64? {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("$") { body = body.dropFirst() }
        body = Substring(body.replacingOccurrences(of: ",", with: ""))
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (1...8).contains(parts[0].count), parts[0].allSatisfy(\.isASCIIDigit),
              parts.count == 1 || ((1...2).contains(parts[1].count) && parts[1].allSatisfy(\.isASCIIDigit)),
              let units = Int64(parts[0])
        else { return nil }
        var cents: Int64 = 0
        if parts.count == 2, let fraction = Int64(parts[1]) { cents = parts[1].count == 1 ? fraction * 10 : fraction }
        return units * 100 + cents
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

import Foundation
