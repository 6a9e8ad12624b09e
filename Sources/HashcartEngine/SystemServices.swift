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
    public static func load() throws -> TaxRateTable {
        guard let url = Bundle.module.url(forResource: "us-sales-tax-rates", withExtension: "csv") else {
            throw EngineError.notFound("the bundled tax table us-sales-tax-rates.csv")
        }
        return try TaxRateTable.parse(String(contentsOf: url, encoding: .utf8))
    }
}
