/// Who sends a payout file: the issuer as the ACH originator, and its bank (the ODFI).
///
/// Configured once per deployment (hashcart.yaml's `settlement:`); every field is checked so that
/// a file is never written with a field its bank would reject.
public struct NACHAOriginator: Sendable, Hashable {
    /// The routing number of the bank or ACH operator the file goes to (file header, "immediate destination").
    public var destinationRouting: String
    public var destinationName: String
    /// The originator's 10-character identification in the file header (often `1` + EIN).
    public var originID: String
    public var originName: String
    /// The batch header's company name (16) and company identification (10).
    public var companyName: String
    public var companyID: String
    /// The originating bank's routing number (its first 8 digits are every trace number's prefix).
    public var odfiRouting: String
    /// The entry description the merchant's statement shows (10), e.g. `PAYOUT`.
    public var entryDescription: String

    public init(destinationRouting: String, destinationName: String, originID: String, originName: String, companyName: String,
                companyID: String, odfiRouting: String, entryDescription: String = "PAYOUT") throws(ValidationError) {
        guard PayoutAccount.isRoutingNumber(destinationRouting) else {
            throw ValidationError(field: "settlement.destination_routing", message: "must be a 9-digit ABA routing number with a valid check digit")
        }
        guard PayoutAccount.isRoutingNumber(odfiRouting) else {
            throw ValidationError(field: "settlement.odfi_routing", message: "must be a 9-digit ABA routing number with a valid check digit")
        }
        func text(_ value: String, _ field: String, _ length: Int) throws(ValidationError) -> String {
            guard !value.isEmpty, value.utf8.count <= length, value.utf8.allSatisfy(NACHAText.isAllowed), value.first != " " else {
                throw ValidationError(field: "settlement.\(field)",
                                      message: "must be 1 to \(length) characters of A-Z, 0-9, space and - . , / & ( ) ' (uppercase ASCII)")
            }
            return value
        }
        self.destinationRouting = destinationRouting
        self.destinationName = try text(destinationName, "destination_name", 23)
        self.originID = try text(originID, "origin_id", 10)
        self.originName = try text(originName, "origin_name", 23)
        self.companyName = try text(companyName, "company_name", 16)
        self.companyID = try text(companyID, "company_id", 10)
        self.odfiRouting = odfiRouting
        self.entryDescription = try text(entryDescription, "entry_description", 10)
    }

    /// The originator test mode writes: the Federal Reserve's routing number as destination,
    /// names that say TEST. Test-mode files are for trying a bank's file intake, never to send.
    public static let testMode = try! NACHAOriginator(
        destinationRouting: "011000015", destinationName: "FEDERAL RESERVE BANK", originID: "1000000000",
        originName: "HASHCART TEST ISSUER", companyName: "HASHCART TEST", companyID: "1000000000", odfiRouting: "011000015",
        entryDescription: "TESTPAYOUT")
}

/// The characters a NACHA alphanumeric field may carry here: uppercase ASCII letters, digits,
/// space and a few punctuation marks. Anything a merchant typed is folded into them.
public enum NACHAText {
    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x30...0x39, 0x20, 0x2D, 0x2E, 0x2C, 0x2F, 0x26, 0x28, 0x29, 0x27: true
        default: false
        }
    }

    /// `text` made safe for a fixed-width field: lowercase ASCII letters uppercased, every other
    /// character outside the allowed set (markup, control characters, newlines, any non-ASCII)
    /// replaced by a space, runs of spaces collapsed, cut to `length`.
    public static func fold(_ text: String, length: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(length)
        for scalar in text.unicodeScalars {
            var byte: UInt8 = 0x20
            if scalar.isASCII {
                let value = UInt8(scalar.value)
                if value >= 0x61 && value <= 0x7A { byte = value - 0x20 } else if isAllowed(value) { byte = value }
            }
            if byte == 0x20 && (out.isEmpty || out.last == 0x20) { continue }
            out.append(byte)
            if out.count == length { break }
        }
        while out.last == 0x20 { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }
}

