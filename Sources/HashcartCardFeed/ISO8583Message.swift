/// One ISO 8583:1987 message in its ASCII form: a four-digit message type, a primary bitmap (and
/// a secondary one when bit 1 is set) as 16 upper- or lowercase hex digits each, then every
/// present field in field order — fixed-length fields as they are, LLVAR and LLLVAR fields after
/// their two- or three-digit length. The field formats are those of pyiso8583's `default_ascii`
/// specification (the codec the tests send with), so any field a sender adds is skipped safely.
///
/// Parsing trusts nothing: every length is checked against the bytes there are and the field's
/// maximum, every byte must be printable ASCII, and the whole message must be used up.
public struct ISO8583Message: Sendable, Hashable, CustomStringConvertible {
    /// The message type indicator, e.g. `0200`.
    public var type: String
    /// Present fields by number (2…128), as ASCII text.
    public var fields: [Int: String]

    public init(type: String, fields: [Int: String]) {
        self.type = type
        self.fields = fields
    }

    /// The largest message Hashcart reads (the 2-byte frame allows 65,535).
    public static let maximumLength = 4_096

    /// How a field's length is given.
    public enum FieldFormat: Sendable, Hashable {
        /// Exactly this many characters.
        case fixed(Int)
        /// A two-digit length, then at most this many characters.
        case llvar(Int)
        /// A three-digit length, then at most this many characters.
        case lllvar(Int)
    }

