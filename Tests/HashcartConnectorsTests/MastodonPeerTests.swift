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
        var logger = Logger(label: "test.mastodon")
        logger.logLevel = .critical
        let mastodon = try MastodonConnector(configuration: MastodonConfiguration(serverURL: fake.baseURL, officialAccountURI: fake.accountURI(FakeMastodon.shop),
                                                                                  accessToken: FakeMastodon.shop.token),
                                             clock: SystemWallClock(), logger: logger)
        defer { mastodon.stop() }
        let world = try await ConnectorWorld(connector: mastodon, buyer: SocialIdentity(network: .mastodon, userID: fake.accountURI(FakeMastodon.alice), handle: "@alice"),
                                       namespace: "p")
        defer { world.close() }
        let (engine, store) = (world.engine, world.store)
        _ = try await engine.runRound()
        for _ in 0..<250 where fake.streamConnections.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(20)) }

        let rounds = Task {
            while !Task.isCancelled {
                _ = try? await engine.runRound()
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { rounds.cancel() }
        let run = try await ChildProcess.python([MastodonPy.script, fake.baseURL, FakeMastodon.alice.token, "BuyAmexTee"])
        try #require(run.status == 0, "Mastodon.py did not complete the purchase: \(run)")
        let output = run.stdout
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])
        #expect(result["account"] == "alice")
        let confirmation = try #require(result["confirmation"])
        #expect(fake.statuses.withLock { $0[confirmation]?.visibility } == "unlisted")
        let orders = try await store.read { try $0.orders(limit: 10) }
        #expect(orders.count == 1)
        #expect(try await store.read { try $0.audit() } == [])
    }
}

enum MastodonPy {
    static let script = AtprotoPeerTests.root.appendingPathComponent("scripts/mastodon_peer.py").path
    static let available: Bool = AtprotoPeerTests.canImport("mastodon")
}
