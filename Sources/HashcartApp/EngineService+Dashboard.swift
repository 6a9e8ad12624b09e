import HashcartCore
import HashcartServer
import HashcartStore

extension EngineService {
    public func apiKeys(merchantID: String, limit: Int) async throws -> ListView<SecretView> {
        try await mapped {
            let keys = try await store.credentials(kind: .merchantAPIKey, ownerID: merchantID, limit: limit + 1)
            return ListView(data: keys.prefix(limit).map {
                SecretView(object: "api_key", id: $0.id, owner: merchantID, secret: nil, created: $0.createdAt.millisecondsSinceEpoch / 1000,
                           revoked: $0.revokedAt != nil)
            }, hasMore: keys.count > limit)
        }
    }

    public var networkNames: [String] { engines.keys.map(\.rawValue).sorted() }

    public func auditLog(merchantID: String?, limit: Int, before: Int64?) async throws -> [AuditLineView] {
        try await mapped {
            let merchant = merchantID.map { MerchantID($0) }
            return try await store.read { try $0.auditLog(merchantID: merchant, limit: min(max(limit, 1), 500), before: before) }.map { line in
                AuditLineView(number: line.seq, at: line.entry.at.millisecondsSinceEpoch / 1000, actor: line.entry.actor, address: line.entry.address,
                              action: line.entry.action, object: line.entry.objectID, merchant: line.entry.merchantID?.rawValue, detail: line.entry.detail)
            }
        }
    }

    public func offerFunnel(merchantID: String, offerID: String) async throws -> [String: Int64] {
        try await mapped {
            let offer = try await ownOffer(merchantID: merchantID, id: offerID)
            return try await store.read { try $0.funnel(offer: offer.id) }
        }
    }

    public func funnelChart(merchantID: String, offerID: String?, from: Int64, to: Int64, buckets: Int, metrics: [String]) async throws -> FunnelChartView {
        try await mapped {
            guard from < to, to - from <= Self.maximumAnalyticsRangeSeconds, (1...500).contains(buckets), (1...16).contains(metrics.count) else {
                throw APIError.invalid("A chart covers up to 366 days in 1 to 500 buckets.", param: "range")
            }
            let offer = try await offerID.asyncMap { try await ownOffer(merchantID: merchantID, id: $0).id }
            let (fromMinute, toMinute) = (from / 60, (to + 59) / 60)
            // Whole minutes per bucket, enough buckets to cover the range.
            let bucketMinutes = max(1, (toMinute - fromMinute + Int64(buckets) - 1) / Int64(buckets))
            let count = Int((toMinute - fromMinute + bucketMinutes - 1) / bucketMinutes)
            let merchant = MerchantID(merchantID)
            let rows = try await store.read { reader in
                try reader.funnelBuckets(merchantID: merchant, offer: offer, fromMinute: fromMinute, toMinute: toMinute,
                                         bucketMinutes: bucketMinutes, metrics: metrics)
            }
            var values = Dictionary(uniqueKeysWithValues: metrics.map { ($0, [Int64](repeating: 0, count: count)) })
            for row in rows where row.bucket >= 0 && row.bucket < count { values[row.metric]?[Int(row.bucket)] = row.value }
            return FunnelChartView(from: fromMinute * 60, to: toMinute * 60, bucketSeconds: bucketMinutes * 60, values: values)
        }
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
