import HashcartCore

/// A card feed message Hashcart acts on — 0200 financial request, 0220 financial advice (both a
/// purchase), 0420 reversal advice — and the response it gets (0210, 0230, 0430), echoing fields
/// 3, 4, 7, 11, 37, 41, 42 and 49 with field 39 set.
public enum CardFeedRequest {
    /// Field 39 of a response.
    public enum ResponseCode: String, Sendable, Hashable {
        /// Taken (processed, or already processed: a repeat gets the same answer).
        case approved = "00"
        /// The message is malformed: it changed nothing.
        case formatError = "30"
        /// Hashcart could not process it now (its store did not answer): send it again.
        case systemMalfunction = "96"
    }

    /// The request types and their responses.
    public static let responseTypes = ["0200": "0210", "0220": "0230", "0420": "0430"]
    /// The fields a response echoes from its request, when present.
    public static let echoedFields = [3, 4, 7, 11, 37, 41, 42, 49]

    /// The response to `request`, or nil when its type is not one Hashcart answers (the frame is
    /// dropped and counted). Echoed fields keep their exact bytes.
    public static func response(to request: ISO8583Message, code: ResponseCode) -> ISO8583Message? {
        guard let type = responseTypes[request.type] else { return nil }
        var fields: [Int: String] = [39: code.rawValue]
        for number in echoedFields { if let value = request.fields[number] { fields[number] = value } }
        return ISO8583Message(type: type, fields: fields)
    }

    /// The transaction a message reports, its PAN (field 2) replaced by the store's fingerprint
    /// at once. Field 7 (MMDDhhmmss, UTC) has no year: it is the latest such moment not more than a
    /// day after `now`. Throws the field at fault for anything malformed.
    public static func transaction(of message: ISO8583Message, fingerprinter: any CardFingerprinter, now: Instant) throws(ValidationError) -> CardTransaction {
        let kind: CardTransactionKind
        switch message.type {
        case "0200", "0220": kind = .purchase
        case "0420": kind = .reversal
        default: throw ValidationError(field: "message_type", message: "must be 0200, 0220 or 0420")
        }
        func required(_ number: Int, _ name: String) throws(ValidationError) -> String {
            guard let value = message.fields[number] else { throw ValidationError(field: name, message: "field \(number) is required") }
            return value
        }
        let pan = try PrimaryAccountNumber(try required(2, "pan"))
        let processing = try required(3, "processing_code")
        // Purchases only (processing code 00xxxx): cash, refunds and inquiries earn no credit.
        guard processing.utf8.allSatisfy(ISO8583Message.isDigit), processing.hasPrefix("00") else {
            throw ValidationError(field: "processing_code", message: "field 3 must be a purchase (00xxxx)")
        }
        let amountText = try required(4, "amount")
        guard amountText.utf8.allSatisfy(ISO8583Message.isDigit), let amount = Int64(amountText) else {
            throw ValidationError(field: "amount", message: "field 4 must be 12 digits")
        }
        let occurredAt = try transmissionTime(try required(7, "occurred_at"), now: now)
        if let currency = message.fields[49], currency != "840" {
            throw ValidationError(field: "currency", message: "field 49 must be 840 (USD)")
        }
        let mcc = message.fields[18]
        let acceptor = String(try required(42, "acceptor_id").reversed().drop(while: { $0 == " " }).reversed())
        let transaction = CardTransaction(kind: kind, card: fingerprinter.cardFingerprint(of: pan), amount: .usd(amount), acceptorID: acceptor,
                                          merchantCategoryCode: mcc, retrievalReference: try required(37, "rrn"),
                                          systemTrace: try required(11, "stan"), occurredAt: occurredAt)
        return try transaction.validated(now: now)
    }

    /// Field 7, MMDDhhmmss in UTC, in the year that puts it latest but not more than a day after `now`.
    static func transmissionTime(_ text: String, now: Instant) throws(ValidationError) -> Instant {
        let digits = Array(text.utf8)
        guard digits.count == 10, digits.allSatisfy(ISO8583Message.isDigit) else {
            throw ValidationError(field: "occurred_at", message: "field 7 must be MMDDhhmmss")
        }
        func number(_ range: Range<Int>) -> Int { Int(String(decoding: digits[range], as: UTF8.self))! }
        let (month, day, hour, minute, second) = (number(0..<2), number(2..<4), number(4..<6), number(6..<8), number(8..<10))
        let year = CivilDate.year(of: now)
        for candidate in [year + 1, year, year - 1] {
            guard let days = CivilDate.daysSinceEpoch(year: candidate, month: month, day: day), hour < 24, minute < 60, second < 60 else {
                continue
            }
            let instant = Instant(millisecondsSinceEpoch: ((Int64(days) * 24 + Int64(hour)) * 3_600 + Int64(minute) * 60 + Int64(second)) * 1_000)
            if instant <= now.adding(milliseconds: CardTransaction.maximumFutureMilliseconds) { return instant }
        }
        throw ValidationError(field: "occurred_at", message: "field 7 is not a valid date and time")
    }
}

/// Proleptic Gregorian dates in UTC, without Foundation (the core's clock is Unix milliseconds).
enum CivilDate {
    /// Days from 1970-01-01 to the date, nil if it does not exist (Howard Hinnant's algorithm).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int? {
        guard (1...12).contains(month), day >= 1 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= lengths[month - 1] else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func year(of instant: Instant) -> Int {
        let days = Int(instant.millisecondsSinceEpoch / 86_400_000)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        return yearOfEra + era * 400 + (monthIndex >= 10 ? 1 : 0)
    }
}
