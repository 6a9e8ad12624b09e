import Crypto
import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import HashcartTestSupport
import Testing

/// How a merchant verifies a delivery (the README's snippet, in Swift).
/// Any `v1` may match: after a rotation the header carries one per secret still signing.
func verify(signature: String, body: Data, secret: String) -> Bool {
    let parts = signature.split(separator: ",").compactMap { part -> (String, String)? in
        let pair = part.split(separator: "=", maxSplits: 1)
        return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
    }
    guard let t = parts.first(where: { $0.0 == "t" })?.1 else { return false }
    var signed = Data("\(t).".utf8)
    signed.append(body)
    let expected = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    return parts.contains { $0.0 == "v1" && $0.1 == expected }
}

/// Runs scripts/verify_webhook.py (the snippet in docs/WEBHOOKS.md) on a delivery; its exit status.
func runVerifySnippet(secret: String, signature: String, body: Data) async throws -> Int32 {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let bodyFile = NSTemporaryDirectory() + "hashcart-webhook-" + UUID().uuidString
    try body.write(to: URL(fileURLWithPath: bodyFile))
    defer { try? FileManager.default.removeItem(atPath: bodyFile) }
    let timestamp = signature.split(separator: ",").first { $0.hasPrefix("t=") }.map { String($0.dropFirst(2)) } ?? "0"
    let run = try await ChildProcess.python([root.appendingPathComponent("scripts/verify_webhook.py").path, secret, signature, bodyFile, "--now", timestamp])
    return run.status
}

@Suite(.onEveryBackend) struct WebhookTests {
    @Test func signedDeliveriesSurviveAReceiverOutage() async throws {
        let receiver = WebhookReceiver()
        let receiverTask = try await receiver.start()
        defer { receiverTask.cancel() }
        let world = try await ServerWorld()
        let deliverer = WebhookDeliverer(service: world.service, logger: Logger(label: "test"))
        let merchant = try await world.engine.createMerchant(name: "Gadgets")
        let key = try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret!
        let secret = try await world.app.test(.live) { client in
            try await client.execute(uri: "/v1/webhook_endpoints", method: .post, headers: bearer(key), body: body(#"{"url":"\#(receiver.url)"}"#)) {
                #expect($0.status == .created)
                let secret = try #require(try object($0)["secret"] as? String)
                #expect(secret.hasPrefix("whsec_"))
                return secret
            }
        }
        try await world.app.test(.live) { client in
            for url in ["ftp://example.com/x", "not a url", "http://user:pw@example.com/", "http:///nohost"] {
                try await client.execute(uri: "/v1/webhook_endpoints", method: .post, headers: bearer(key), body: body(#"{"url":"\#(url)"}"#)) {
                    try expectError($0, .badRequest, code: "parameter_invalid", param: "url")
                }
            }
        }

        // A purchase: order.created is written with it.
        _ = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "KFHD", price: .usd(14999),
                                                    hashtag: "#BuyKindleFireHD", quantity: 5))
        let card = try await world.engine.createCardAccount(
            creditLimit: .usd(500_000),
            billing: BillingAddress(name: "Ada Lovelace", line1: "65 Broadway", city: "New York", state: .NY, postalCode: "10006"), cardLast4: "4242")
        let alice = try world.sandbox.createAccount(handle: "alice")
        try await world.engine.link(cardAccountID: card.id, identity: SocialIdentity(network: .sandbox, userID: alice.id, handle: "@alice"))
        let post = try world.sandbox.post(authorID: alice.id, text: "#BuyKindleFireHD")
        try await world.settle()
        let reply = try #require(try world.sandbox.posts(authorID: world.sandbox.official.id, inReplyTo: post.id).first)
        try world.sandbox.repost(authorID: alice.id, postID: reply.id)
        try await world.settle()

        // The receiver is down (500): the delivery waits and retries with backoff.
        receiver.status.withLock { $0 = .internalServerError }
        #expect(try await deliverer.round() == 1)
        #expect(receiver.received.withLock { $0.count } == 1)
        #expect(try await deliverer.round() == 0)  // not due yet
        try await world.app.test(.live) { client in
            try await client.execute(uri: "/v1/events", method: .get, headers: bearer(key)) { response in
                let events = try #require(try object(response)["data"] as? [[String: Any]])
                #expect(events.first?["type"] as? String == "order.created" && events.first?["delivery"] as? String == "pending")
            }
        }

        // Up again, and past the backoff: delivered, signed, deduplicable by event id.
        receiver.status.withLock { $0 = .ok }
        world.clock.advance(seconds: 60)
        #expect(try await deliverer.round() == 1)
        let deliveries = receiver.received.withLock { $0 }
        #expect(deliveries.count == 2 && Set(deliveries.map(\.eventID)).count == 1)
        let last = try #require(deliveries.last)
        #expect(verify(signature: last.signature, body: last.body, secret: secret))
        #expect(!verify(signature: last.signature, body: last.body + Data(" ".utf8), secret: secret))
        let payload = try #require(try JSONSerialization.jsonObject(with: last.body) as? [String: Any])
        #expect(payload["type"] as? String == "order.created" && payload["id"] as? String == last.eventID)
        let order = try #require((payload["data"] as? [String: Any])?["object"] as? [String: Any])
        #expect(order["total"] as? Int == 15599)
        let shipping = try #require(order["shipping"] as? [String: Any])
        #expect(shipping["name"] as? String == "Ada Lovelace" && shipping["postal_code"] as? String == "10006")
        #expect(String(decoding: last.body, as: UTF8.self).contains("4242") == false)  // nothing else about the card

        // The documented Python snippet verifies the real delivery, and refuses a tampered one.
        #expect(try await runVerifySnippet(secret: secret, signature: last.signature, body: last.body) == 0)
        #expect(try await runVerifySnippet(secret: secret, signature: last.signature, body: last.body + Data("x".utf8)) == 1)
        #expect(try await runVerifySnippet(secret: "whsec_wrong", signature: last.signature, body: last.body) == 1)

        // The merchant can ask for it again.
        try await world.app.test(.live) { client in
            try await client.execute(uri: "/v1/events/\(last.eventID)/redeliver", method: .post, headers: bearer(key)) {
                let event = try object($0)
                #expect(event["delivery"] as? String == "pending")
            }
            try await client.execute(uri: "/v1/events/evt_nope/redeliver", method: .post, headers: bearer(key)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
        }
        #expect(try await deliverer.round() == 1)
        #expect(receiver.received.withLock { $0.count } == 3)
    }

    /// A delivery pending when the process stops is delivered by the next process.
    @Test func pendingDeliveriesSurviveARestart() async throws {
        let receiver = WebhookReceiver()
        let receiverTask = try await receiver.start()
        defer { receiverTask.cancel() }
        let world = try await ServerWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets")
        _ = try await world.service.createWebhookEndpoint(merchantID: merchant.id.rawValue, CreateWebhookEndpointBody(url: receiver.url))
        let offer = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Thing", sku: "T", price: .usd(1000),
                                                            hashtag: "#BuyThing", quantity: 5))
        _ = try await world.engine.setLifecycle(of: offer.id, to: .ended)  // offer.ended for the merchant
        receiver.status.withLock { $0 = .serviceUnavailable }
        #expect(try await WebhookDeliverer(service: world.service, logger: Logger(label: "test")).round() == 1)

