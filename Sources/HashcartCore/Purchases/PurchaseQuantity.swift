/// How many units a purchase post asks for, read from the post's text.
///
/// A quantity is written straight after the offer's hashtag as `x` and a number:
/// `#BuyKindleFireHD x2`, `#BuyKindleFireHD X2`, `#BuyKindleFireHD ×2` (and the full-width forms,
/// which NFKC folds to these). Without one, a post buys one unit. `#BuyKindleFireHD xmas` is not a
/// quantity (letters follow the `x`), but anything that looks like a number after the `x` and is not
/// a plain count of 1 to 999 — `x0`, `x1.5`, `x2b`, `x٢` (Arabic-Indic), or two different counts
/// after two copies of the tag — is ``Request/unreadable(_:)``: in a payment the engine never guesses
/// what a person meant, it declines and says how to write it.
public enum PurchaseQuantity {
    /// What a post asks for.
    public enum Request: Sendable, Hashable {
        /// No quantity after the tag: one unit.
        case unspecified
        /// `units` units, 1 to ``maximumWritten``.
        case units(Int64)
        /// Something that tried to be a quantity and is not one; the reason is for logs and tests.
        case unreadable(String)

        /// The units asked for, or nil when unreadable.
        public var units: Int64? {
            switch self {
            case .unspecified: 1
            case .units(let units): units
            case .unreadable: nil
            }
        }
    }

    /// The largest count a post may write (offers' per-cardholder limits are at most 100).
    public static let maximumWritten: Int64 = 999

    /// The quantity `text` asks for after each occurrence of the tag whose key is `hashtagKey`.
    /// Reads at most the first 10,000 scalars, as ``Hashtag/extract(from:limit:)`` does.
    public static func request(in text: String, hashtagKey: String) -> Request {
        let scalars = Array(text.unicodeScalars.prefix(10_000))
        var found: [Request] = []
        var index = 0
        while index < scalars.count, found.count < 20 {
            let scalar = scalars[index]
            let precededByTagChar = index > 0 && (Hashtag.isTagScalar(scalars[index - 1]) || Hashtag.isTagStopper(scalars[index - 1]))
            guard scalar == "#" || scalar == "＃", !precededByTagChar else {
                index += 1
                continue
            }
            var end = index + 1
            while end < scalars.count, Hashtag.isTagScalar(scalars[end]) { end += 1 }
            defer { index = end }
            guard end > index + 1 else { continue }
            var body = String.UnicodeScalarView()
            body.append(contentsOf: scalars[(index + 1)..<end])
            guard (try? Hashtag(String(body)))?.key == hashtagKey else { continue }
            found.append(quantity(after: end, in: scalars))
        }
        if let unreadable = found.first(where: { $0.units == nil }) { return unreadable }
        let counts = Set(found.compactMap { request -> Int64? in
            if case .units(let units) = request { return units }
            return nil
        })
        switch counts.count {
        case 0: return .unspecified
        case 1: return .units(counts.first!)
        default: return .unreadable("the tag is followed by different quantities: \(counts.sorted().map { "x\($0)" }.joined(separator: ", "))")
        }
    }

    /// The quantity written at `start` (just after a tag): spaces, then one word.
    static func quantity(after start: Int, in scalars: [Unicode.Scalar]) -> Request {
        var position = start
        // Spaces and tabs (not line breaks) between the tag and the count; at most a few.
        while position < scalars.count, position - start < 8, scalars[position] == " " || scalars[position] == "\t" || scalars[position] == "\u{00A0}" || scalars[position] == "\u{3000}" {
            position += 1
        }
        var word = String.UnicodeScalarView()
        while position < scalars.count, !scalars[position].properties.isWhitespace, word.count < 32 {
            word.append(scalars[position])
            position += 1
        }
        // NFKC folds full-width `ｘ２` and superscripts to ASCII; the marker may be x, X or ×.
        var folded = Array(String(word).precomposedStringWithCompatibilityMapping.unicodeScalars)
        // Look-alikes of x (Cyrillic х, Х, multiplication signs) before a number are refused, not read as one unit.
        if let marker = folded.first, "хХ✕✖⨯╳".unicodeScalars.contains(marker), let next = folded.dropFirst().first, isDigitLike(next) {
            return .unreadable("\"\(String(word))\" writes the count with a look-alike of x")
        }
        guard let marker = folded.first, marker == "x" || marker == "X" || marker == "×" else { return .unspecified }
        folded.removeFirst()
        while let last = folded.last, ".,!?;:)]}'\"…".unicodeScalars.contains(last) { folded.removeLast() }
        guard let first = folded.first, isDigitLike(first) else { return .unspecified }  // `xmas`, a lone `x`
        let text = String(String.UnicodeScalarView(folded))
        guard folded.allSatisfy({ $0.isASCII && $0.properties.numericType == .decimal }) else {
            return .unreadable("\"\(String(word))\" is not a count of 1 to \(maximumWritten)")
        }
        guard folded.count <= 4, let units = Int64(text), (1...maximumWritten).contains(units) else {
            return .unreadable("\"\(String(word))\" is not a count of 1 to \(maximumWritten)")
        }
        return .units(units)
    }

    /// A scalar that starts something meant as a number: any script's digits, or a sign or point.
    static func isDigitLike(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.numericType != nil || scalar == "-" || scalar == "+" || scalar == "." || scalar == "−"
    }
}
