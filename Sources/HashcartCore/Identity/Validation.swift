/// Something from outside (an API body, a CLI flag, a config value) that is not acceptable,
/// with the field it concerns and a message a person understands.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Shared checks for text that comes from outside.
public enum Validate {
    /// Non-empty (unless allowed), at most `maxLength` characters, and free of control characters.
    public static func text(_ value: String, field: String, maxLength: Int, allowEmpty: Bool = false) throws(ValidationError) {
        if value.isEmpty && !allowEmpty {
            throw ValidationError(field: field, message: "must not be empty")
        }
        if value.count > maxLength {
            throw ValidationError(field: field, message: "must be at most \(maxLength) characters")
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw ValidationError(field: field, message: "must not contain control characters")
        }
    }
}