        let service = try await world.restarted()
        receiver.status.withLock { $0 = .ok }
        world.clock.advance(seconds: 60)
        #expect(try await WebhookDeliverer(service: service, logger: Logger(label: "test")).round() == 1)
        let received = receiver.received.withLock { $0 }
        #expect(received.count == 2 && Set(received.map(\.eventID)) == ["evt_offer.ended_\(offer.id)"])
        #expect(try await WebhookDeliverer(service: service, logger: Logger(label: "test")).round() == 0)  // delivered: done
    }

    /// A merchant cannot make Hashcart call into the issuer's own network.
    @Test func privateWebhookHostsAreRefused() async throws {
        let world = try await ServerWorld()
        let strict = EngineService(engine: world.engine, store: world.store, sandbox: world.sandbox,
                                   adminTokenHash: EngineService.hash(token: ServerWorld.adminToken))
        let merchant = try await world.engine.createMerchant(name: "M")
        for url in ["http://127.0.0.1:8080/x", "http://localhost/x", "https://10.1.2.3/x", "https://192.168.0.1/x", "https://172.20.0.1/x",
                    "https://169.254.169.254/latest/meta-data", "http://[::1]/x", "https://[fd00::1]/x", "https://api.internal/x", "http://0.0.0.0/"] {
            await #expect(throws: APIError.self, "\(url)") {
                try await strict.createWebhookEndpoint(merchantID: merchant.id.rawValue, CreateWebhookEndpointBody(url: url))
            }
        }
        let endpoint = try await strict.createWebhookEndpoint(merchantID: merchant.id.rawValue, CreateWebhookEndpointBody(url: "https://shop.example/hooks"))
        #expect(endpoint.secret?.hasPrefix("whsec_") == true)
    }

    @Test func aDeliveryIsGivenUpAfterThreeDays() async throws {
        #expect(WebhookDeliverer.retryDelayMilliseconds(afterAttempt: 1, key: "k") >= 10_000)
        #expect(WebhookDeliverer.retryDelayMilliseconds(afterAttempt: 1, key: "k") <= 12_000)
        #expect(WebhookDeliverer.retryDelayMilliseconds(afterAttempt: 40, key: "k") <= 6 * 3_600_000 * 12 / 10)
        // Same inputs, same delay: deterministic jitter.
        #expect(WebhookDeliverer.retryDelayMilliseconds(afterAttempt: 3, key: "k") == WebhookDeliverer.retryDelayMilliseconds(afterAttempt: 3, key: "k"))
    }
}
