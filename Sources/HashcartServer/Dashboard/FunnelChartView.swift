/// One line of the audit log as a page shows it.
public struct AuditLineView: Sendable, Hashable {
    public var number: Int64
    public var at: Int64
    public var actor: String
    public var address: String
    public var action: String
    public var object: String
    public var merchant: String?
    public var detail: String

    public init(number: Int64, at: Int64, actor: String, address: String, action: String, object: String, merchant: String?, detail: String) {
        self.number = number
        self.at = at
        self.actor = actor
        self.address = address
        self.action = action
        self.object = object
        self.merchant = merchant
        self.detail = detail
    }
}

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
