/// How long cardholders took to confirm, kept as funnel counters per bucket
/// (`confirm_seconds.le_10` … `confirm_seconds.le_900`, `confirm_seconds.over_900`): the
/// distribution a dashboard draws without reading every purchase, for any number of orders.
public enum ConfirmationTime {
    /// The buckets' upper bounds, in seconds (inclusive); a last bucket holds anything longer.
    public static let boundsSeconds: [Int64] = [10, 30, 60, 120, 300, 600, 900]
    public static let metricPrefix = "confirm_seconds."

    /// Every bucket's counter name, shortest first.
    public static let metrics: [String] = boundsSeconds.map { "\(metricPrefix)le_\($0)" } + ["\(metricPrefix)over_\(boundsSeconds.last!)"]

    /// The counter of a confirmation that took `milliseconds` from the purchase post.
    public static func metric(milliseconds: Int64) -> String {
        let seconds = (max(0, milliseconds) + 999) / 1000
        guard let bound = boundsSeconds.first(where: { seconds <= $0 }) else { return metrics.last! }
        return "\(metricPrefix)le_\(bound)"
    }

    /// How a bucket reads: `≤ 10 s`, `≤ 2 min`, `> 15 min`.
    public static func label(_ metric: String) -> String {
        func span(_ seconds: Int64) -> String { seconds < 120 ? "\(seconds) s" : "\(seconds / 60) min" }
        if metric == metrics.last { return "> \(span(boundsSeconds.last!))" }
        guard let bound = Int64(metric.dropFirst(metricPrefix.count + 3)) else { return metric }
        return "≤ \(span(bound))"
    }

    /// The bucket within which at least `percent` % of the counted confirmations fall, or nil
    /// when none were counted.
    public static func percentileBucket(_ percent: Int64, of counts: [String: Int64]) -> String? {
        let total = metrics.reduce(0) { $0 + (counts[$1] ?? 0) }
        guard total > 0 else { return nil }
        var running: Int64 = 0
        for metric in metrics {
            running += counts[metric] ?? 0
            if running * 100 >= total * percent { return metric }
        }
        return metrics.last
    }
}
