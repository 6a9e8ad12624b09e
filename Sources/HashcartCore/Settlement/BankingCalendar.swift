/// The days the Federal Reserve's ACH operator settles: Monday to Friday, except the Federal
/// Reserve Banks' holidays. A holiday on a Sunday is observed on the Monday; one on a Saturday is
/// not moved (the Reserve Banks are open the Friday before). Juneteenth counts from 2022, the year
/// the Reserve Banks first closed for it.
///
/// A payout file's effective entry date must be a banking day; ``nextBankingDay(after:)`` gives it.
public enum BankingCalendar {
    /// Whether ACH settles on `day`.
    public static func isBankingDay(_ day: SettlementDay) -> Bool {
        let weekday = day.weekday
        guard weekday != 0 && weekday != 6 else { return false }
        if isHoliday(day) { return false }
        // A Sunday holiday closes the Monday after it.
        if weekday == 1, isHoliday(day.previous) { return false }
        return true
    }

    /// The first banking day after `day` (the earliest a file made on `day` can settle).
    public static func nextBankingDay(after day: SettlementDay) -> SettlementDay {
        var candidate = day.next
        // Weekends and holidays never run more than four days in a row.
        for _ in 0..<7 where !isBankingDay(candidate) { candidate = candidate.next }
        precondition(isBankingDay(candidate), "a banking day comes within a week")
        return candidate
    }

    /// Whether `day` is, by its date, one of the Reserve Banks' holidays (before any observance).
    public static func isHoliday(_ day: SettlementDay) -> Bool {
        let (year, month, date) = day.components
        let weekday = day.weekday
        let nth = (date - 1) / 7 + 1
        switch (month, date) {
        case (1, 1), (7, 4), (11, 11), (12, 25): return true
        case (6, 19): return year >= 2022
        default: break
        }
        switch month {
        case 1: return weekday == 1 && nth == 3  // Martin Luther King Jr. Day
        case 2: return weekday == 1 && nth == 3  // Washington's Birthday
        case 5: return weekday == 1 && date + 7 > 31  // Memorial Day: the last Monday
        case 9: return weekday == 1 && nth == 1  // Labor Day
        case 10: return weekday == 1 && nth == 2  // Columbus Day
        case 11: return weekday == 4 && nth == 4  // Thanksgiving Day
        default: return false
        }
    }
}

extension SettlementDay {
    /// 0 Sunday … 6 Saturday (1970-01-01, day 0, was a Thursday).
    public var weekday: Int { Int(((dayNumber % 7) + 7 + 4) % 7) }
}
