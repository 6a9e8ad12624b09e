/// Short per-order references for public posts, e.g. `K7Q2MX`: six characters of Crockford
/// base32 (no I, L, O, U), derived from the purchase id so the same purchase always gets the same
/// one. The store makes them unique by asking for the next `attempt` on a collision.
public enum OrderReference {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    public static let length = 6

    public static func make(for purchaseID: PurchaseID, attempt: Int = 0) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64
        for byte in purchaseID.rawValue.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        for byte in String(attempt).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        var reference = ""
        for _ in 0..<length {
            reference.append(alphabet[Int(hash & 31)])
            hash >>= 5
        }
        return reference
    }
}
