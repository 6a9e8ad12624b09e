import Foundation

/// Text as a person reads it, so that the privacy guard compares what a reader would see rather
/// than the code points a merchant chose. Both the outbound text and each secret go through the
/// same steps, in this order:
///
/// 1. NFKC (full-width `１０００６` and mathematical `𝟔𝟓` digits, ligatures, circled letters,
///    compatibility spaces);
/// 2. default-ignorable code points, format characters (`Cf`: zero-width space, U+FEFF, soft
///    hyphen, bidirectional controls, tag characters), other control characters and combining
///    marks (`Mn`, `Me`: variation selectors, U+034F, accents, keycaps) are removed;
/// 3. every space (`Zs`, tabs, newlines, U+2028/U+2029) becomes one ASCII space, runs collapse,
///    and leading and trailing spaces go;
/// 4. every script's decimal digits (`Nd`: Arabic-Indic, Devanagari, …) become ASCII `0`–`9`,
///    and every dash (`Pd`, U+2212 minus) becomes `-`;
/// 5. letters are case folded (upper case mapping, then lower case mapping: `ß` → `ss`, `ς` → `σ`).
///
/// Printable ASCII text, the engine's own replies, skips steps 1 and 2 and the Unicode property
/// look-ups: its folded bytes are computed directly (`PrivacyGuardTests` check that both paths
/// read the same).
struct ReadableText {
    /// The normalised text, as UTF-8.
    var utf8: [UInt8] = []
    /// Letters and digits only, in order: a phrase is found here in any spacing or punctuation
    /// ("65Broadway", "65 - BROADWAY"). A ``barrier`` stands for a `.` or `,` between two digits,
    /// so an amount (`$155.99`) never reads as one number (`15599`).
    var skeleton: [UInt32] = []
    /// For each element of ``skeleton``: whether a word may start there (and the previous one end):
    /// after a space, punctuation or symbol, at a change between letters and digits, and where a
    /// lower case letter is followed by an upper case one ("ShipTo65Broadway").
    var starts: [Bool] = []
    /// When the text starts with an `@` mention (the cardholder a reply is addressed to), the
    /// number of ``skeleton`` elements it holds; 0 otherwise. A handle is the cardholder's own
    /// public name on the network, which shows it on the reply anyway: "@adalovelace" is not a leak
    /// of the billing name Ada Lovelace, but "@ada Lovelace" is.
    private(set) var mentionEnd = 0

    /// The skeleton element standing for a decimal point or thousands separator between digits.
    static let barrier: UInt32 = 0

    private enum Kind { case none, letter, digit }
    private var last: Kind = .none
    private var separated = false
    private var lastWasLower = false
    private var pendingSpace = false
    /// A `.` or `,` came right after a digit (and nothing else since).
    private var numberPunctuation = false
    private var inMention = false

