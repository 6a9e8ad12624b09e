/// One UTC calendar day, the unit merchants are settled in: a batch per merchant per day.
///
/// Spelled `YYYY-MM-DD` on the command line and in JSON (ISO 8601's calendar date, nothing else:
/// no time, no zone, no week or ordinal dates), so that two spellings never name one day.
public struct SettlementDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let dayNumber: Int64

    /// The earliest and latest days Hashcart settles: years 2000 through 2099, so that the
    /// NACHA file's two-digit years are never ambiguous.
    public static let earliest = SettlementDay(year: 2000, month: 1, day: 1)!
    public static let latest = SettlementDay(year: 2099, month: 12, day: 31)!

    public init(dayNumber: Int64) { self.dayNumber = dayNumber }

    /// The day an instant falls on, in UTC.
    public init(containing instant: Instant) { self.dayNumber = instant.utcDay }

    /// A proleptic Gregorian date; nil when it does not exist (2026-02-30) or is outside 2000–2099.
    public init?(year: Int, month: Int, day: Int) {
        guard (2000...2099).contains(year), (1...12).contains(month), day >= 1,
              day <= Self.daysInMonth(year: year, month: month) else { return nil }
        self.dayNumber = Self.days(year: Int64(year), month: Int64(month), day: Int64(day))
    }

    /// Parses exactly `YYYY-MM-DD` (ASCII digits).
    public init(parsing text: String) throws(ValidationError) {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D,
              let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10) else {
            throw ValidationError(field: "date", message: "must be a calendar date written YYYY-MM-DD, e.g. 2026-12-01")
        }
        guard let parsed = SettlementDay(year: year, month: month, day: day) else {
            throw ValidationError(field: "date", message: "\(text) is not a day between 2000-01-01 and 2099-12-31")
        }
        self = parsed
    }

    public var start: Instant { Instant(millisecondsSinceEpoch: dayNumber * 86_400_000) }
    /// The first instant of the next day.
    public var end: Instant { Instant(millisecondsSinceEpoch: (dayNumber + 1) * 86_400_000) }
    public var next: SettlementDay { SettlementDay(dayNumber: dayNumber + 1) }
    public var previous: SettlementDay { SettlementDay(dayNumber: dayNumber - 1) }

    /// (year, month, day), by Howard Hinnant's `civil_from_days`.
    public var components: (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (year, month, day) = components
        return "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))"
    }

    /// `YYMMDD`, as NACHA writes dates.
    public var nachaDate: String {
        let (year, month, day) = components
        return Self.pad(year % 100, 2) + Self.pad(month, 2) + Self.pad(day, 2)
    }

    /// `YYYYMMDD`, for ids.
    public var compact: String {
        let (year, month, day) = components
        return Self.pad(year, 4) + Self.pad(month, 2) + Self.pad(day, 2)
    }

    public static func < (lhs: SettlementDay, rhs: SettlementDay) -> Bool { lhs.dayNumber < rhs.dayNumber }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try SettlementDay(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's `days_from_civil`.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
