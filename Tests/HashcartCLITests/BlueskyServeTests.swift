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
    static let alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"

    @Test(.timeLimit(.minutes(3)))
    func aPurchaseOverBlueskyThroughServe() async throws {
        let fake = FakeBluesky()
        let server = try await fake.start()
        defer { server.cancel() }
        let serve = try NetworkServe(label: "bluesky-serve", config: """
            # Bluesky on loopback; the app password comes from HASHCART_BLUESKY_APP_PASSWORD
            networks:
              bluesky:
                jetstream: \(fake.jetstreamURL)
                service: \(fake.serviceURL)
                official_did: \(FakeBluesky.officialDID)
                identifier: \(FakeBluesky.handle)
                rewind_seconds: 2
            """, environment: ["HASHCART_BLUESKY_APP_PASSWORD": FakeBluesky.appPassword],
            // A reply claimed by the killed process is retried by the restarted one after this lease.
            arguments: ["--claim-lease", "2"])
        try await serve.start()
        defer { serve.stop() }
        #expect(serve.log.contains("networks: sandbox, bluesky"), "\(serve.log)")
        try await serve.eventually("the Jetstream connection") { !fake.connections.withLock { $0 }.isEmpty }

        // Alice links by posting the code on Bluesky, then buys with the hashtag.
        let shop = try await serve.openShop(network: "bluesky")
        fake.appendPost(did: Self.alice, rkey: "3mlinkcode222", text: "Linking my card \(shop.linkCode)")
        try await serve.eventually("the link") { try await serve.isLinked(shop) }
        let post = fake.appendPost(did: Self.alice, rkey: "3mpurchase222", text: "I want it #BuyAmexTee", tagFacets: ["BuyAmexTee"])
        try await serve.eventually("the confirmation request") {
            fake.records.withLock { $0.values.contains { $0.parent == post } }
        }
        let request = try #require(fake.records.withLock { $0.values.first { $0.parent == post } })

        // The crash: SIGKILL, then a restart from the stored cursor.
        serve.instance.kill()
        let before = fake.connections.withLock { $0.count }
        try await serve.start()
        try await serve.eventually("the reconnect") { fake.connections.withLock { $0.count } > before }
        let resumedFrom = try #require(fake.connections.withLock { $0.last } ?? nil, "the restart resumes from a stored cursor")
        #expect(resumedFrom <= fake.stream.withLock { $0.first { $0.1.contains("3mpurchase222") }!.0 })

        fake.appendRepost(did: Self.alice, rkey: "3mrepost22222", of: BlueskyStrongRef(uri: request.uri, cid: request.cid))
        try await serve.eventually("the order") { try await serve.orderCount(shop) == 1 }
        try await serve.eventually("the \"confirmed\" reply") { fake.records.withLock { $0.values.contains { $0.text.contains("onfirmed") } } }
        // Exactly one confirmation request for the purchase, whatever the restart replayed.
        #expect(fake.records.withLock { $0.values.filter { $0.text.contains("Repost this within") }.count } == 1)
        // Under Alice's post: the request and the "confirmed" reply, nothing twice.
        #expect(fake.records.withLock { $0.values.filter { $0.parent == post }.count } == 2)
        let check = try await serve.stopAndCheck()
        #expect(check.status == 0, "\(check)")
    }
}
