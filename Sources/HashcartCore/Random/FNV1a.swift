/// FNV-1a, 64 bits: a small, stable, non-cryptographic hash for deterministic derivations
/// (order references, retry jitter). Stable across processes and releases, unlike `Hasher`.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    public mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte) }
    }

    public static func hash(_ text: String) -> UInt64 {
        var hasher = FNV1a()
        hasher.combine(text)
        return hasher.value
    }
}
