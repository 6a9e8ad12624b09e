import Foundation
import HashcartTestSupport
import Testing

/// `serve --tax-table FILE`: a later table, read at start, prices the purchases asked for from its
/// effective day on (here, yesterday: in effect at once).
@Suite struct TaxTableServeTests {
    static let adminToken = "tax-table-admin-token-0123"

    @Test(.timeLimit(.minutes(3)))
    func aLaterTableInEffectPricesThePurchase() async throws {
        let folder = TemporaryFolder("tax-serve")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        let yesterday = String(ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400)).prefix(10))
        let bundled = try String(contentsOfFile: ArgumentErrorCLITests.bundledTaxTable, encoding: .utf8)
        let later = bundled.replacingOccurrences(of: "version,2025-01-01.2", with: "version,2026-test\neffective,\(yesterday)")
            .replacingOccurrences(of: "\nNY,,40000\n", with: "\nNY,,45000\n")
        let path = folder.file("later.csv")
        try later.write(toFile: path, atomically: true, encoding: .utf8)

        let instance = MultiInstanceTests.Instance(port: 0, arguments: [
            "serve", "--data", folder.file("data"), "--port", "0", "--admin-token", Self.adminToken, "--min-link-age", "0",
            "--no-webhook-delivery", "--tax-table", path,
        ], log: folder.file("serve.log"), environment: [:])
        try await instance.start()
        defer { instance.stop() }
        try await MultiInstanceTests.waitHealthy(instance)
        func api(_ method: String, _ route: String, _ token: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
            try await MultiInstanceTests.call(method, instance.base + route, token: token, body: body)
        }
        let merchant = try await api("POST", "/v1/merchants", Self.adminToken, ["name": "Tees"])["id"] as! String
        let key = try await api("POST", "/v1/merchants/\(merchant)/api_keys", Self.adminToken)["secret"] as! String
        _ = try await api("POST", "/v1/offers", key, ["title": "Tee", "sku": "T", "price": 10_000, "hashtag": "#BuyTee", "quantity": 5])
        let card = try await api("POST", "/v1/cardholders", Self.adminToken, [
            "credit_limit": 100_000, "billing_name": "Jane Roe", "card_last4": "4242",
            "address": ["line1": "1 Main St", "city": "Albany", "state": "NY", "postal_code": "12207"],
        ])["id"] as! String
        let token = try await api("POST", "/v1/cardholders/\(card)/tokens", Self.adminToken)["secret"] as! String
        let code = try await api("POST", "/v1/links", token, ["network": "sandbox"])["code"] as! String
        let account = try await api("POST", "/sandbox/accounts", Self.adminToken, ["handle": "jane"])
        let accountToken = account["token"] as! String, accountID = account["id"] as! String
        _ = try await api("POST", "/sandbox/posts", accountToken, ["author_id": accountID, "text": "Linking \(code)"])
        var purchases: [[String: Any]] = []
        for attempt in 0..<400 where purchases.isEmpty {
            if attempt % 20 == 1, ((try await api("GET", "/v1/links", token)["data"] as? [Any]) ?? []).count == 1 {
                _ = try await api("POST", "/sandbox/posts", accountToken, ["author_id": accountID, "text": "Mine #BuyTee"])
            }
            try await Task.sleep(for: .milliseconds(50))
            purchases = (try await api("GET", "/v1/purchases", token)["data"] as? [[String: Any]]) ?? []
        }
        let purchase = try #require(purchases.first)
        #expect(purchase["tax"] as? Int == 450, "4.5 % of $100.00 under the later table (the bundled one says 4 %): \(purchase)")
        let log = try String(contentsOfFile: folder.file("serve.log"), encoding: .utf8)
        #expect(log.contains("tax tables: 2025-01-01.2 (bundled); 2026-test from \(yesterday)"), "\(log.suffix(2000))")
    }
}
