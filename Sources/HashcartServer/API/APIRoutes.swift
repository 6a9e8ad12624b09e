import HTTPTypes

/// Every route of the API and the methods it answers: the one table behind 405 responses and
/// the `Allow` header, checked against the router and `openapi.yaml` by the tests.
public enum APIRoutes {
    /// Path patterns (`{name}` matches one segment) and their methods.
    public static let table: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/healthz", [.get]), ("/readyz", [.get]), ("/metrics", [.get]), ("/openapi.yaml", [.get]),
        ("/v1/merchants", [.get, .post]), ("/v1/merchants/{id}", [.get]), ("/v1/merchants/{id}/close", [.post]),
        ("/v1/dashboard_users", [.post]), ("/v1/cardholders", [.get, .post]), ("/v1/cardholders/{id}", [.get, .post]),
        ("/v1/cardholders/{id}/close", [.post]), ("/v1/ledger/check", [.get]),
        ("/v1/merchants/{id}/api_keys", [.get, .post]), ("/v1/merchants/{id}/api_keys/{key}", [.delete]),
        ("/v1/cardholders/{id}/tokens", [.post]), ("/v1/card_transactions", [.post]),
        ("/v1/merchants/{id}/payout_account", [.post]), ("/v1/reports/sales_tax", [.get]), ("/v1/settlements", [.get]),
        ("/v1/settlements/{id}", [.get]), ("/v1/kill_switch", [.get, .post]), ("/v1/risk", [.get, .post]), ("/v1/offers/{id}/kill_switch", [.post]), ("/v1/offers/{id}/risk", [.post]),
        ("/v1/offers", [.get, .post]), ("/v1/offers/{id}", [.get]),
        ("/v1/offers/{id}/pause", [.post]), ("/v1/offers/{id}/resume", [.post]), ("/v1/offers/{id}/end", [.post]),
        ("/v1/offers/{id}/analytics", [.get]), ("/v1/analytics", [.get]),
        ("/v1/orders", [.get]), ("/v1/orders/{id}", [.get]),
        ("/v1/orders/{id}/ship", [.post]), ("/v1/orders/{id}/cancel", [.post]), ("/v1/orders/{id}/refunds", [.post]),
        ("/v1/webhook_endpoints", [.get, .post]), ("/v1/webhook_endpoints/{id}/disable", [.post]),
        ("/v1/webhook_endpoints/{id}/enable", [.post]), ("/v1/webhook_endpoints/{id}/rotate_secret", [.post]),
        ("/v1/webhook_endpoints/{id}/test", [.post]), ("/v1/webhook_endpoints/{id}/deliveries", [.get]), ("/v1/events", [.get]), ("/v1/events/{id}/redeliver", [.post]),
        ("/v1/links", [.get, .post]), ("/v1/links/oauth", [.post]), ("/v1/links/{id}", [.delete]),
        ("/v1/purchases", [.get]), ("/v1/purchases/{id}/cancel", [.post]), ("/v1/notifications", [.get]),
        ("/v1/statement_credits", [.get]), ("/v1/loaded_offers", [.get]),
        ("/webhooks/{network}", [.get, .post]), ("/oauth/{network}/callback", [.get]),
        ("/sandbox/accounts", [.post]), ("/sandbox/posts", [.get, .post]),
        ("/sandbox/posts/{id}/reposts", [.post]), ("/sandbox/posts/{id}", [.delete]),
    ]

    /// The methods `path` answers, or nil for a path the API does not have. As the router does, a
    /// route written out (`/v1/links/oauth`) wins over one with a parameter (`/v1/links/{id}`).
    public static func methods(forPath path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var found: [HTTPRequest.Method] = []
        var bestLiterals = -1
        for route in table {
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard pattern.count == segments.count,
                zip(pattern, segments).allSatisfy({ $0.0.hasPrefix("{") ? !$0.1.isEmpty : $0.0 == $0.1 })
            else { continue }
            let literals = pattern.filter { !$0.hasPrefix("{") }.count
            if literals > bestLiterals { (found, bestLiterals) = ([], literals) }
            guard literals == bestLiterals else { continue }
            for method in route.methods where !found.contains(method) { found.append(method) }
        }
        return bestLiterals >= 0 ? found : nil
    }
}
