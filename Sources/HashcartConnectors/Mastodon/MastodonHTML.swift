/// Mastodon's status `content` (sanitized HTML) reduced to the plain text a person wrote.
///
/// Tags are dropped (their text kept), `<br>` and paragraph ends become line breaks, character
/// references are decoded (`&amp;`, `&#39;`, `&#x1F525;`; an invalid one stays as written), and
/// nothing is ever interpreted: `<script>` text is text. Linear time, bounded output.
public enum MastodonHTML {
    public static let maximumInputBytes = 100_000

    public static func text(_ html: String) -> String {
        var out = ""
        var scalars = Array(html.unicodeScalars.prefix(maximumInputBytes))[...]
        while let scalar = scalars.first {
            switch scalar {
            case "<":
                // A tag starts `<letter`, `</` or `<!` and runs to the next '>' outside quotes;
                // anything else (`a < b`, an unclosed '<') is text.
                let next = scalars.dropFirst().first
                let opensTag = next.map { $0 == "/" || $0 == "!" || $0.properties.isAlphabetic } ?? false
                guard opensTag, let end = tagEnd(scalars) else {
                    out.unicodeScalars.append(scalar)
                    scalars = scalars.dropFirst()
                    continue
                }
                let tag = String(String.UnicodeScalarView(scalars[scalars.index(after: scalars.startIndex)..<end])).lowercased()
                let name = tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }
                if name == "br" || (tag.hasPrefix("/") && (name == "p" || name == "li" || name == "blockquote")) {
                    if !out.isEmpty, !out.hasSuffix("\n") || name == "br" { out += "\n" }
                }
                scalars = scalars[scalars.index(after: end)...]
            case "&":
                if let (decoded, length) = reference(scalars) {
                    out.unicodeScalars.append(decoded)
                    scalars = scalars.dropFirst(length)
                } else {
                    out.unicodeScalars.append(scalar)
                    scalars = scalars.dropFirst()
                }
            default:
                out.unicodeScalars.append(scalar)
                scalars = scalars.dropFirst()
            }
        }
        while out.hasSuffix("\n") { out.removeLast() }
        return out
    }

    static func tagEnd(_ scalars: ArraySlice<Unicode.Scalar>) -> Int? {
        var quote: Unicode.Scalar?
        var index = scalars.index(after: scalars.startIndex)
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if let open = quote {
                if scalar == open { quote = nil }
            } else if scalar == "\"" || scalar == "'" {
                quote = scalar
            } else if scalar == ">" {
                return index
            } else if scalar == "<" {
                return nil
            }
            index += 1
        }
        return nil
    }

    static let named: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "hellip": "…", "mdash": "—", "ndash": "–",
    ]

    /// A character reference at the start of `scalars`: the character and how many scalars it took.
    static func reference(_ scalars: ArraySlice<Unicode.Scalar>) -> (Unicode.Scalar, Int)? {
        let window = scalars.prefix(12)
        guard let semicolon = window.firstIndex(of: ";") else { return nil }
        let body = String(String.UnicodeScalarView(window[window.index(after: window.startIndex)..<semicolon]))
        let length = semicolon - scalars.startIndex + 1
        if body.hasPrefix("#x") || body.hasPrefix("#X") {
            guard let value = UInt32(body.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(value), value != 0 else { return nil }
            return (scalar, length)
        }
        if body.hasPrefix("#") {
            guard let value = UInt32(body.dropFirst()), let scalar = Unicode.Scalar(value), value != 0 else { return nil }
            return (scalar, length)
        }
        guard let scalar = named[body] else { return nil }
        return (scalar, length)
    }
}
