import Foundation

/// The fields of an `application/x-www-form-urlencoded` body, read without trusting it: at most
/// ``maximumFields`` fields, each name once, each value valid UTF-8 once percent-decoded.
public struct PageForm: Sendable, Hashable {
    public static let maximumBytes = 16 * 1024
    public static let maximumFields = 32

    public private(set) var fields: [String: String] = [:]

    public init() {}

    public init(fields: [String: String]) {
        self.fields = fields
    }

    /// Reads a form body (or a query string); throws ``PageError/badForm(_:)`` with what is wrong.
    public init(encoded: String) throws {
        guard encoded.utf8.count <= Self.maximumBytes else { throw PageError.tooLarge }
        for pair in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else {
                throw PageError.badForm("The form is not well encoded.")
            }
            guard fields[name] == nil else { throw PageError.badForm("The field “\(name.prefix(40))” was sent twice.") }
            guard fields.count < Self.maximumFields else { throw PageError.badForm("The form has too many fields.") }
            fields[name] = value
        }
    }

    static func decode(_ text: Substring) -> String? {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        guard let decoded = spaced.removingPercentEncoding, !decoded.unicodeScalars.contains(where: { $0.value == 0 }) else { return nil }
        return decoded
    }

    public subscript(_ name: String) -> String? { fields[name] }

    /// A field's text with surrounding spaces dropped; nil when missing or blank.
    public func text(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// A required field.
    public func required(_ name: String, label: String) throws -> String {
        guard let value = text(name) else { throw PageError.badForm("\(label) is required.") }
        return value
    }
}
