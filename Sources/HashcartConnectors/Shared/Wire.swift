import Foundation

/// Small pieces of wire handling every connector shares.
enum Wire {
    /// A URL query value, percent-encoded (RFC 3986 unreserved characters stay as they are).
    static func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// An http(s) base URL without query or fragment, of a sane length.
    static func isHTTPBase(_ url: String) -> Bool {
        (url.hasPrefix("https://") || url.hasPrefix("http://")) && !url.contains("?") && !url.contains("#") && url.utf8.count <= 2_048
    }

    /// A base URL without trailing slashes, ready for `+ "/path"`.
    static func trimmedBase(_ url: String) -> String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// A `DecodingError` as a person reads it: what is wrong, and where (`commit.record.subject`).
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
        default: return "\(error)"
        }
    }

    static func path(_ keys: [any CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }

    /// Orders decimal snowflake ids (Mastodon statuses, X posts) by value: longer is newer.
    static func isNewer(_ a: String, than b: String) -> Bool { a.count != b.count ? a.count > b.count : a > b }
}
