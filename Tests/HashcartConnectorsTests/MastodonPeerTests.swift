import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Logging
import Testing

/// Mastodon.py from PyPI (a client nobody here wrote) drives the cardholder's side: it posts the
/// hashtag, finds Hashcart's reply through its notifications and boosts it with `status_reblog`,
/// against a Mastodon-API server on loopback that Hashcart's connector streams from.
@Suite("Mastodon wire format against Mastodon.py",
       .enabled(if: MastodonPy.available, Comment(rawValue: "python3 with Mastodon.py is not installed (.ci/run installs it): skipped")))
struct MastodonPeerTests {
    @Test("a purchase made by Mastodon.py's status_post and status_reblog")
    func purchaseByMastodonPy() async throws {
        let fake = FakeMastodon()
        let server = try await fake.start()
        defer { server.cancel() }
        let database = try TestDatabase(.sqlite)
        let store = try database.open(key: AddressCipher.generateEncodedKey())
        defer { try? store.close() }
        var logger = Logger(label: "test.mastodon")
        logger.logLevel = .critical
        let mastodon = try MastodonConnector(configuration: MastodonConfiguration(serverURL: fake.baseURL, officialAccountURI: fake.accountURI(FakeMastodon.shop),
                                                                                  accessToken: FakeMastodon.shop.token),
                                             clock: SystemWallClock(), logger: logger)
        defer { mastodon.stop() }
        let clock = SystemWallClock()
        let engine = try Engine(store: store, connector: mastodon, clock: clock, ids: SequentialIDGenerator(namespace: "p"),
                                taxTable: try BundledTaxTable.load(), configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0)))
        let merchant = try engine.createMerchant(name: "Amex Tees")
        _ = try engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Amex Tee", sku: "TEE", price: .usd(2500), hashtag: "#BuyAmexTee", quantity: 3))
        let card = try engine.createCardAccount(creditLimit: .usd(100_000),
                                                billing: BillingAddress(name: "Jane Roe", line1: "1 Main St", city: "Albany", state: .NY, postalCode: "12207"),
                                                cardLast4: "4242")
        try engine.link(cardAccountID: card.id, identity: SocialIdentity(network: .mastodon, userID: fake.accountURI(FakeMastodon.alice), handle: "@alice"),
                        at: clock.now().adding(seconds: -86_400))
        _ = try await engine.runRound()
        for _ in 0..<250 where fake.streamConnections.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(20)) }

        let rounds = Task {
            while !Task.isCancelled {
                _ = try? await engine.runRound()
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { rounds.cancel() }
        let (status, output) = try await Task.detached {
            try AtprotoPeerTests.python([MastodonPy.script, fake.baseURL, FakeMastodon.alice.token, "BuyAmexTee"])
        }.value
        try #require(status == 0, "Mastodon.py did not complete the purchase: \(output)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])
        #expect(result["account"] == "alice")
        let confirmation = try #require(result["confirmation"])
        #expect(fake.statuses.withLock { $0[confirmation]?.visibility } == "unlisted")
        let orders = try store.read { try $0.orders(limit: 10) }
        #expect(orders.count == 1)
        #expect(try store.read { try $0.audit() } == [])
    }
}

enum MastodonPy {
    static let script = AtprotoPeerTests.root.appendingPathComponent("scripts/mastodon_peer.py").path
    static let available: Bool = (try? AtprotoPeerTests.python(["-c", "import mastodon"]).status) == 0
}
