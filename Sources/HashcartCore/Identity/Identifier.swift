/// A typed string identifier: a `MerchantID` can never be passed where an `OfferID` is expected.
///
/// Identifiers are bounded (``maximumLength``) and printable ASCII so they are safe as keys,
/// in URLs and in logs.
public struct Identifier<Kind>: Sendable, Hashable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral, RawRepresentable
{
    public static var maximumLength: Int { 200 }
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    /// Accepts an identifier from outside (an API path, a CLI argument) only if it is well formed.
    public init?(validating text: String) {
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength,
            text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        self.rawValue = text
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

public enum MerchantKind {}
public enum OfferKind {}
public enum CardAccountKind {}
public enum LinkKind {}
public enum PurchaseKind {}
public enum OrderKind {}

public typealias MerchantID = Identifier<MerchantKind>
public typealias OfferID = Identifier<OfferKind>
public typealias CardAccountID = Identifier<CardAccountKind>
public typealias LinkID = Identifier<LinkKind>
public typealias PurchaseID = Identifier<PurchaseKind>
public typealias OrderID = Identifier<OrderKind>

/// Where new identifiers for operator-created objects come from. Injected so that tests and the
/// simulator are deterministic; ids of things caused by events are derived from the cause instead.
public protocol IDGenerator: Sendable {
    /// A new identifier with the given prefix, e.g. `mer_…`.
    func next(prefix: String) -> String
}
