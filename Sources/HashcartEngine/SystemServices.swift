import Foundation
import HashcartCore

/// The real clock, for `hashcart serve`.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Instant {
        Instant(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

/// Unguessable ids for production: 16 characters of Crockford base32 from the system's CSPRNG.
public struct RandomIDGenerator: IDGenerator {
    public init() {}
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    public func next(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let body = String((0..<16).map { _ in Self.alphabet[Int(generator.next() % 32)] })
        return "\(prefix)_\(body)"
    }
}

/// The US sales-tax table shipped with Hashcart (`Resources/us-sales-tax-rates.csv`).
public enum BundledTaxTable {
    /// The table in `Resources/us-sales-tax-rates.csv`, compiled into the binary.
    public static func load() throws -> TaxRateTable {
        try TaxRateTable.parse(EmbeddedTaxTable.text)
    }

    /// The table's source text, as compiled in.
    public static var csv: String { EmbeddedTaxTable.text }
}
