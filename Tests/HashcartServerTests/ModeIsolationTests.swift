import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartServer
import HashcartStore
import HashcartTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A connector for live mode's engine in these tests: a real network that is silent (live mode
/// has no sandbox; its engines run the configured networks, here none that posts).
struct SilentConnector: NetworkConnector {
    var network: NetworkName { .bluesky }
    var officialAccountID: String { "did:plc:shop" }
    func events(after cursor: String?, limit: Int) async throws -> EventPage { EventPage(events: [], nextCursor: cursor) }
    func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        throw ConnectorError(network: network, message: "silent", isRetryable: false)
    }
    func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        throw ConnectorError(network: network, message: "silent", isRetryable: false)
    }
}

/// Live and test mode in one router, each on a store of its own (the current backend), as
/// `hashcart serve` runs them.
final class ModeWorld: @unchecked Sendable {
    let clock = ManualClock(Instant(secondsSinceEpoch: 1_790_000_000))
    let liveDatabase: TestDatabase
    let testDatabase: TestDatabase
    let liveStore: any HashcartDatabase
    let testStore: any HashcartDatabase
    let sandbox: SandboxNetwork
    let live: EngineService
    let test: EngineService
    let liveEngine: Engine
    let testEngine: Engine
    let key = AddressCipher.generateEncodedKey()
    static let adminToken = "mode-admin-token-0123456789"

    init(adminToken: String = ModeWorld.adminToken) async throws {
        liveDatabase = try TestDatabase()
        testDatabase = try TestDatabase()
        liveStore = try await liveDatabase.open(key: key)
        testStore = try await testDatabase.open(key: key)
        sandbox = try SandboxNetwork(directory: testDatabase.directory, clock: clock)
        let taxTable = try BundledTaxTable.load()
        let configuration = EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0))
        testEngine = try await Engine(store: testStore, connector: SandboxConnector(sandbox: sandbox), clock: clock, ids: SequentialIDGenerator(),
                                    taxTable: taxTable, configuration: configuration)
        liveEngine = try await Engine(store: liveStore, connector: SilentConnector(), clock: clock, ids: SequentialIDGenerator(namespace: "l"),
                                    taxTable: taxTable, configuration: configuration)
        let hash = EngineService.hash(token: adminToken)
        test = EngineService(mode: .test, engine: testEngine, store: testStore, sandbox: sandbox, adminTokenHash: hash)
        live = EngineService(mode: .live, engine: liveEngine, store: liveStore, sandbox: nil, adminTokenHash: hash)
    }

    deinit {
        liveStore.closeLater()
        testStore.closeLater()
    }

    func app(authFailures: AuthFailureLimit = AuthFailureLimit(burstPerAddress: 1_000)) -> some ApplicationProtocol {
        Application(router: HashcartRouter.build(services: ModeServices(test: test, live: live), authFailures: authFailures))
    }

    /// The same stores served again with another admin token, as after a restart that changed it.
    struct Services {
        let app: Application<RouterResponder<HashcartRequestContext>>

        init(world: ModeWorld, adminToken: String) throws {
            let hash = EngineService.hash(token: adminToken)
            let test = EngineService(mode: .test, engine: world.testEngine, store: world.testStore, sandbox: world.sandbox, adminTokenHash: hash)
            let live = EngineService(mode: .live, engine: world.liveEngine, store: world.liveStore, sandbox: nil, adminTokenHash: hash)
            app = Application(router: HashcartRouter.build(services: ModeServices(test: test, live: live)))
        }
    }
}

func operatorHeaders(_ mode: Mode?, token: String = ModeWorld.adminToken) -> HTTPFields {
    var headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
    if let mode { headers[HTTPField.Name("Hashcart-Mode")!] = mode.rawValue }
    return headers
}

@Suite(.onEveryBackend) struct ModeIsolationTests {
    static let cardholder = #"{"credit_limit":500000,"billing_name":"Ada Lovelace","address":{"line1":"65 Broadway","city":"New York","state":"NY","postal_code":"10006"},"card_last4":"4242"}"#

