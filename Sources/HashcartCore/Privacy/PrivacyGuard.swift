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
public enum PrivacyGuard {
    /// Every rule `text` breaks; empty when it is safe to post.
    public static func violations(in text: String, sensitive: SensitiveData?) -> [PrivacyViolation] {
        var found: [PrivacyViolation] = []
        let groups = digitGroups(in: text)
        // Anything that looks like a card number: 8 or more digits, possibly split by spaces or dashes.
        if groups.contains(where: { $0.joinedDigits.count >= 8 }) { found.append(.cardNumberLike) }
        guard let sensitive else { return found }

        if groups.contains(where: { $0.tokens.contains(sensitive.cardLast4) }) { found.append(.cardDigits) }
        let lowered = text.lowercased()
        let addressParts = [sensitive.billing.line1, sensitive.billing.line2 ?? ""]
            .map { $0.lowercased().trimmingSpaces }
            .filter { $0.count >= 4 }
        if addressParts.contains(where: { lowered.contains($0) })
            || groups.contains(where: { $0.tokens.contains(sensitive.billing.zip5) })
        {
            found.append(.address)
        }
        let name = sensitive.billing.name.lowercased().trimmingSpaces
        if name.count >= 4, lowered.contains(name) { found.append(.billingName) }
        if mentions(sensitive.creditLimit, in: text) { found.append(.creditLimit) }
        if mentions(sensitive.availableCredit, in: text) { found.append(.balance) }
        return found
    }

    /// An amount counts as mentioned in any of its usual spellings: `$5,000.00`, `5000.00`, `$5,000`.
    static func mentions(_ amount: Money, in text: String) -> Bool {
        guard amount.minorUnits > 0 else { return false }
        let formatted = amount.description  // $5,000.00
        let plain = formatted.replacingOccurrences(",", with: "").dropFirst()  // 5000.00
        var spellings = [formatted, String(plain)]
        if amount.minorUnits % 100 == 0 { spellings.append(String(formatted.dropLast(3))) }  // $5,000
        return spellings.contains { spelling in
            var searchStart = text.startIndex
            while let range = text.range(of: spelling, range: searchStart..<text.endIndex) {
                let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
                let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
                let touchesDigit = (before?.isNumber ?? false) || (after?.isNumber ?? false)
                    || (after == "." && range.upperBound < text.index(before: text.endIndex)
                        && text[text.index(after: range.upperBound)].isNumber)
                if !touchesDigit { return true }
                searchStart = range.upperBound
            }
            return false
        }
    }

    /// Runs of all-digit words, joined across spaces and dashes ("4111 1111-1111 1111" is one group).
    /// Words with letters (handles, hashtags, references) and amounts (`$161.24`) break a group.
    struct DigitGroup {
        var tokens: [String] = []
        var joinedDigits: String { tokens.joined() }
    }

    static func digitGroups(in text: String) -> [DigitGroup] {
        var groups: [DigitGroup] = []
        var current = DigitGroup()
        func closeGroup() {
            if !current.tokens.isEmpty { groups.append(current) }
            current = DigitGroup()
        }
        let trimmable: Set<Character> = [".", ",", ";", ":", "!", "?", "(", ")", "\"", "'", "—"]
        for rawWord in text.split(whereSeparator: { $0.isWhitespace }) {
            var word = Substring(rawWord)
            while let first = word.first, trimmable.contains(first) { word.removeFirst() }
            var trailingPunctuation = false
            while let last = word.last, trimmable.contains(last) { word.removeLast(); trailingPunctuation = true }
            let parts = word.split(separator: "-", omittingEmptySubsequences: false)
            let allDigits = !word.isEmpty && parts.allSatisfy { part in
                !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber }
            }
            guard allDigits else {
                closeGroup()
                continue
            }
            current.tokens.append(contentsOf: parts.map(String.init))
            if trailingPunctuation { closeGroup() }
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

    fileprivate func replacingOccurrences(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