    init(_ text: String) {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            self.init(printableASCII: text.utf8)
        } else {
            self.init(unicode: text)
        }
    }

    /// The general path: every step, scalar by scalar.
    private init(unicode text: String) {
        let normalized = text.precomposedStringWithCompatibilityMapping
        utf8.reserveCapacity(normalized.utf8.count)
        skeleton.reserveCapacity(normalized.utf8.count)
        starts.reserveCapacity(normalized.utf8.count)
        for scalar in normalized.unicodeScalars { append(scalar) }
        if inMention { mentionEnd = skeleton.count }
    }

    /// The same steps as the general path, for printable ASCII only, in one tight loop: no
    /// Unicode look-ups, only folding `A`–`Z` and collapsing spaces.
    private init(printableASCII bytes: String.UTF8View) {
        var out: [UInt8] = []
        var skeleton: [UInt32] = []
        var starts: [Bool] = []
        out.reserveCapacity(bytes.count)
        skeleton.reserveCapacity(bytes.count)
        starts.reserveCapacity(bytes.count)
        var last: UInt8 = 0  // 0 none, 1 letter, 2 digit
        var separated = false
        var lastWasLower = false
        var pendingSpace = false
        var numberPunctuation = false
        var inMention = false
        var mentionEnd = 0
        for byte in bytes {
            switch byte {
            case 0x20:
                if inMention { mentionEnd = skeleton.count; inMention = false }
                if !out.isEmpty { pendingSpace = true }
                separated = true
                numberPunctuation = false
            case 0x41...0x5A, 0x61...0x7A:
                if pendingSpace { out.append(0x20); pendingSpace = false }
                let isUpper = byte <= 0x5A
                let folded = isUpper ? byte + 0x20 : byte
                out.append(folded)
                starts.append(skeleton.isEmpty || separated || last == 2 || (isUpper && lastWasLower))
                skeleton.append(UInt32(folded))
                last = 1
                lastWasLower = !isUpper
                separated = false
                numberPunctuation = false
            case 0x30...0x39:
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(byte)
                if numberPunctuation {
                    starts.append(true)
                    skeleton.append(Self.barrier)
                }
                starts.append(skeleton.isEmpty || separated || last == 1 || numberPunctuation)
                skeleton.append(UInt32(byte))
                last = 2
                lastWasLower = false
                separated = false
                numberPunctuation = false
            default:
                if out.isEmpty && byte == UInt8(ascii: "@") { inMention = true }
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(byte)
                numberPunctuation = (byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",")) && last == 2 && !separated
                separated = true
                lastWasLower = false
            }
        }
        if inMention { mentionEnd = skeleton.count }
        self.utf8 = out
        self.skeleton = skeleton
        self.starts = starts
        self.mentionEnd = mentionEnd
    }

    /// The number of letters and digits (barriers not counted).
    var letterAndDigitCount: Int { skeleton.reduce(0) { $0 + ($1 == Self.barrier ? 0 : 1) } }

    /// Whether `phrase`'s letters and digits occur here in order, as whole words: starting where a
    /// word may start and ending where one may end. Spacing and punctuation inside do not matter.
    /// An occurrence entirely inside the leading `@` mention does not count (see ``mentionEnd``).
    func contains(phrase: ReadableText) -> Bool {
        let needle = phrase.skeleton
        guard !needle.isEmpty, skeleton.count >= needle.count else { return false }
        for start in 0...(skeleton.count - needle.count) where starts[start] && skeleton[start] == needle[0] {
            let end = start + needle.count
            guard end > mentionEnd, end == skeleton.count || starts[end] else { continue }
            var index = 1
            while index < needle.count && skeleton[start + index] == needle[index] { index += 1 }
            if index == needle.count { return true }
        }
        return false
    }

    // MARK: Building

    private mutating func appendASCII(_ byte: UInt8) {
        switch byte {
        case 0x20, 0x09...0x0D: space()
        case 0x41...0x5A: letter(UInt32(byte + 0x20), isUpper: true, isLower: false)
        case 0x61...0x7A: letter(UInt32(byte), isUpper: false, isLower: true)
        case 0x30...0x39: digit(byte)
        case 0x00...0x1F, 0x7F: break
        default: punctuation(CollectionOfOne(byte))
        }
    }

    private mutating func append(_ scalar: Unicode.Scalar) {
        if scalar.value < 0x80 { return appendASCII(UInt8(scalar.value)) }
        let properties = scalar.properties
        let category = properties.generalCategory
        switch category {
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: return space()
        default: break
        }
        if properties.isWhitespace { return space() }
        if properties.isDefaultIgnorableCodePoint { return }
        switch category {
        case .format, .control, .nonspacingMark, .enclosingMark, .surrogate:
            return
        case .decimalNumber:
            if let value = properties.numericValue, value >= 0, value <= 9 { return digit(0x30 + UInt8(value)) }
            return letter(scalar.value, isUpper: false, isLower: false)
        case .dashPunctuation:
            return punctuation(CollectionOfOne(UInt8(ascii: "-")))
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .spacingMark,
             .letterNumber, .otherNumber:
            let isUpper = properties.isUppercase || category == .titlecaseLetter
            let isLower = properties.isLowercase
            for upper in properties.uppercaseMapping.unicodeScalars {
                for folded in upper.properties.lowercaseMapping.unicodeScalars {
                    switch folded.properties.generalCategory {
                    case .nonspacingMark, .enclosingMark, .format: continue
                    default: break
                    }
                    if folded.properties.isDefaultIgnorableCodePoint { continue }
                    letter(folded.value, isUpper: isUpper, isLower: isLower)
                }
            }
        default:
            if scalar == "\u{2212}" { return punctuation(CollectionOfOne(UInt8(ascii: "-"))) }
            punctuation(String(scalar).utf8)
        }
    }

    private mutating func space() {
        if inMention { mentionEnd = skeleton.count; inMention = false }
        if !utf8.isEmpty { pendingSpace = true }
        separated = true
        numberPunctuation = false
    }

    private mutating func flushSpace() {
        if pendingSpace { utf8.append(0x20); pendingSpace = false }
    }

    private mutating func letter(_ value: UInt32, isUpper: Bool, isLower: Bool) {
        flushSpace()
        if value < 0x80 {
            utf8.append(UInt8(value))
        } else if let scalar = Unicode.Scalar(value) {
            utf8.append(contentsOf: String(scalar).utf8)
        }
        starts.append(skeleton.isEmpty || separated || last == .digit || (isUpper && lastWasLower))
        skeleton.append(value)
        last = .letter
        lastWasLower = isLower
        separated = false
        numberPunctuation = false
    }

    private mutating func digit(_ byte: UInt8) {
        flushSpace()
        utf8.append(byte)
        if numberPunctuation {
            starts.append(true)
            skeleton.append(Self.barrier)
        }
        starts.append(skeleton.isEmpty || separated || last == .letter || numberPunctuation)
        skeleton.append(UInt32(byte))
        last = .digit
        lastWasLower = false
        separated = false
        numberPunctuation = false
    }

    private mutating func punctuation(_ bytes: some Collection<UInt8>) {
        if utf8.isEmpty && bytes.first == UInt8(ascii: "@") { inMention = true }
        flushSpace()
        utf8.append(contentsOf: bytes)
        let isNumberPunctuation = bytes.count == 1 && (bytes.first == UInt8(ascii: ".") || bytes.first == UInt8(ascii: ","))
        numberPunctuation = isNumberPunctuation && last == .digit && !separated
        separated = true
        lastWasLower = false
    }
}
