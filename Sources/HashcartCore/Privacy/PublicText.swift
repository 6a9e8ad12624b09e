/// Checks for merchant text that the issuer's official account posts in public (offer titles,
/// merchant names). Such text must read the same for every reader and hide nothing: a
/// bidirectional override can make `$155.99` display as `$99.551` inside the issuer's own reply,
/// and invisible characters can split a word the privacy guard would otherwise read, or carry
/// hidden data. So text for public posts is refused when it holds any of:
/// - bidirectional controls: U+202A–U+202E (embeddings, overrides), U+2066–U+2069 (isolates),
///   U+200E and U+200F (marks), U+061C (Arabic letter mark);
/// - invisible characters: default-ignorable code points (zero-width space and joiners, U+2060
///   word joiner, variation selectors, U+034F, Hangul fillers, tag characters) and every other
///   format character (`Cf`: U+FEFF, soft hyphen U+00AD, …);
/// - control characters (`Cc`: tabs, newlines, …) and line or paragraph separators
///   (U+2028, U+2029).
public enum PublicText {
    /// Why a character may not appear in text that is posted publicly.
    public enum Problem: Sendable, Hashable {
        case bidirectionalControl
        case invisible
        case control
    }

    /// The first character of `value` that may not appear in a public post, with why; `nil` when
    /// every character is fine.
    public static func firstRefused(in value: String) -> (scalar: Unicode.Scalar, problem: Problem)? {
        // Printable ASCII, nearly every title, holds none of them.
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return nil }
        for scalar in value.unicodeScalars {
            if let problem = problem(with: scalar) { return (scalar, problem) }
        }
        return nil
    }

    /// Why `scalar` may not appear in a public post; `nil` when it may.
    public static func problem(with scalar: Unicode.Scalar) -> Problem? {
        switch scalar.value {
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return .bidirectionalControl
        default: break
        }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return .control
        case .format: return .invisible
        default: return properties.isDefaultIgnorableCodePoint ? .invisible : nil
        }
    }

    /// Refuses `value` for `field` if it holds a character that may not appear in a public post,
    /// naming the character so the merchant can find it.
    public static func check(_ value: String, field: String) throws(ValidationError) {
        guard let (scalar, problem) = firstRefused(in: value) else { return }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        let message = switch problem {
        case .bidirectionalControl:
            "must not contain the bidirectional control character \(code): it changes the order in which readers see the text of a public post"
        case .invisible:
            "must not contain the invisible character \(code): text in a public post must read the same as it is written"
        case .control:
            "must not contain the control character \(code) (tabs, line breaks and other control characters are not allowed)"
        }
        throw ValidationError(field: field, message: message)
    }
}

extension Validate {
    /// ``text(_:field:maxLength:allowEmpty:)`` for merchant text that the issuer's account posts in
    /// public (offer titles, merchant names), which also refuses what ``PublicText`` refuses.
    public static func publicText(_ value: String, field: String, maxLength: Int) throws(ValidationError) {
        // The character first: its message names the code point, where `text` only says "control characters".
        try PublicText.check(value, field: field)
        try text(value, field: field, maxLength: maxLength)
    }
}