    /// Fields 1…128 (index 0 is field 1, the secondary bitmap).
    public static let formats: [FieldFormat] = [
        .fixed(16), .llvar(19), .fixed(6), .fixed(12), .fixed(12), .fixed(12), .fixed(10), .fixed(8),
        .fixed(8), .fixed(8), .fixed(6), .fixed(6), .fixed(4), .fixed(4), .fixed(4), .fixed(4),
        .fixed(4), .fixed(4), .fixed(3), .fixed(3), .fixed(3), .fixed(3), .fixed(3), .fixed(3),
        .fixed(2), .fixed(2), .fixed(1), .fixed(9), .fixed(9), .fixed(9), .fixed(9), .llvar(11),
        .llvar(11), .llvar(28), .llvar(37), .lllvar(104), .fixed(12), .fixed(6), .fixed(2), .fixed(3),
        .fixed(8), .fixed(15), .fixed(40), .llvar(25), .llvar(76), .lllvar(999), .lllvar(999), .lllvar(999),
        .fixed(3), .fixed(3), .fixed(3), .fixed(16), .fixed(16), .lllvar(240), .lllvar(510), .lllvar(999),
        .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .fixed(16),
        .fixed(16), .fixed(1), .fixed(2), .fixed(3), .fixed(3), .fixed(3), .fixed(4), .fixed(4),
        .fixed(6), .fixed(10), .fixed(10), .fixed(10), .fixed(10), .fixed(10), .fixed(10), .fixed(10),
        .fixed(10), .fixed(12), .fixed(12), .fixed(12), .fixed(12), .fixed(16), .fixed(16), .fixed(16),
        .fixed(16), .fixed(42), .fixed(1), .fixed(2), .fixed(5), .fixed(7), .fixed(42), .fixed(16),
        .fixed(17), .fixed(25), .llvar(11), .llvar(11), .llvar(17), .llvar(28), .llvar(28), .lllvar(100),
        .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999),
        .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999),
        .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .lllvar(999), .fixed(16),
    ]

    /// Never prints field 2 (the PAN) or the track and PIN data fields.
    public var description: String {
        let shown = fields.keys.sorted().map { number -> String in
            [2, 35, 36, 45, 52, 55].contains(number) ? "\(number)=<redacted>" : "\(number)=\(fields[number]!)"
        }
        return "ISO8583(\(type); \(shown.joined(separator: ", ")))"
    }

    /// Parses one message (the bytes inside one frame).
    public static func parse(_ bytes: [UInt8]) throws(ISO8583Error) -> ISO8583Message {
        guard bytes.count <= maximumLength else { throw .tooLong(bytes.count) }
        var index = 0
        func take(_ count: Int, _ what: String) throws(ISO8583Error) -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - index >= count else { throw .truncated(what) }
            defer { index += count }
            return bytes[index..<index + count]
        }
        let typeBytes = try take(4, "message type")
        guard typeBytes.allSatisfy(isDigit) else { throw .malformed("message type", "must be four digits") }
        let type = String(decoding: typeBytes, as: UTF8.self)
        var bitmap = try hexBits(try take(16, "primary bitmap"), "primary bitmap")
        if bitmap[0] { bitmap += try hexBits(try take(16, "secondary bitmap"), "secondary bitmap") }
        var fields: [Int: String] = [:]
        for number in 2...bitmap.count where bitmap[number - 1] {
            let name = "field \(number)"
            let length: Int
            switch formats[number - 1] {
            case .fixed(let count):
                length = count
            case .llvar(let maximum), .lllvar(let maximum):
                let digits = formats[number - 1] == .llvar(maximum) ? 2 : 3
                let prefix = try take(digits, name + " length")
                guard prefix.allSatisfy(isDigit), let value = Int(String(decoding: prefix, as: UTF8.self)) else {
                    throw .malformed(name, "its length must be \(digits) digits")
                }
                guard value <= maximum else { throw .malformed(name, "is \(value) characters, at most \(maximum)") }
                length = value
            }
            let value = try take(length, name)
            guard value.allSatisfy({ (0x20...0x7E).contains($0) }) else { throw .malformed(name, "holds a byte that is not printable ASCII") }
            fields[number] = String(decoding: value, as: UTF8.self)
        }
        guard index == bytes.count else { throw .malformed("message", "has \(bytes.count - index) bytes after its last field") }
        return ISO8583Message(type: type, fields: fields)
    }

    /// The message's bytes. Fixed fields must have their exact length, variable ones at most their
    /// maximum (a precondition: Hashcart builds only responses from parsed values).
    public func encoded() -> [UInt8] {
        precondition(type.utf8.count == 4 && type.utf8.allSatisfy(Self.isDigit), "a message type is four digits")
        let secondary = fields.keys.contains { $0 > 64 }
        var bits = [Bool](repeating: false, count: secondary ? 128 : 64)
        bits[0] = secondary
        for number in fields.keys {
            precondition((2...128).contains(number), "fields are numbered 2…128")
            bits[number - 1] = true
        }
        var out = Array(type.utf8)
        for start in stride(from: 0, to: bits.count, by: 4) {
            let nibble = (0..<4).reduce(0) { $0 << 1 | (bits[start + $1] ? 1 : 0) }
            out.append(Array("0123456789ABCDEF".utf8)[nibble])
        }
        for number in fields.keys.sorted() {
            let value = Array(fields[number]!.utf8)
            switch Self.formats[number - 1] {
            case .fixed(let count):
                precondition(value.count == count, "field \(number) is \(count) characters")
            case .llvar(let maximum):
                precondition(value.count <= maximum, "field \(number) is at most \(maximum) characters")
                out += Array(zeroPadded(value.count, width: 2).utf8)
            case .lllvar(let maximum):
                precondition(value.count <= maximum, "field \(number) is at most \(maximum) characters")
                out += Array(zeroPadded(value.count, width: 3).utf8)
            }
            out += value
        }
        return out
    }

    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    static func hexBits(_ text: ArraySlice<UInt8>, _ what: String) throws(ISO8583Error) -> [Bool] {
        var bits: [Bool] = []
        for byte in text {
            let value: UInt8
            switch byte {
            case 0x30...0x39: value = byte - 0x30
            case 0x41...0x46: value = byte - 0x41 + 10
            case 0x61...0x66: value = byte - 0x61 + 10
            default: throw .malformed(what, "must be 16 hex digits")
            }
            for shift in (0..<4).reversed() { bits.append(value >> UInt8(shift) & 1 == 1) }
        }
        return bits
    }
}

/// `value` in decimal, zero-padded to `width` digits.
func zeroPadded(_ value: Int, width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// Why a card feed message was refused: the part and what is wrong, never its content.
public enum ISO8583Error: Error, Sendable, Hashable, CustomStringConvertible {
    case tooLong(Int)
    case truncated(String)
    case malformed(String, String)

    public var description: String {
        switch self {
        case .tooLong(let count): "message of \(count) bytes is longer than \(ISO8583Message.maximumLength)"
        case .truncated(let what): "message ends inside its \(what)"
        case .malformed(let what, let why): "\(what) \(why)"
        }
    }
}
