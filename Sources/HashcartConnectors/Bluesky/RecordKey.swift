import Crypto
import Foundation

/// Bluesky record keys for the official account's replies.
///
/// `app.bsky.feed.post` records are keyed by TID (13 characters of base32-sortable: 53 bits of
/// microseconds, 10 bits of clock id). Hashcart derives the TID from the reply's idempotency key
/// (SHA-256), so a retry of the same reply names the same record and the PDS cannot create it
/// twice. The derived time lies in 2024–2025: a valid TID, never in the future.
public enum RecordKey {
    static let alphabet = Array("234567abcdefghijklmnopqrstuvwxyz".utf8)
    static let epochMicroseconds: UInt64 = 1_704_067_200_000_000  // 2024-01-01T00:00:00Z

    public static func tid(forIdempotencyKey key: String) -> String {
        let digest = Array(SHA256.hash(data: Data(key.utf8)))
        var high: UInt64 = 0
        for byte in digest[0..<8] { high = high << 8 | UInt64(byte) }
        let microseconds = epochMicroseconds + high % (1 << 45)  // ~1.1 years
        let clockID = UInt64(digest[8]) << 2 | UInt64(digest[9] & 0x03)
        return encode(microseconds << 10 | clockID)
    }

    /// A 64-bit TID value (top bit clear) as 13 base32-sortable characters.
    static func encode(_ value: UInt64) -> String {
        precondition(value >> 63 == 0, "a TID's top bit is zero")
        var chars = [UInt8](repeating: 0, count: 13)
        var rest = value
        for index in stride(from: 12, through: 0, by: -1) {
            chars[index] = alphabet[Int(rest & 0x1F)]
            rest >>= 5
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
