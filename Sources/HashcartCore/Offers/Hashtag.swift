import Foundation

/// A hashtag as Hashcart compares it: Unicode NFKC, then case-folded, without the `#`.
///
/// `#BuyKindleFireHD`, `#buykindlefirehd` and `#ＢｕｙＫｉｎｄｌｅＦｉｒｅＨＤ` (full-width) are one tag;
/// `#BuyKindle` is not `#BuyKindleFire` (whole tags only), and a tag spelled with look-alike
/// letters from another script (Cyrillic `а` for Latin `a`) is a different tag.
public struct Hashtag: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The tag as written, without `#`, e.g. `BuyKindleFireHD`.
    public let display: String
    /// The comparison key: NFKC + case fold.
    public let key: String

    public static let maximumLength = 100

    /// Parses `#Tag` or `Tag`. Letters, digits and `_` only; at least one letter; at most 100.
    public init(_ text: String) throws(ValidationError) {
        var body = Substring(text)
        if body.hasPrefix("#") || body.hasPrefix("＃") { body = body.dropFirst() }
        guard !body.isEmpty, body.count <= Self.maximumLength else {
            throw ValidationError(field: "hashtag", message: "must be 1 to \(Self.maximumLength) characters after #")
        }
        guard body.unicodeScalars.allSatisfy(Self.isTagScalar) else {
            throw ValidationError(field: "hashtag", message: "may contain only letters, digits and _")
        }
        guard body.unicodeScalars.contains(where: { $0.properties.isAlphabetic }) else {
            throw ValidationError(field: "hashtag", message: "must contain at least one letter")
        }
        display = String(body)
        key = Self.normalize(body)
    }

    public var description: String { "#" + display }

    // MARK: Tags that cannot impersonate (Unicode TR39)

    /// This tag, if it may be an offer's purchase hashtag: no invisible or combining marks
    /// (variation selectors, U+034F, accents left uncomposed after NFKC) and no mixed scripts under
    /// TR39's "moderately restrictive" profile — one script, or Latin with Han and Hiragana/Katakana,
    /// with Han and Bopomofo, with Han and Hangul, or with any one other script but Cyrillic and
    /// Greek (digits and `_` go with any). Posts are still matched by ``key``; this only decides
    /// what a merchant may claim.
    public func checkedForOffer() throws(ValidationError) -> Hashtag {
        let composed = display.precomposedStringWithCompatibilityMapping
        for scalar in composed.unicodeScalars {
            let category = scalar.properties.generalCategory
            if category == .nonspacingMark || category == .spacingMark || category == .enclosingMark || scalar.properties.isDefaultIgnorableCodePoint {
                throw ValidationError(field: "hashtag", message: "must not contain invisible or combining marks (found U+\(String(scalar.value, radix: 16, uppercase: true))): a look-alike of another tag could hide in them")
            }
        }
        let scripts = Set(composed.unicodeScalars.map(Self.script(of:))).subtracting(["COMMON", "INHERITED"])
        guard Self.isModeratelyRestrictive(scripts) else {
            throw ValidationError(field: "hashtag", message: "mixes the scripts \(scripts.sorted().joined(separator: ", ")): letters from another script can make a tag look like someone else's")
        }
        return self
    }

    /// TR39's confusable skeleton, case-folded: two tags with one skeleton look alike to a person
    /// (`#BuyKindIeFireHD` with a capital I, `#BuyKindleFireHD`, and Cyrillic look-alikes of it).
    public var skeleton: String {
        var mapped = String.UnicodeScalarView()
        for scalar in display.precomposedStringWithCompatibilityMapping.unicodeScalars {
            mapped.append(Self.representative(of: scalar))
        }
        return Self.normalize(String(mapped))
    }

    static func script(of scalar: Unicode.Scalar) -> String {
        let ranges = HashtagTables.scriptRanges
        var low = 0, high = ranges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let (first, last, script) = ranges[middle]
            if scalar.value < first { high = middle - 1 } else if scalar.value > last { low = middle + 1 } else {
                return HashtagTables.scriptNames[Int(script)]
            }
        }
        return "UNKNOWN"
    }

    static func representative(of scalar: Unicode.Scalar) -> Unicode.Scalar {
        let table = HashtagTables.confusableRepresentatives
        var low = 0, high = table.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if scalar.value < table[middle].0 { high = middle - 1 } else if scalar.value > table[middle].0 { low = middle + 1 } else {
                return Unicode.Scalar(table[middle].1) ?? scalar
            }
        }
        return scalar
    }

    static func isModeratelyRestrictive(_ scripts: Set<String>) -> Bool {
        if scripts.count <= 1 { return !scripts.contains("UNKNOWN") }
        let asian: [Set<String>] = [["LATIN", "HAN", "HIRAGANA", "KATAKANA"], ["LATIN", "HAN", "BOPOMOFO"], ["LATIN", "HAN", "HANGUL"]]
        if asian.contains(where: { scripts.isSubset(of: $0) }) { return true }
        let others = scripts.subtracting(["LATIN"])
        return scripts.contains("LATIN") && others.count == 1 && !others.contains("CYRILLIC") && !others.contains("GREEK") && !others.contains("UNKNOWN")
    }

    /// NFKC then full case folding: the one comparison every connector and the store agree on.
    public static func normalize<S: StringProtocol>(_ text: S) -> String {
        String(text).precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive], locale: nil)
            .precomposedStringWithCompatibilityMapping
    }

    /// Whether `scalar` can be part of a tag: letters, decimal digits, combining marks and `_`.
    public static func isTagScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
            || scalar.properties.generalCategory == .nonspacingMark
            || scalar.properties.generalCategory == .spacingMark
    }

    /// Characters that make a following `#` part of something else: `&#39;`, `a/#b`, `?x=#y`, `http://x.#`.
    public static func isTagStopper(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "&" || scalar == "/" || scalar == "=" || scalar == "?" || scalar == ":" || scalar == "."
    }

    /// Every hashtag in a post's text, in order, whole tags only, at most `limit`.
    ///
    /// A tag starts at `#` (or full-width `＃`) not preceded by a tag character (so `a#b`, `&#39;` and URL
    /// fragments are not tags) and runs to the first non-tag character.
    public static func extract(from text: String, limit: Int = 20) -> [Hashtag] {
        var tags: [Hashtag] = []
        let scalars = Array(text.unicodeScalars.prefix(10_000))
        var index = 0
        while index < scalars.count, tags.count < limit {
            let scalar = scalars[index]
            let precededByTagChar = index > 0 && (isTagScalar(scalars[index - 1]) || isTagStopper(scalars[index - 1]))
            if (scalar == "#" || scalar == "＃") && !precededByTagChar {
                var end = index + 1
                while end < scalars.count, isTagScalar(scalars[end]) { end += 1 }
                if end > index + 1 {
                    var body = String.UnicodeScalarView()
                    body.append(contentsOf: scalars[(index + 1)..<end])
                    if let tag = try? Hashtag(String(body)) { tags.append(tag) }
                }
                index = end
            } else {
                index += 1
            }
        }
        return tags
    }
}