/// One credit in a payout file: a batch's payout to a merchant's account.
public struct NACHAEntry: Sendable, Hashable {
    public var account: PayoutAccount
    /// Minor units, 1 through 99,999,999.99 (the entry's 10-digit amount field).
    public var amount: Int64
    /// The 15-character identification number (``SettlementBatch/reference``).
    public var identification: String
    /// The merchant's name (folded into 22 characters).
    public var receiverName: String
    /// Which NACHA batch (settlement day) the entry belongs to.
    public var day: SettlementDay

    public init(account: PayoutAccount, amount: Int64, identification: String, receiverName: String, day: SettlementDay) {
        self.account = account
        self.amount = amount
        self.identification = identification
        self.receiverName = receiverName
        self.day = day
    }

    public static let maximumAmount: Int64 = 9_999_999_999
}

/// A NACHA payout file of CCD credits: 94-character records, one batch per settlement day
/// (service class 220, credits only), batch and file control totals with the entry hash, blocked
/// to a multiple of 10 records with filler records of `9`s.
///
/// Pure: the caller supplies the creation time, the file id modifier and the entries; the trace
/// numbers it assigns are returned so the store can record which entry paid which batch.
public struct NACHAFile: Sendable, Hashable {
    public struct Totals: Sendable, Hashable {
        public var batchCount: Int
        public var entryCount: Int
        public var blockCount: Int
        public var entryHash: Int64
        public var totalCredit: Int64

        public init(batchCount: Int, entryCount: Int, blockCount: Int, entryHash: Int64, totalCredit: Int64) {
            self.batchCount = batchCount
            self.entryCount = entryCount
            self.blockCount = blockCount
            self.entryHash = entryHash
            self.totalCredit = totalCredit
        }
    }

    /// The file's text: records separated by `\n`, ending with one.
    public let text: String
    public let totals: Totals
    /// Each entry's trace number, in the order the entries were given.
    public let traceNumbers: [String]

    /// The most entries one file holds (the file control's 8-digit count, with room to spare).
    public static let maximumEntries = 100_000

    public enum BuildError: Error, Sendable, Hashable, CustomStringConvertible {
        case noEntries
        case tooManyEntries(Int)
        case amountOutOfRange(String, Int64)
        case totalTooLarge
        case badFileIDModifier(String)

        public var description: String {
            switch self {
            case .noEntries: "a payout file needs at least one entry"
            case .tooManyEntries(let count): "a payout file holds at most \(NACHAFile.maximumEntries) entries, not \(count)"
            case .amountOutOfRange(let id, let amount): "entry \(id) pays \(amount) minor units; an ACH entry carries 1 to \(NACHAEntry.maximumAmount)"
            case .totalTooLarge: "the file's total is too large for its 12-digit control field"
            case .badFileIDModifier(let modifier): "file id modifier \(modifier) is not one of A-Z or 0-9"
            }
        }
    }

