/// A merchant's offers (its own only): made, listed, paused, resumed, ended, and their analytics,
/// funnel and charts.
public protocol OfferService: Sendable {
    func createOffer(merchantID: String, _ body: CreateOfferBody) async throws -> OfferView
    func offers(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<OfferView>
    /// Another merchant's offer is "not found".
    func offer(merchantID: String, id: String) async throws -> OfferView
    /// Pauses (`paused`), resumes (`published`) or ends (`ended`) one of the merchant's offers.
    func setOfferLifecycle(merchantID: String, id: String, to lifecycle: String) async throws -> OfferView
    func analytics(merchantID: String, offerID: String) async throws -> AnalyticsView
    /// One of the merchant's offers' funnel counters (totals only: what a page shows at once).
    func offerFunnel(merchantID: String, offerID: String) async throws -> [String: Int64]
    /// The merchant's funnel across its offers over `[from, to)` (unix seconds; text as given, checked here).
    func merchantAnalytics(merchantID: String, from: String?, to: String?) async throws -> MerchantAnalyticsView
    /// The merchant's funnel (or one offer's) per bucket over `[from, to)` (unix seconds, whole
    /// minutes), `buckets` of them at most: what the dashboard's charts draw.
    func funnelChart(merchantID: String, offerID: String?, from: Int64, to: Int64, buckets: Int, metrics: [String]) async throws -> FunnelChartView
}
