/// Short per-order references for public posts, e.g. `K7Q2MX`: six characters of Crockford
/// base32 (no I, L, O, U), derived from the purchase id so the same purchase always gets the same
/// one. The store makes them unique by asking for the next `attempt` on a collision.
public enum OrderReference {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    public static let length = 6

    public static func make(for purchaseID: PurchaseID, attempt: Int = 0) -> String {
        var hasher = FNV1a()
        hasher.combine(purchaseID.rawValue)
        hasher.combine(String(attempt))
        var hash = hasher.value
        var reference = ""
        for _ in 0..<length {
            reference.append(alphabet[Int(hash & 31)])
            hash >>= 5
        }
        return reference
    }
}
