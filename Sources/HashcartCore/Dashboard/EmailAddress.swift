/// An email address as a dashboard user signs in with it, in one canonical spelling.
///
/// Other spellings of the same address are the same user: surrounding spaces are dropped and
/// the address is lower-cased (`Alice@Example.COM` is `alice@example.com`). Only printable ASCII
/// is accepted, so look-alike letters from other scripts cannot make a second account that reads
/// the same; one `@`, a local part of 1 to 64 characters, a domain with a dot, 254 characters at most.
public struct EmailAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumLength = 254

    public init(validating text: String) throws(ValidationError) {
        let trimmed = text.trimmingCharacters(in: " \t\r\n")
        guard !trimmed.isEmpty else { throw ValidationError(field: "email", message: "is required") }
        guard trimmed.utf8.count <= Self.maximumLength else {
            throw ValidationError(field: "email", message: "is longer than \(Self.maximumLength) characters")
        }
        guard trimmed.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ValidationError(field: "email", message: "must be plain ASCII without spaces")
        }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].count), !parts[1].isEmpty else {
            throw ValidationError(field: "email", message: "must be one name, an @ and a domain, as alice@example.com")
        }
        let domain = parts[1]
        guard domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains(".."),
              domain.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }),
              !parts[0].contains(where: { "<>()[]\\,;:\"".contains($0) })
        else {
            throw ValidationError(field: "email", message: "must be one name, an @ and a domain, as alice@example.com")
        }
        rawValue = trimmed.lowercased()
    }

    public var description: String { rawValue }

    public static func < (lhs: EmailAddress, rhs: EmailAddress) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension String {
    /// The string without leading and trailing characters of `set`.
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let first = firstIndex(where: { !characters.contains($0) }) else { return "" }
        let last = lastIndex(where: { !characters.contains($0) })!
        return String(self[first...last])
    }
}
