import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `hashcart serve --config hashcart.yaml` as a real process, for each network's end-to-end test:
/// the process, its HTTP API, a shop to buy from, and a patient wait for what happens on the wire.
final class NetworkServe {
    static let adminToken = "network-serve-admin-token-0123"

    let folder: TemporaryFolder
    let instance: MultiInstanceTests.Instance

    /// What a buyer needs: the merchant's API key (to see orders), the cardholder's token and the
    /// code to post on the network to link the card.
    struct Shop {
        var apiKey: String
        var cardholderToken: String
        var linkCode: String
    }

    init(label: String, config: String, environment: [String: String], arguments: [String] = []) throws {
        folder = TemporaryFolder(label)
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        let path = folder.file("hashcart.yaml")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        // Port 0: the server picks a free one and prints it (a fixed random one can collide with
        // the ephemeral ports of the loopback fakes).
        instance = MultiInstanceTests.Instance(port: 0, arguments: [
            "serve", "--data", folder.file("data"), "--config", path, "--port", "0", "--admin-token", Self.adminToken,
            "--min-link-age", "0", "--no-webhook-delivery",
        ] + arguments, log: folder.file("serve.log"), environment: environment)
    }

    func start() async throws {
        instance.port = 0
        try await instance.start()
        try await MultiInstanceTests.waitHealthy(instance)
    }

    func stop() { instance.stop() }

    var base: String { instance.base }

    var log: String { (try? String(contentsOfFile: instance.log, encoding: .utf8)).map { String($0.suffix(3000)) } ?? "" }

    @discardableResult
    func api(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil, expect: Range<Int> = 200..<300) async throws -> [String: Any] {
        // Real networks run in live mode: the operator names it (merchant and cardholder credentials say it themselves).
        try await MultiInstanceTests.call(method, instance.base + path, token: token, body: body, mode: "live", expect: expect)
    }

    /// Waits up to 40 s for `condition`; a timeout is an issue carrying the server's log.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<800 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what); log: \(log)")
        throw CancellationError()
    }

    /// A merchant selling `#BuyAmexTee` (5 units) and a cardholder with a link code for `network`.
    func openShop(network: String) async throws -> Shop {
        let merchant = try await api("POST", "/v1/merchants", token: Self.adminToken, body: ["name": "Amex Tees"])["id"] as! String
        let apiKey = try await api("POST", "/v1/merchants/\(merchant)/api_keys", token: Self.adminToken)["secret"] as! String
        try await api("POST", "/v1/offers", token: apiKey, body: ["title": "Amex Tee", "sku": "TEE-1", "price": 2500, "hashtag": "#BuyAmexTee", "quantity": 5])
        let card = try await api("POST", "/v1/cardholders", token: Self.adminToken, body: [
            "credit_limit": 100_000, "billing_name": "Jane Roe", "card_last4": "4242",
            "address": ["line1": "1 Main St", "city": "Albany", "state": "NY", "postal_code": "12207"],
        ])["id"] as! String
        let token = try await api("POST", "/v1/cardholders/\(card)/tokens", token: Self.adminToken)["secret"] as! String
        let code = try await api("POST", "/v1/links", token: token, body: ["network": network])["code"] as! String
        return Shop(apiKey: apiKey, cardholderToken: token, linkCode: code)
    }

    func isLinked(_ shop: Shop) async throws -> Bool {
        !((try await api("GET", "/v1/links", token: shop.cardholderToken)["data"] as? [Any]) ?? []).isEmpty
    }

    func orderCount(_ shop: Shop) async throws -> Int {
        ((try await api("GET", "/v1/orders", token: shop.apiKey)["data"] as? [[String: Any]]) ?? []).count
    }

    /// Stops the server and runs `hashcart check` on its store.
    func stopAndCheck() async throws -> RunResult {
        instance.stop()
        let key = try String(contentsOfFile: folder.file("data/encryption.key"), encoding: .utf8)
        return try await hashcart(["check", "--data", folder.file("data"), "--encryption-key", key])
    }
}
