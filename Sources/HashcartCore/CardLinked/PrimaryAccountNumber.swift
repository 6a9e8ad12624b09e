/// A card number (PAN) as it arrives from outside — `POST /v1/cardholders`, a card feed message —
/// checked and held only long enough to take its last four digits and its fingerprint.
///
/// Hashcart never stores a PAN: this type is not `Codable` and does not print its digits, so it
/// cannot end up in a row, a log line or a JSON body by accident.
public struct PrimaryAccountNumber: Sendable, Hashable, CustomStringConvertible {
    /// The digits, ASCII. Read only to fingerprint.
    public let digits: String

    /// PANs are 12 to 19 digits (ISO/IEC 7812).
    public static let lengths = 12...19

    /// Accepts 12–19 ASCII digits passing the Luhn check. Spaces and hyphens between groups, as
    /// printed on cards, are removed first; anything else is refused.
    public init(_ text: String) throws(ValidationError) {
        guard text.utf8.count <= 32 else { throw ValidationError(field: "pan", message: "must be 12 to 19 digits") }
        var digits: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39: digits.append(byte)
            case 0x20, 0x2D: continue
            default: throw ValidationError(field: "pan", message: "must hold only digits (spaces or hyphens between groups allowed)")
            }
        }
        guard Self.lengths.contains(digits.count) else { throw ValidationError(field: "pan", message: "must be 12 to 19 digits") }
        guard Self.passesLuhn(digits) else { throw ValidationError(field: "pan", message: "fails the Luhn check digit") }
        self.digits = String(decoding: digits, as: UTF8.self)
    }

    /// The last four digits, which the cardholder sees on statements and receipts.
    public var last4: String { String(digits.suffix(4)) }

    /// Never the digits.
    public var description: String { "PAN ending \(last4)" }

    /// The Luhn (mod 10) check over ASCII digits, check digit last.
    static func passesLuhn(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (offset, byte) in digits.reversed().enumerated() {
            var value = Int(byte - 0x30)
            if offset % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }
}

/// What Hashcart keeps of a PAN to recognize the card again: an HMAC-SHA256 under the store's
/// key, as 64 lowercase hex digits. Without the key it reveals nothing, and the same card in
/// another store (live and test mode) has another fingerprint.
public struct CardFingerprint: Sendable, Hashable, Codable, CustomStringConvertible {
    public let hex: String

    /// Accepts exactly 64 lowercase hex digits (a stored or computed fingerprint).
    public init?(hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        self.hex = hex
    }

    public var description: String { "fp_" + hex.prefix(12) }
}
