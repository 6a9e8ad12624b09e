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
        var logger = Logger(label: "test.x")
        logger.logLevel = .critical
        let x = try XConnector(configuration: XConfiguration(apiURL: fake.baseURL, officialUserID: "999", officialUsername: "ShopBot",
                                                             bearerToken: FakeX.appToken, userToken: FakeX.shopToken),
                               clock: SystemWallClock(), logger: logger)
        defer { x.stop() }
        let world = try await ConnectorWorld(connector: x, buyer: SocialIdentity(network: .x, userID: "111", handle: "@alice"), namespace: "t")
        defer { world.close() }
        let (engine, store) = (world.engine, world.store)
        _ = try await engine.runRound()
        for _ in 0..<250 where !fake.rules.withLock({ $0 }).contains(where: { $0.value.hasPrefix("#buyamextee") }) { try await Task.sleep(for: .milliseconds(20)) }
        let rounds = Task {
            while !Task.isCancelled {
                _ = try? await engine.runRound()
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { rounds.cancel() }
        let run = try await ChildProcess.python([Tweepy.script, fake.baseURL, "alice-token", "BuyAmexTee", "ShopBot"])
        try #require(run.status == 0, "tweepy did not complete the purchase: \(run)")
        let output = run.stdout
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])
        #expect(result["user"] == "alice")
        #expect(try await store.read { try $0.orders(limit: 10) }.count == 1)
        #expect(try await store.read { try $0.audit() } == [])
    }
}

enum Tweepy {
    static let script = AtprotoPeerTests.root.appendingPathComponent("scripts/tweepy_peer.py").path
    static let available: Bool = AtprotoPeerTests.canImport("tweepy")
}
