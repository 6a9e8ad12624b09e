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
/// It works on the text's UTF-8 bytes (ASCII case folding, with a full Unicode fallback for
/// non-ASCII text), because it runs once per reply on the purchase path.
public enum PrivacyGuard {
    /// Every rule `text` breaks; empty when it is safe to post.
    public static func violations(in text: String, sensitive: SensitiveData?) -> [PrivacyViolation] {
        var found: [PrivacyViolation] = []
        let bytes = Array(text.utf8)
        let groups = digitGroups(in: bytes)
        // Anything that looks like a card number: 8 or more digits, possibly split by spaces or dashes.
        if groups.contains(where: { $0.digitCount >= 8 }) { found.append(.cardNumberLike) }
        guard let sensitive else { return found }

        let last4 = Array(sensitive.cardLast4.utf8)
        if groups.contains(where: { $0.tokens.contains(last4) }) { found.append(.cardDigits) }
        let isASCII = bytes.allSatisfy { $0 < 0x80 }
        let folded = isASCII ? asciiLowercased(bytes) : Array(text.lowercased().utf8)
        func mentionsPhrase(_ phrase: String) -> Bool {
            let trimmed = phrase.trimmingSpaces
            guard trimmed.count >= 4 else { return false }
            let needle = trimmed.utf8.allSatisfy({ $0 < 0x80 }) ? asciiLowercased(Array(trimmed.utf8)) : Array(trimmed.lowercased().utf8)
            return contains(folded, needle) != nil
        }
        let zip = Array(sensitive.billing.zip5.utf8)
        if mentionsPhrase(sensitive.billing.line1) || mentionsPhrase(sensitive.billing.line2 ?? "")
            || groups.contains(where: { $0.tokens.contains(zip) })
        {
            found.append(.address)
        }
        if mentionsPhrase(sensitive.billing.name) { found.append(.billingName) }
        if mentions(sensitive.creditLimit, in: bytes) { found.append(.creditLimit) }
        if mentions(sensitive.availableCredit, in: bytes) { found.append(.balance) }
        return found
    }

    /// An amount counts as mentioned in any of its usual spellings: `$5,000.00`, `5000.00`, `$5,000`,
    /// when not part of a longer number.
    static func mentions(_ amount: Money, in text: [UInt8]) -> Bool {
        guard amount.minorUnits > 0 else { return false }
        let formatted = Array(amount.description.utf8)  // $5,000.00
        let plain = Array(formatted.dropFirst().filter { $0 != UInt8(ascii: ",") })  // 5000.00
        var spellings = [formatted, plain]
        if amount.minorUnits % 100 == 0 { spellings.append(Array(formatted.dropLast(3))) }  // $5,000
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

    static func asciiLowercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }

    /// Runs of all-digit words, joined across spaces and dashes ("4111 1111-1111 1111" is one group).
    /// Words with letters (handles, hashtags, references) and amounts (`$161.24`) break a group.
    struct DigitGroup {
        var tokens: [[UInt8]] = []
        var digitCount: Int { tokens.reduce(0) { $0 + $1.count } }
    }

    static let trimmable: Set<UInt8> = Set(".,;:!?()\"'".utf8)

    static func digitGroups(in text: [UInt8]) -> [DigitGroup] {
        var groups: [DigitGroup] = []
        var current = DigitGroup()
        func closeGroup() {
            if !current.tokens.isEmpty { groups.append(current) }
            current = DigitGroup()
        }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
        var index = 0
        while index < text.count {
            if isSpace(text[index]) { index += 1; continue }
            var end = index
            while end < text.count && !isSpace(text[end]) { end += 1 }
            var wordStart = index
            var wordEnd = end
            while wordStart < wordEnd && trimmable.contains(text[wordStart]) { wordStart += 1 }
            var trailingPunctuation = false
            while wordEnd > wordStart && trimmable.contains(text[wordEnd - 1]) { wordEnd -= 1; trailingPunctuation = true }
            // An em dash (U+2014) at the end also closes the word.
            if wordEnd - wordStart >= 3 && text[wordEnd - 3] == 0xE2 && text[wordEnd - 2] == 0x80 && text[wordEnd - 1] == 0x94 {
                wordEnd -= 3
                trailingPunctuation = true
            }
            let word = text[wordStart..<wordEnd]
            let parts = word.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
            let allDigits = !word.isEmpty && parts.allSatisfy { part in !part.isEmpty && part.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
            if allDigits {
                current.tokens.append(contentsOf: parts.map { Array($0) })
                if trailingPunctuation { closeGroup() }
            } else {
                closeGroup()
            }
            index = end
        }
        closeGroup()
        return groups
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars.removeFirst() }
        while scalars.last == " " { scalars.removeLast() }
        return String(scalars)
    }
}
