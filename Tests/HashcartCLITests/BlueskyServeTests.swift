import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HashcartConnectors
import HashcartTestSupport
import Testing

/// `hashcart serve --config hashcart.yaml` with Bluesky configured, as a real process, against
/// a Jetstream + PDS on loopback: a cardholder links by posting a code, buys by posting the
/// hashtag, the server is SIGKILLed, and the repost after the restart still makes the order.
@Suite struct BlueskyServeTests {
    static let adminToken = "bluesky-serve-admin-token-0123"
    static let alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"

    @Test(.timeLimit(.minutes(3)))
    func aPurchaseOverBlueskyThroughServe() async throws {
        let fake = FakeBluesky()
        let server = try await fake.start()
        defer { server.cancel() }
        let folder = TemporaryFolder("bluesky-serve")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        let config = folder.file("hashcart.yaml")
        try """
            # Bluesky on loopback; the app password comes from HASHCART_BLUESKY_APP_PASSWORD
            networks:
              bluesky:
                jetstream: \(fake.jetstreamURL)
                service: \(fake.serviceURL)
                official_did: \(FakeBluesky.officialDID)
                identifier: \(FakeBluesky.handle)
                rewind_seconds: 2
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let port = Int.random(in: 40_000...49_000)
        let instance = MultiInstanceTests.Instance(port: port, arguments: [
            "serve", "--data", folder.file("data"), "--config", config, "--port", String(port), "--admin-token", Self.adminToken,
            "--min-link-age", "0", "--no-webhook-delivery",
            // A reply claimed by the killed process is retried by the restarted one after this lease.
            "--claim-lease", "2",
        ], log: folder.file("serve.log"), environment: ["HASHCART_BLUESKY_APP_PASSWORD": FakeBluesky.appPassword])
        try instance.start()
        defer { instance.stop() }
        try await MultiInstanceTests.waitHealthy(instance)
        func api(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil) async throws -> [String: Any] {
            try await MultiInstanceTests.call(method, instance.base + path, token: token, body: body)
        }
        func log() -> String { (try? String(contentsOfFile: instance.log, encoding: .utf8)).map { String($0.suffix(3000)) } ?? "" }
        func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
            for _ in 0..<800 {
                if try await condition() { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("timed out waiting for \(what); log: \(log())")
            throw CancellationError()
        }
        #expect(log().contains("networks: sandbox, bluesky"), "\(log())")
        try await eventually("the Jetstream connection") { !fake.connections.withLock { $0 }.isEmpty }

        let merchant = try await api("POST", "/v1/merchants", token: Self.adminToken, body: ["name": "Amex Tees"])["id"] as! String
        let apiKey = try await api("POST", "/v1/merchants/\(merchant)/api_keys", token: Self.adminToken)["secret"] as! String
        _ = try await api("POST", "/v1/offers", token: apiKey, body: ["title": "Amex Tee", "sku": "TEE-1", "price": 2500, "hashtag": "#BuyAmexTee", "quantity": 5])
        let card = try await api("POST", "/v1/cardholders", token: Self.adminToken, body: [
            "credit_limit": 100_000, "billing_name": "Alice", "card_last4": "4242",
            "address": ["line1": "1 Main St", "city": "Albany", "state": "NY", "postal_code": "12207"],
        ])["id"] as! String
        let token = try await api("POST", "/v1/cardholders/\(card)/tokens", token: Self.adminToken)["secret"] as! String
        let code = try await api("POST", "/v1/links", token: token, body: ["network": "bluesky"])["code"] as! String

        // Alice links by posting the code on Bluesky, then buys with the hashtag.
        fake.appendPost(did: Self.alice, rkey: "3mlinkcode222", text: "Linking my card \(code)")
        try await eventually("the link") { !((try await api("GET", "/v1/links", token: token)["data"] as? [Any]) ?? []).isEmpty }
        let post = fake.appendPost(did: Self.alice, rkey: "3mpurchase222", text: "I want it #BuyAmexTee", tagFacets: ["BuyAmexTee"])
        try await eventually("the confirmation request") {
            fake.records.withLock { $0.values.contains { $0.parent == post } }
        }
        let request = try #require(fake.records.withLock { $0.values.first { $0.parent == post } })

        // The crash: SIGKILL, then a restart from the stored cursor.
        instance.kill()
        let before = fake.connections.withLock { $0.count }
        try instance.start()
        try await MultiInstanceTests.waitHealthy(instance)
        try await eventually("the reconnect") { fake.connections.withLock { $0.count } > before }
        let resumedFrom = try #require(fake.connections.withLock { $0.last } ?? nil, "the restart resumes from a stored cursor")
        #expect(resumedFrom <= fake.stream.withLock { $0.first { $0.1.contains("3mpurchase222") }!.0 })

        fake.appendRepost(did: Self.alice, rkey: "3mrepost22222", of: BlueskyStrongRef(uri: request.uri, cid: request.cid))
        try await eventually("the order") {
            ((try await api("GET", "/v1/orders", token: apiKey)["data"] as? [[String: Any]]) ?? []).count == 1
        }
        try await eventually("the \"confirmed\" reply") { fake.records.withLock { $0.values.contains { $0.text.contains("onfirmed") } } }
        // Exactly one confirmation request for the purchase, whatever the restart replayed.
        #expect(fake.records.withLock { $0.values.filter { $0.text.contains("Repost this within") }.count } == 1)
        // Under Alice's post: the request and the "confirmed" reply, nothing twice.
        #expect(fake.records.withLock { $0.values.filter { $0.parent == post }.count } == 2)
        instance.stop()
        let key = try String(contentsOfFile: folder.file("data/encryption.key"), encoding: .utf8)
        let check = try hashcart(["check", "--data", folder.file("data"), "--encryption-key", key])
        #expect(check.status == 0, "\(check)")
    }
}
