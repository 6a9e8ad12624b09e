/// A merchant's funnel counters per time bucket, for the dashboard's charts: each metric's values
/// in bucket order (`from + i × bucketSeconds`), zeros where nothing happened.
public struct FunnelChartView: Sendable, Hashable {
    public var from: Int64
    public var to: Int64
    public var bucketSeconds: Int64
    public var values: [String: [Int64]]

    public init(from: Int64, to: Int64, bucketSeconds: Int64, values: [String: [Int64]]) {
        self.from = from
        self.to = to
        self.bucketSeconds = bucketSeconds
        self.values = values
    }

    public var bucketCount: Int { values.values.first?.count ?? 0 }
}
