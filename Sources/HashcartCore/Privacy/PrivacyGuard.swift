/// What must never appear on a network for one cardholder: card digits, address, name, limit, balance.
public struct SensitiveData: Sendable, Hashable {
    public var cardLast4: String
    public var billing: BillingAddress
    public var creditLimit: Money
    public var availableCredit: Money

    public init(cardLast4: String, billing: BillingAddress, creditLimit: Money, availableCredit: Money) {
        self.cardLast4 = cardLast4
        self.billing = billing
        self.creditLimit = creditLimit
        self.availableCredit = availableCredit
    }
}

/// Something an outbound post must not contain.
public enum PrivacyViolation: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case cardNumberLike = "card_number_like"
    case cardDigits = "card_digits"
    case address
    case billingName = "billing_name"
    case creditLimit = "credit_limit"
    case balance

    public var description: String { rawValue }
}

/// The last check before any text leaves for a network. The engine runs it on every outbound
/// post; `hashcart check` runs it again over every post that was sent.
///
/// It reads as a person does: the text and every secret are first brought to the same
/// ``ReadableText`` form (NFKC, case folded, invisible and format characters removed, every
/// space one ASCII space, every script's digits ASCII), so a no-break space, full-width or
/// Arabic-Indic digits, a zero-width space or a soft hyphen hide nothing. Then:
/// - card numbers: 8 or more digits in a run of digit words joined by spaces or dashes;
/// - card last four and ZIP: a digit word, or consecutive digit words that spell it ("1 0 0 0 6");
///   digits inside a word with letters (a reference like `4242XY`) are not a card's last four;
/// - billing name, address lines, and state with ZIP: their letters and digits in order, in any
///   spacing or punctuation ("65Broadway", "65 - BROADWAY", "NY10006", "N Y 1 0 0 0 6"), as whole
///   words (the name "Ada King" is not in "Ada Kingston"), except inside the leading `@` mention;
/// - credit limit and balance: in their usual spellings, not as part of a longer number.
///
/// Printable ASCII text, what the engine's own templates make, skips the Unicode work and is
/// folded byte by byte, because the guard runs once per reply on the purchase path.
public enum PrivacyGuard {
    /// Every rule `text` breaks; empty when it is safe to post.
    public static func violations(in text: String, sensitive: SensitiveData?) -> [PrivacyViolation] {
        var found: [PrivacyViolation] = []
        let readable = ReadableText(text)
        let bytes = readable.utf8
        let groups = digitGroups(in: bytes)
        if groups.contains(where: { $0.digitCount >= 8 }) { found.append(.cardNumberLike) }
        guard let sensitive else { return found }

        let last4 = ReadableText(sensitive.cardLast4).utf8
        if groups.contains(where: { $0.spells(last4) }) { found.append(.cardDigits) }
        func mentionsPhrase(_ phrase: String) -> Bool {
            let needle = ReadableText(phrase)
            // Shorter phrases ("4B", "Al") would match ordinary words.
            guard needle.letterAndDigitCount >= 4 else { return false }
            return readable.contains(phrase: needle)
        }
        let billing = sensitive.billing
        let zip = ReadableText(billing.zip5).utf8
        if mentionsPhrase(billing.line1) || mentionsPhrase(billing.line2 ?? "")
            || groups.contains(where: { $0.spells(zip) }) || mentionsPhrase(billing.state.rawValue + " " + billing.zip5)
        {
            found.append(.address)
        }
        if mentionsPhrase(billing.name) { found.append(.billingName) }
        if mentions(sensitive.creditLimit, in: bytes) { found.append(.creditLimit) }
        if mentions(sensitive.availableCredit, in: bytes) { found.append(.balance) }
        return found
    }

