import Foundation

/// Secrets the HTTP layer and its service make and compare: random values from the system's
/// CSPRNG, and comparisons whose time depends only on the lengths compared (never on where two
/// secrets first differ). One place for both, so no copy drifts.
public enum SecretText {
    /// `count` random bytes as lower-case hex (`2 × count` characters).
    public static func randomHex(bytes count: Int) -> String {
        precondition((1...256).contains(count), "secrets are bounded")
        let digits = Array("0123456789abcdef".utf8)
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for _ in 0..<count {
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `count` random bytes, base64url without padding.
    public static func randomBase64URL(bytes count: Int) -> String {
        precondition((1...256).contains(count), "secrets are bounded")
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether two byte strings are equal, in time that depends only on their lengths.
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Whether two secrets are equal (as UTF-8), in time that depends only on their lengths.
    public static func equal(_ a: String, _ b: String) -> Bool {
        equal(Array(a.utf8), Array(b.utf8))
    }
}