    public init(originator: NACHAOriginator, entries: [NACHAEntry], createdAt: Instant, fileIDModifier: Character,
                effectiveDate: SettlementDay) throws(BuildError) {
        guard !entries.isEmpty else { throw .noEntries }
        guard entries.count <= Self.maximumEntries else { throw .tooManyEntries(entries.count) }
        guard fileIDModifier.isASCII, fileIDModifier.isUppercase || fileIDModifier.isNumber else {
            throw .badFileIDModifier(String(fileIDModifier))
        }
        for entry in entries where !(1...NACHAEntry.maximumAmount).contains(entry.amount) {
            throw .amountOutOfRange(entry.identification, entry.amount)
        }
        func alpha(_ text: String, _ length: Int) -> String {
            let folded = NACHAText.fold(text, length: length)
            return folded + String(repeating: " ", count: length - folded.utf8.count)
        }
        func number(_ value: Int64, _ length: Int) -> String {
            precondition(value >= 0, "NACHA numeric fields are unsigned")
            let digits = String(value)
            precondition(digits.count <= length, "a numeric field overflowed its width")
            return String(repeating: "0", count: length - digits.count) + digits
        }
        func field(_ text: String, _ length: Int) -> String {
            precondition(text.utf8.count <= length, "a field overflowed its width")
            return text + String(repeating: " ", count: length - text.utf8.count)
        }

        let creationDay = SettlementDay(containing: createdAt)
        let minuteOfDay = (createdAt.millisecondsSinceEpoch - creationDay.start.millisecondsSinceEpoch) / 60_000
        let time = number(minuteOfDay / 60, 2) + number(minuteOfDay % 60, 2)
        let odfi8 = String(originator.odfiRouting.prefix(8))
        var records: [String] = []
        records.append("101" + " " + originator.destinationRouting + field(originator.originID, 10) + creationDay.nachaDate + time
                       + String(fileIDModifier) + "094" + "10" + "1" + alpha(originator.destinationName, 23)
                       + alpha(originator.originName, 23) + field("", 8))

        var traces = [String](repeating: "", count: entries.count)
        var sequence: Int64 = 0
        var fileHash: Int64 = 0
        var fileCredit: Int64 = 0
        let days = Set(entries.map(\.day)).sorted()
        for (batchIndex, day) in days.enumerated() {
            let batchNumber = number(Int64(batchIndex + 1), 7)
            records.append("5" + "220" + alpha(originator.companyName, 16) + field("", 20) + field(originator.companyID, 10) + "CCD"
                           + alpha(originator.entryDescription, 10) + day.nachaDate + effectiveDate.nachaDate + "   " + "1"
                           + odfi8 + batchNumber)
            var batchHash: Int64 = 0
            var batchCredit: Int64 = 0
            var batchCount: Int64 = 0
            for (index, entry) in entries.enumerated() where entry.day == day {
                sequence += 1
                let trace = odfi8 + number(sequence, 7)
                traces[index] = trace
                let routing = entry.account.routingNumber
                records.append("6" + entry.account.kind.creditTransactionCode + String(routing.prefix(8)) + String(routing.suffix(1))
                               + field(entry.account.accountNumber, 17) + number(entry.amount, 10) + alpha(entry.identification, 15)
                               + alpha(entry.receiverName, 22) + "  " + "0" + trace)
                batchHash += Int64(routing.prefix(8))!
                batchCredit += entry.amount
                batchCount += 1
            }
            guard batchCredit <= 999_999_999_999 else { throw .totalTooLarge }
            records.append("8" + "220" + number(batchCount, 6) + number(batchHash % 10_000_000_000, 10) + number(0, 12)
                           + number(batchCredit, 12) + field(originator.companyID, 10) + field("", 19) + field("", 6) + odfi8 + batchNumber)
            fileHash += batchHash
            fileCredit += batchCredit
        }
        guard fileCredit <= 999_999_999_999 else { throw .totalTooLarge }
        let recordCount = records.count + 1
        let blocks = (recordCount + 9) / 10
        records.append("9" + number(Int64(days.count), 6) + number(Int64(blocks), 6) + number(Int64(entries.count), 8)
                       + number(fileHash % 10_000_000_000, 10) + number(0, 12) + number(fileCredit, 12) + field("", 39))
        while records.count % 10 != 0 { records.append(String(repeating: "9", count: 94)) }
        for record in records { precondition(record.utf8.count == 94, "every NACHA record is 94 characters") }

        self.text = records.joined(separator: "\n") + "\n"
        self.totals = Totals(batchCount: days.count, entryCount: entries.count, blockCount: blocks,
                             entryHash: fileHash % 10_000_000_000, totalCredit: fileCredit)
        self.traceNumbers = traces
    }
}