    /// An amount counts as mentioned in any of its usual spellings: `$5,000.00`, `5,000.00`,
    /// `5000.00`, `$5,000`, `$5000`, with or without a space after the `$`, when not part of a
    /// longer number. `text` is already normalised (``ReadableText``): its digits are ASCII.
    static func mentions(_ amount: Money, in text: [UInt8]) -> Bool {
        guard amount.minorUnits > 0 else { return false }
        let formatted = Array(amount.description.utf8)  // $5,000.00
        let grouped = Array(formatted.dropFirst())  // 5,000.00
        let plain = grouped.filter { $0 != UInt8(ascii: ",") }  // 5000.00
        var spellings = [formatted, grouped, plain, Array("$ ".utf8) + grouped, Array("$ ".utf8) + plain]
        if amount.minorUnits % 100 == 0 {
            let whole = Array(grouped.dropLast(3))  // 5,000
            let wholePlain = whole.filter { $0 != UInt8(ascii: ",") }  // 5000
            spellings += [[UInt8(ascii: "$")] + whole, [UInt8(ascii: "$")] + wholePlain,
                          Array("$ ".utf8) + whole, Array("$ ".utf8) + wholePlain]
        }
        func isDigit(_ index: Int) -> Bool { index >= 0 && index < text.count && text[index] >= 0x30 && text[index] <= 0x39 }
        for spelling in spellings {
            var from = 0
            while let start = contains(text, spelling, from: from) {
                let end = start + spelling.count
                let touchesDigit = isDigit(start - 1) || isDigit(end) || (end < text.count && text[end] == UInt8(ascii: ".") && isDigit(end + 1))
                if !touchesDigit { return true }
                from = start + 1
            }
        }
        return false
    }

    /// The first index at or after `from` where `needle` occurs in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8], from: Int = 0) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        let first = needle[0]
        var index = from
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = 1
                while matched < needle.count && haystack[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }

    /// Runs of all-digit words, joined across spaces and dashes ("4111 1111-1111 1111" is one group).
    /// Words with letters (handles, hashtags, references) and amounts (`$161.24`) break a group.
    struct DigitGroup {
        var tokens: [[UInt8]] = []
        var digitCount: Int { tokens.reduce(0) { $0 + $1.count } }

        /// Whether one token, or consecutive whole tokens read together, are exactly `digits`:
        /// "10006", "100 06" and "1 0 0 0 6" all spell 10006; "100061" and "1 00061" do not.
        func spells(_ digits: [UInt8]) -> Bool {
            guard !digits.isEmpty else { return false }
            for first in tokens.indices {
                var length = 0
                var index = first
                while index < tokens.count, length + tokens[index].count <= digits.count,
                      tokens[index].elementsEqual(digits[length..<(length + tokens[index].count)])
                {
                    length += tokens[index].count
                    index += 1
                    if length == digits.count { return true }
                }
            }
            return false
        }
    }

    /// Punctuation that may open or close a word without making it a different word.
    static func isTrimmable(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"), UInt8(ascii: "?"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
             UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "*"),
             UInt8(ascii: "-"):  // the text is normalised: every dash is `-`
            true
        default: false
        }
    }

    /// `text` is normalised (``ReadableText``): one ASCII space between words, ASCII digits, `-` for dashes.
    static func digitGroups(in text: [UInt8]) -> [DigitGroup] {
        var groups: [DigitGroup] = []
        var current = DigitGroup()
        var index = 0
        while index < text.count {
            if text[index] == 0x20 { index += 1; continue }
            var end = index
            while end < text.count && text[end] != 0x20 { end += 1 }
            var wordStart = index
            var wordEnd = end
            while wordStart < wordEnd && isTrimmable(text[wordStart]) { wordStart += 1 }
            var trailingPunctuation = false
            while wordEnd > wordStart && isTrimmable(text[wordEnd - 1]) { wordEnd -= 1; trailingPunctuation = true }
            // A digit word: digits, with dashes between them ("4111-1111").
            var allDigits = wordStart < wordEnd
            for position in wordStart..<wordEnd where !((text[position] >= 0x30 && text[position] <= 0x39) || text[position] == UInt8(ascii: "-")) {
                allDigits = false
                break
            }
            if allDigits {
                var tokenStart = wordStart
                for position in wordStart...wordEnd where position == wordEnd || text[position] == UInt8(ascii: "-") {
                    if position > tokenStart { current.tokens.append(Array(text[tokenStart..<position])) }
                    tokenStart = position + 1
                }
                if trailingPunctuation {
                    groups.append(current)
                    current = DigitGroup()
                }
            } else if !current.tokens.isEmpty {
                groups.append(current)
                current = DigitGroup()
            }
            index = end
        }
        if !current.tokens.isEmpty { groups.append(current) }
        return groups
    }
}
