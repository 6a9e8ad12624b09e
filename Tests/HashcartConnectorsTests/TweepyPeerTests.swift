import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Logging
import Testing

/// tweepy from PyPI (a client nobody here wrote) drives the cardholder's side over the loopback X
/// API: create_tweet with the hashtag, search_recent_tweets for Hashcart's reply, retweet it.
@Suite("X wire format against tweepy",
       .enabled(if: Tweepy.available, Comment(rawValue: "python3 with tweepy is not installed (.ci/run installs it): skipped")))
struct TweepyPeerTests {
    @Test("a purchase made by tweepy's create_tweet and retweet")
    func purchaseByTweepy() async throws {
        let fake = FakeX()
        let server = try await fake.start()
        defer { server.cancel() }
        let database = try TestDatabase(.sqlite)
        let store = try database.open(key: AddressCipher.generateEncodedKey())
        defer { try? store.close() }
        var logger = Logger(label: "test.x")
        logger.logLevel = .critical
        let x = try XConnector(configuration: XConfiguration(apiURL: fake.baseURL, officialUserID: "999", officialUsername: "ShopBot",
                                                             bearerToken: FakeX.appToken, userToken: FakeX.shopToken),
                               clock: SystemWallClock(), logger: logger)
        defer { x.stop() }
        let clock = SystemWallClock()
        let engine = try Engine(store: store, connector: x, clock: clock, ids: SequentialIDGenerator(namespace: "t"),
                                taxTable: try BundledTaxTable.load(), configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0)))
        let merchant = try engine.createMerchant(name: "Amex Tees")
        _ = try engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Amex Tee", sku: "TEE", price: .usd(2500), hashtag: "#BuyAmexTee", quantity: 3))
        let card = try engine.createCardAccount(creditLimit: .usd(100_000),
                                                billing: BillingAddress(name: "Jane Roe", line1: "1 Main St", city: "Albany", state: .NY, postalCode: "12207"),
                                                cardLast4: "4242")
        try engine.link(cardAccountID: card.id, identity: SocialIdentity(network: .x, userID: "111", handle: "@alice"), at: clock.now().adding(seconds: -86_400))
        _ = try await engine.runRound()
        for _ in 0..<250 where !fake.rules.withLock({ $0 }).contains(where: { $0.value.hasPrefix("#buyamextee") }) { try await Task.sleep(for: .milliseconds(20)) }
        let rounds = Task {
            while !Task.isCancelled {
                _ = try? await engine.runRound()
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { rounds.cancel() }
        let (status, output) = try await Task.detached {
            try AtprotoPeerTests.python([Tweepy.script, fake.baseURL, "alice-token", "BuyAmexTee", "ShopBot"])
        }.value
        try #require(status == 0, "tweepy did not complete the purchase: \(output)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])
        #expect(result["user"] == "alice")
        #expect(try store.read { try $0.orders(limit: 10) }.count == 1)
        #expect(try store.read { try $0.audit() } == [])
    }
}

enum Tweepy {
    static let script = AtprotoPeerTests.root.appendingPathComponent("scripts/tweepy_peer.py").path
    static let available: Bool = (try? AtprotoPeerTests.python(["-c", "import tweepy"]).status) == 0
}