    /// A merchant and its key in `mode`, through the operator.
    func merchantKey(_ client: some TestClientProtocol, _ mode: Mode) async throws -> (String, String) {
        let merchant = try await client.execute(uri: "/v1/merchants", method: .post, headers: operatorHeaders(mode), body: body(#"{"name":"Shop"}"#)) {
            #expect($0.status == .created)
            #expect(try object($0)["livemode"] as? Bool == (mode == .live))
            return try #require(try object($0)["id"] as? String)
        }
        let key = try await client.execute(uri: "/v1/merchants/\(merchant)/api_keys", method: .post, headers: operatorHeaders(mode)) {
            try #require(try object($0)["secret"] as? String)
        }
        #expect(key.hasPrefix(mode.apiKeyPrefix))
        return (merchant, key)
    }

    @Test func aTestCredentialNeverReachesLiveDataNorTheOtherWayRound() async throws {
        let world = try await ModeWorld()
        try await world.app().test(.live) { client in
            // The operator must name the mode when both run; garbage modes are refused.
            try await client.execute(uri: "/v1/merchants", method: .post, headers: operatorHeaders(nil), body: body(#"{"name":"Shop"}"#)) {
                try expectError($0, .badRequest, code: "mode_required", param: "Hashcart-Mode")
            }
            for garbage in ["LIVE", "prod", "", "live,test", "tést"] {
                var headers = operatorHeaders(nil)
                headers[HTTPField.Name("Hashcart-Mode")!] = garbage
                try await client.execute(uri: "/v1/merchants", method: .post, headers: headers, body: body(#"{"name":"Shop"}"#)) {
                    #expect($0.status == .badRequest, "Hashcart-Mode \(garbage.debugDescription)")
                }
            }
            let (liveMerchant, liveKey) = try await merchantKey(client, .live)
            let (_, testKey) = try await merchantKey(client, .test)
            let offer = ##"{"title":"Kindle Fire HD","sku":"KFHD","price":14999,"hashtag":"#BuyKindleFireHD","quantity":5}"##
            let liveOffer = try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(liveKey), body: body(offer)) {
                #expect($0.status == .created)
                #expect(try object($0)["livemode"] as? Bool == true)
                return try #require(try object($0)["id"] as? String)
            }
            // The same hashtag is free in test mode: nothing is shared between the worlds.
            let testOffer = try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(testKey), body: body(offer)) {
                #expect($0.status == .created)
                #expect(try object($0)["livemode"] as? Bool == false)
                return try #require(try object($0)["id"] as? String)
            }
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(testKey)) { response in
                let ids = try #require(try object(response)["data"] as? [[String: Any]]).compactMap { $0["id"] as? String }
                #expect(ids == [testOffer])
            }
            if liveOffer != testOffer {
                try await client.execute(uri: "/v1/offers/\(liveOffer)", method: .get, headers: bearer(testKey)) {
                    try expectError($0, .notFound, code: "resource_missing")
                }
            }
            // A key whose prefix is changed to the other mode is no key at all.
            for forged in [liveKey.replacingOccurrences(of: "hc_live_", with: "hc_test_"), testKey.replacingOccurrences(of: "hc_test_", with: "hc_live_"),
                           "hc_live_" + String(liveKey.dropFirst(8)).uppercased(), String(liveKey.dropLast()), " " + liveKey] {
                try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(forged)) {
                    try expectError($0, .unauthorized, code: "unauthorized")
                }
            }
            // The operator in test mode cannot stop a live offer or set its risk limits (ids may be
            // the same in both worlds: then it reaches only test mode's offer).
            for (path, text) in [("risk", #"{"min_link_age_seconds":0}"#), ("kill_switch", #"{"on":true}"#)] {
                try await client.execute(uri: "/v1/offers/\(liveOffer)/\(path)", method: .post, headers: operatorHeaders(.test), body: body(text)) {
                    if liveOffer != testOffer { try expectError($0, .notFound, code: "resource_missing") }
                }
            }
            let live = try #require(try await world.liveStore.read { try $0.offer(OfferID(liveOffer)) })
            #expect(live.risk.isEmpty && !live.killSwitch, "live mode's offer is untouched")
            // The operator in test mode does not see live mode's merchant.
            try await client.execute(uri: "/v1/merchants/\(liveMerchant)/api_keys", method: .post, headers: operatorHeaders(.test)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
            // Cardholders too: a live token sees live purchases only, and cannot link on the sandbox.
            let liveCard = try await client.execute(uri: "/v1/cardholders", method: .post, headers: operatorHeaders(.live), body: body(Self.cardholder)) {
                try #require(try object($0)["id"] as? String)
            }
            let liveToken = try await client.execute(uri: "/v1/cardholders/\(liveCard)/tokens", method: .post, headers: operatorHeaders(.live)) {
                try #require(try object($0)["secret"] as? String)
            }
            #expect(liveToken.hasPrefix("hc_ch_live_"))
            try await client.execute(uri: "/v1/links", method: .post, headers: bearer(liveToken), body: body(#"{"network":"sandbox"}"#)) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "network")
            }
            // Live mode has no sandbox: live credentials are refused there, whoever they are.
            for headers in [bearer(liveKey), bearer(liveToken), operatorHeaders(.live)] {
                try await client.execute(uri: "/sandbox/accounts", method: .post, headers: headers, body: body(#"{"handle":"mallory"}"#)) {
                    try expectError($0, .forbidden, code: "test_mode_only")
                }
                try await client.execute(uri: "/sandbox/posts", method: .get, headers: headers) {
                    try expectError($0, .forbidden, code: "test_mode_only")
                }
            }
        }
        // Nothing reached the other store.
        #expect(try await world.liveStore.read { try $0.count("offers") } == 1)
        #expect(try await world.testStore.read { try $0.count("offers") } == 1)
        #expect(try await world.testStore.read { try $0.count("card_accounts") } == 0)
        #expect(try world.sandbox.posts(limit: 10).isEmpty)
    }

    @Test func aRevokedKeyOrARetiredAdminTokenGets401WhateverIdempotencyKeyItSends() async throws {
        let world = try await ModeWorld()
        let offer = ##"{"title":"Kindle Fire HD","sku":"KFHD","price":14999,"hashtag":"#BuyKindleFireHD","quantity":5}"##
        @Sendable func keyed(_ headers: HTTPFields, _ key: String) -> HTTPFields {
            var headers = headers
            headers[HTTPField.Name("Idempotency-Key")!] = key
            return headers
        }
        try await world.app().test(.live) { client in
            let merchant = try await client.execute(uri: "/v1/merchants", method: .post, headers: keyed(operatorHeaders(.test), "m-1"),
                                                    body: body(#"{"name":"Shop"}"#)) { try #require(try object($0)["id"] as? String) }
            // A response that showed a secret is replayed without it.
            let (keyID, key) = try await client.execute(uri: "/v1/merchants/\(merchant)/api_keys", method: .post,
                                                        headers: keyed(operatorHeaders(.test), "key-1")) {
                (try #require(try object($0)["id"] as? String), try #require(try object($0)["secret"] as? String))
            }
            try await client.execute(uri: "/v1/merchants/\(merchant)/api_keys", method: .post, headers: keyed(operatorHeaders(.test), "key-1")) {
                #expect($0.status == .created)
                #expect($0.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                let replay = try object($0)
                #expect(replay["id"] as? String == keyID)
                #expect(replay["secret"] is NSNull)
            }
            try await client.execute(uri: "/v1/offers", method: .post, headers: keyed(bearer(key), "offer-1"), body: body(offer)) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/v1/offers", method: .post, headers: keyed(bearer(key), "offer-1"), body: body(offer)) {
                #expect($0.status == .created)
                #expect($0.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            }
            // Keys are scoped to (mode, caller): the same key from the operator is another key.
            try await client.execute(uri: "/v1/merchants", method: .post, headers: keyed(operatorHeaders(.live), "offer-1"), body: body(#"{"name":"Other"}"#)) {
                #expect($0.status == .created)
                #expect($0.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            }
            // Revoked: 401, never the cached response.
            try await client.execute(uri: "/v1/merchants/\(merchant)/api_keys/\(keyID)", method: .delete, headers: operatorHeaders(.test)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/offers", method: .post, headers: keyed(bearer(key), "offer-1"), body: body(offer)) {
                #expect($0.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
                try expectError($0, .unauthorized, code: "unauthorized")
            }
        }
        // After a restart with another admin token, the old token replays nothing.
        let restarted = try ModeWorld.Services(world: world, adminToken: "the-new-admin-token-0123456789")
        try await restarted.app.test(.live) { client in
            try await client.execute(uri: "/v1/merchants", method: .post, headers: keyed(operatorHeaders(.test), "m-1"), body: body(#"{"name":"Shop"}"#)) {
                #expect($0.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
                try expectError($0, .unauthorized, code: "unauthorized")
            }
        }
        // Stored responses are sealed: neither the key's secret nor any response text is readable at rest.
        let hex = world.testDatabase.backend == .sqlite ? "hex(response)" : "encode(response, 'hex')"
        let rows = try world.testDatabase.query("SELECT \(hex) FROM idempotency_keys WHERE response IS NOT NULL").compactMap { $0.first ?? nil }
        #expect(rows.count >= 2)
        for row in rows {
            var bytes: [UInt8] = []
            var index = row.startIndex
            while index < row.endIndex, let next = row.index(index, offsetBy: 2, limitedBy: row.endIndex) {
                bytes.append(UInt8(row[index..<next], radix: 16) ?? 0)
                index = next
            }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(bytes.count > 16 && !text.contains("livemode") && !text.contains("hc_test_") && !text.contains("Kindle"), "\(text.prefix(200))")
        }
        #expect(try await world.testStore.read { try $0.count("merchants") } == 1)
        #expect(try await world.testStore.read { try $0.count("offers") } == 1)
    }

    @Test func failedAuthenticationIsThrottledPerAddressBeforeAnyCredentialIsChecked() async throws {
        let world = try await ModeWorld()
        try await world.app(authFailures: AuthFailureLimit(burstPerAddress: 5, refillPerAddress: 0.001)).test(.live) { client in
            for guess in 0..<5 {
                try await client.execute(uri: "/v1/ledger/check", method: .get, headers: operatorHeaders(.test, token: "guess-\(guess)-0123456789")) {
                    try expectError($0, .unauthorized, code: "unauthorized")
                }
            }
            // The sixth guess, and now even the right token from this address, waits.
            for token in ["guess-5-0123456789", ModeWorld.adminToken] {
                try await client.execute(uri: "/v1/ledger/check", method: .get, headers: operatorHeaders(.test, token: token)) {
                    try expectError($0, .tooManyRequests, code: "authentication_throttled")
                    #expect(Int($0.headers[.retryAfter] ?? "") ?? 0 >= 1)
                }
            }
            // Every kind of credential counts: sandbox writes without one too.
            try await client.execute(uri: "/sandbox/posts", method: .post, headers: [.contentType: "application/json"], body: body(#"{"text":"hi"}"#)) {
                try expectError($0, .tooManyRequests, code: "authentication_throttled")
            }
        }
    }

    @Test func theThrottleIsPerAddressAndGlobalForAddressesThatFailed() throws {
        let throttle = AuthFailureThrottle(limit: AuthFailureLimit(burstPerAddress: 3, refillPerAddress: 0.001, burstGlobal: 5, refillGlobal: 0.001))
        for _ in 0..<3 {
            try throttle.check(address: "10.0.0.1")
            throttle.recordFailure(address: "10.0.0.1")
        }
        #expect(throws: (any Error).self) { try throttle.check(address: "10.0.0.1") }
        // Another address is not held back by the first one's failures.
        try throttle.check(address: "10.0.0.2")
        throttle.recordFailure(address: "10.0.0.2")
        throttle.recordFailure(address: "10.0.0.3")
        // The global bucket is now empty: addresses that failed wait; one that never failed does not.
        #expect(throws: (any Error).self) { try throttle.check(address: "10.0.0.2") }
        try throttle.check(address: "192.0.2.7")
    }

    /// The pages keep the modes apart as the API does: a test-mode session, under its own cookie
    /// or renamed as the live one, opens no live page and posts no live form.
    @Test func aTestSessionNeverOpensALivePage() async throws {
        let world = try await ModeWorld()
        _ = try await world.test.dashboard.createUser(CreateDashboardUserBody(email: "ops@issuer.example", role: "operator",
                                                                              password: DashboardPageTests.password))
        try await world.app().test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ops@issuer.example", DashboardPageTests.password, mode: "test")
            let console = try await browser.get("/dashboard/test")
            #expect(console.status == .ok && console.html.contains("Kill switch"))
            let csrf = try #require(console.csrf)
            let token = try #require(browser.cookies["hc_test_session"])

            for path in ["/dashboard/live", "/dashboard/live/merchants", "/dashboard/live/audit"] {
                let page = try await browser.get(path)
                #expect(page.status == .seeOther && page.location == "/dashboard/live/sign-in", "\(path): \(page.status)")
            }
            let forged = PageBrowser(client)
            forged.cookies["hc_live_session"] = token
            let renamed = try await forged.get("/dashboard/live/merchants")
            #expect(renamed.status == .seeOther && renamed.location == "/dashboard/live/sign-in", "\(renamed.status)")
            let stop = try await forged.post("/dashboard/live/kill-switch", [("csrf_token", csrf), ("on", "true"), ("reason", "from test mode")])
            #expect(stop.status == .seeOther && stop.location == "/dashboard/live/sign-in", "\(stop.status)")
            #expect(try await world.liveStore.read { try $0.issuerKillSwitch() } == nil, "the live switch was never touched")
            // And the test user cannot sign in to live mode: users are kept per mode.
            let live = PageBrowser(client)
            let refused = try await live.signIn("ops@issuer.example", DashboardPageTests.password, mode: "live")
            #expect(refused.status != .seeOther && live.cookies["hc_live_session"] == nil, "\(refused.status)")
        }
    }
}
