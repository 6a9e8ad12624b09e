/// An offer's sales from its funnel counters, in minor units, tax included: `gross` (every order
/// as made: revenue + tax), `voided` (orders cancelled before capture: the hold released, nothing
/// charged), `refunded` (every refund, partial or on cancelling a captured order), and `net`, what
/// the merchant keeps. The counters are per minute, so the same sums hold over any range.
public struct NetSales: Sendable, Hashable {
    public var gross: Int64
    public var voided: Int64
    public var refunded: Int64
    public var net: Int64 { gross - voided - refunded }

    public init(totals: [String: Int64]) {
        func value(_ metric: FunnelMetric) -> Int64 { totals[metric.rawValue] ?? 0 }
        gross = value(.revenue) + value(.tax)
        voided = value(.salesVoided)
        refunded = value(.salesRefunded)
    }

    /// As the API shows it.
    public var dictionary: [String: Int64] { ["gross": gross, "voided": voided, "refunded": refunded, "net": net] }
}
