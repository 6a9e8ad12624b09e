import Foundation
import HashcartApp
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore
import HashcartTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Linking by OAuth sign-in (X with PKCE, Mastodon's authorization code), live mode over real
/// HTTP, against the loopback networks' own authorization servers: the account the network proves
/// is linked once, to the card that started; every forged, replayed, swapped, late or refused
/// callback is refused with a clear error and links nothing.
@Suite(.onEveryBackend) struct OAuthLinkTests {
    final class World: @unchecked Sendable {
        let modes: ModeWorld
        let x = FakeX()
        let mastodon = FakeMastodon()
        var servers: [Task<Void, any Error>] = []
        /// The live cards made so far.
        let cards = Mutex<[CardAccountID]>([])
        static let xRedirect = "http://127.0.0.1:8080/oauth/x/callback"
        static let mastodonRedirect = "http://127.0.0.1:8080/oauth/mastodon/callback"

        init() async throws {
            modes = try await ModeWorld()
            servers = [try await x.start(), try await mastodon.start()]
            x.oauth.register(.init(id: "x-client", secret: "x-secret", redirectURI: Self.xRedirect, secretInBody: false))
            mastodon.oauth.register(.init(id: "m-client", secret: "m-secret", redirectURI: Self.mastodonRedirect, secretInBody: true))
        }

        deinit { servers.forEach { $0.cancel() } }

        func app() throws -> some ApplicationProtocol {
            Application(router: HashcartRouter.build(services: ModeServices(test: modes.test, live: try live()),
                                                     authFailures: AuthFailureLimit(burstPerAddress: 1_000)))
        }

        func live() throws -> EngineService {
            var xConfiguration = XConfiguration(apiURL: x.baseURL, officialUserID: "999", officialUsername: "ShopBot", bearerToken: FakeX.appToken,
                                                userToken: FakeX.shopToken)
            xConfiguration.requestTimeoutSeconds = 5
            let mastodonConfiguration = MastodonConfiguration(serverURL: mastodon.baseURL, officialAccountURI: mastodon.accountURI(FakeMastodon.shop),
                                                              accessToken: FakeMastodon.shop.token)
            let links: [any OAuthLinkProvider] = [
                try XOAuthLink(configuration: xConfiguration, oauth: .init(clientID: "x-client", clientSecret: "x-secret", redirectURI: Self.xRedirect,
                                                                           authorizeURL: x.authorizeURL), clock: modes.clock),
                try MastodonOAuthLink(configuration: mastodonConfiguration,
                                      oauth: .init(clientID: "m-client", clientSecret: "m-secret", redirectURI: Self.mastodonRedirect), clock: modes.clock),
            ]
            return EngineService(mode: .live, engine: modes.liveEngine, store: modes.liveStore, sandbox: nil,
                                 adminTokenHash: EngineService.hash(token: ModeWorld.adminToken), oauthLinks: links)
        }

        func links() async throws -> [Link] {
            let cards = cards.withLock { $0 }
            return try await modes.liveStore.read { reader in try cards.flatMap { try reader.links(cardAccountID: $0) } }
        }
    }

    /// A live cardholder and its token, through the operator.
    func cardholder(_ client: some TestClientProtocol, _ world: World, mode: Mode = .live) async throws -> String {
        let card = try await client.execute(uri: "/v1/cardholders", method: .post, headers: operatorHeaders(mode), body: body(ModeIsolationTests.cardholder)) {
            try #require(try object($0)["id"] as? String)
        }
        if mode == .live { world.cards.withLock { $0.append(CardAccountID(card)) } }
        return try await client.execute(uri: "/v1/cardholders/\(card)/tokens", method: .post, headers: operatorHeaders(mode)) {
            try #require(try object($0)["secret"] as? String)
        }
    }

    /// Starts a sign-in: the authorize URL, checked for what the network must and must not see.
    func start(_ client: some TestClientProtocol, token: String, network: String, expect status: HTTPResponse.Status = .created) async throws -> String? {
        try await client.execute(uri: "/v1/links/oauth", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                                 body: body(#"{"network":"\#(network)"}"#)) { response -> String? in
            #expect(response.status == status, "\(String(buffer: response.body))")
            guard response.status == .created else { return nil }
            let url = try #require(try object(response)["authorize_url"] as? String, "\(String(buffer: response.body))")
            let query = try #require(URLComponents(string: url)?.queryItems)
            func item(_ name: String) -> String? { query.first { $0.name == name }?.value }
            #expect(item("code_challenge_method") == "S256")
            #expect(item("code_challenge")?.count == 43)
            #expect(item("state")?.hasPrefix("live_") == true)
            #expect(item("response_type") == "code")
            #expect(!url.contains("verifier") && !url.contains("secret"))
            return url
        }
    }

    /// Brings the network's redirect back to Hashcart's callback.
    func callback(_ client: some TestClientProtocol, _ location: String, html: Bool = false) async throws -> (HTTPResponse.Status, [String: Any], String) {
        var headers: HTTPFields = [:]
        if html { headers[.accept] = "text/html" }
        return try await client.execute(uri: FakeOAuthServer.pathAndQuery(location), method: .get, headers: headers) { response in
            #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(response.headers[.cacheControl] == "no-store")
            let text = String(buffer: response.body)
            return (response.status, html ? [:] : (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]), text)
        }
    }

    static func errorCode(_ object: [String: Any]) -> String? { (object["error"] as? [String: Any])?["code"] as? String }

    @Test func aCardholderLinksAnXAccountBySigningInAndTheTokenIsNotKept() async throws {
        let world = try await World()
        try await world.app().test(.live) { client in
            let token = try await cardholder(client, world)
            let url = try #require(try await start(client, token: token, network: "x"))
            let back = try #require(try await FakeOAuthServer.approve(url, as: "111"))
            let (status, link, _) = try await callback(client, back)
            #expect(status == .ok)
            #expect(link["object"] as? String == "link" && link["livemode"] as? Bool == true)
            #expect(link["network"] as? String == "x" && link["user_id"] as? String == "111" && link["handle"] as? String == "@alice")
            #expect(try await world.links().map(\.identity) == [SocialIdentity(network: .x, userID: "111", handle: "@alice")])
            // Hashcart kept no token: the one it got is revoked at X.
            #expect(world.x.oauth.revoked.withLock { $0.count } == 1 && world.x.oauth.tokens.withLock { $0.isEmpty })
            try await client.execute(uri: "/v1/links", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                let listed = try object(response)["data"] as? [[String: Any]]
                #expect(listed?.first?["user_id"] as? String == "111")
            }

            // The same callback again (a replay, a double click): used once, nothing more linked.
            let (again, problem, _) = try await callback(client, back)
            #expect(again == .conflict && Self.errorCode(problem) == "oauth_state_used")
            // A card linked on X cannot start another X sign-in; another card cannot take alice.
            _ = try await start(client, token: token, network: "x", expect: .conflict)
            let other = try await cardholder(client, world)
            let second = try #require(try await start(client, token: other, network: "x"))
            let (taken, takenProblem, _) = try await callback(client, try #require(try await FakeOAuthServer.approve(second, as: "111")))
            #expect(taken == .conflict && Self.errorCode(takenProblem) == "identity_already_linked")
            #expect(try await world.links().count == 1)
        }
    }

    /// A sign-in started from the cardholder's page is bound to that browser by a cookie: the same
    /// callback from anywhere else (a link sent to someone, a forged cookie) is refused and links
    /// nothing, without spending the sign-in; the browser that started it then finishes it.
    @Test func aSignInStartedOnAPageFinishesOnlyInThatBrowser() async throws {
        let world = try await World()
        let live = try world.live()
        try await world.app().test(.live) { client in
            _ = try await cardholder(client, world)
            let cardID = try #require(world.cards.withLock { $0.last })
            _ = try await live.dashboard.createUser(CreateDashboardUserBody(email: "ada@example.com", role: "cardholder",
                                                                            cardholderID: cardID.rawValue, password: DashboardPageTests.password))
            let browser = PageBrowser(client)
            try await browser.signIn("ada@example.com", DashboardPageTests.password, mode: "live")
            let home = try await browser.get("/dashboard/live")
            let started = try await browser.post("/dashboard/live/links", [("csrf_token", try #require(home.csrf)), ("network", "x"), ("how", "sign_in")])
            #expect(started.status == .ok, "\(started.html.prefix(500))")
            let cookie = try #require(browser.lastSetCookies.first { $0.hasPrefix("hc_live_oauth=") })
            for attribute in ["Path=/oauth", "HttpOnly", "SameSite=Lax", "Max-Age=600"] { #expect(cookie.contains(attribute), "\(cookie)") }
            let href = try #require(started.html.range(of: #"href="http[^"]*""#, options: .regularExpression).map { String(started.html[$0]) })
            let url = String(href.dropFirst(6).dropLast()).replacingOccurrences(of: "&amp;", with: "&")
            let back = try #require(try await FakeOAuthServer.approve(url, as: "111"))

            // Someone else's browser, with no cookie or a forged one: refused, nothing linked.
            let (elsewhere, problem, _) = try await callback(client, back)
            #expect(elsewhere == .forbidden && Self.errorCode(problem) == "oauth_other_browser", "\(problem)")
            let forged = try await client.execute(uri: FakeOAuthServer.pathAndQuery(back), method: .get,
                                                  headers: [.cookie: "hc_live_oauth=" + String(repeating: "a", count: 48)]) { $0.status }
            #expect(forged == .forbidden)
            #expect(try await world.links().isEmpty)

            // The browser that started it finishes it (the sign-in was not spent by the refusals).
            let finished = try await browser.get(FakeOAuthServer.pathAndQuery(back), headers: [.accept: "text/html"])
            #expect(finished.status == .ok, "\(finished.html.prefix(300))")
            #expect(try await world.links().map(\.identity.userID) == ["111"])
            #expect(browser.lastSetCookies.contains { $0.hasPrefix("hc_live_oauth=") && $0.contains("Max-Age=0") }, "the cookie is cleared")
        }
    }

    @Test func aMastodonAccountLinksAsItsURISoItsPostsMatch() async throws {
        let world = try await World()
        try await world.app().test(.live) { client in
            let token = try await cardholder(client, world)
            let url = try #require(try await start(client, token: token, network: "mastodon"))
            #expect(url.hasPrefix(world.mastodon.baseURL + "/oauth/authorize?"))
            #expect(url.contains("scope=read%3Aaccounts"))
            let (status, link, _) = try await callback(client, try #require(try await FakeOAuthServer.approve(url, as: FakeMastodon.alice.id)))
            #expect(status == .ok)
            // The stream names authors by their URI: the link must carry the same.
            #expect(link["user_id"] as? String == world.mastodon.accountURI(FakeMastodon.alice))
            #expect(link["handle"] as? String == "@alice")
            #expect(world.mastodon.oauth.revoked.withLock { $0.count } == 1)
        }
    }

    @Test func forgedSwappedLateAndRefusedCallbacksLinkNothing() async throws {
        let world = try await World()
        try await world.app().test(.live) { client in
            let first = try await cardholder(client, world)
            let second = try await cardholder(client, world)

            // The person declines at X: the sign-in is over.
            let declined = try #require(try await start(client, token: first, network: "x"))
            let (deniedStatus, denied, _) = try await callback(client, try #require(try await FakeOAuthServer.approve(declined, as: "111", deny: true)))
            #expect(deniedStatus == .forbidden && Self.errorCode(denied) == "oauth_denied")

            // Forged and garbage states, a missing one, one for test mode, markup: refused as unknown.
            for query in ["state=live_\(String(repeating: "A", count: 43))&code=abc", "code=abc", "state=%3Cscript%3E&code=abc",
                          "state=test_\(String(repeating: "B", count: 43))&code=abc", "state=\(String(repeating: "live_", count: 40))&code=abc",
                          "state=live_%00AAAAAAAAAAAAAAAAAAAAAAAAAAAAA&code=abc"] {
                let (status, problem, _) = try await callback(client, "/oauth/x/callback?" + query)
                #expect(status == .notFound && Self.errorCode(problem) == "oauth_state_unknown", "\(query)")
            }
            // A network Hashcart has no sign-in for.
            let (unknownNetwork, unknownProblem, _) = try await callback(client, "/oauth/bluesky/callback?state=live_\(String(repeating: "A", count: 43))&code=a")
            #expect(unknownNetwork == .notFound && Self.errorCode(unknownProblem) == "oauth_state_unknown")

            // Swapped codes: bob's code with alice's sign-in fails PKCE at X (the verifier is the other sign-in's).
            let a = try #require(try await start(client, token: first, network: "x"))
            let b = try #require(try await start(client, token: second, network: "x"))
            let backA = try #require(try await FakeOAuthServer.approve(a, as: "111"))
            let backB = try #require(try await FakeOAuthServer.approve(b, as: "222"))
            let stateA = try #require(URLComponents(string: backA)?.queryItems?.first { $0.name == "state" }?.value)
            let codeB = try #require(URLComponents(string: backB)?.queryItems?.first { $0.name == "code" }?.value)
            let (swapped, swappedProblem, _) = try await callback(client, "/oauth/x/callback?code=\(codeB)&state=\(stateA)")
            #expect(swapped == .badRequest && Self.errorCode(swappedProblem) == "oauth_exchange_failed")

            // A state started for X, brought to Mastodon's callback.
            let (wrongNetwork, wrongProblem, _) = try await callback(client, FakeOAuthServer.pathAndQuery(backB).replacingOccurrences(of: "/oauth/x/", with: "/oauth/mastodon/"))
            #expect(wrongNetwork == .conflict && Self.errorCode(wrongProblem) == "oauth_wrong_network")

            // X is down when the code is exchanged: a gateway error, and the sign-in must start again.
            world.x.oauth.failNextTokenRequest.withLock { $0 = .serviceUnavailable }
            let (outage, outageProblem, _) = try await callback(client, backB)
            #expect(outage == .badGateway && Self.errorCode(outageProblem) == "network_unavailable")

            // Back after ten minutes.
            let late = try #require(try await start(client, token: second, network: "x"))
            let backLate = try #require(try await FakeOAuthServer.approve(late, as: "222"))
            world.modes.clock.advance(seconds: OAuthAuthorization.lifetimeSeconds + 1)
            let (expired, expiredProblem, _) = try await callback(client, backLate)
            #expect(expired == .conflict && Self.errorCode(expiredProblem) == "oauth_state_expired")

            // A code that is not one: the network sends garbage back.
            let garbage = try #require(try await start(client, token: second, network: "x"))
            let garbageState = try #require(URLComponents(string: garbage)?.queryItems?.first { $0.name == "state" }?.value)
            let (badCode, badCodeProblem, _) = try await callback(client, "/oauth/x/callback?state=\(garbageState)&code=%20%0A")
            #expect(badCode == .badRequest && (badCodeProblem["error"] as? [String: Any])?["param"] as? String == "code")

            #expect(try await world.links().isEmpty)
        }
    }

    @Test func startingIsBoundedAndRefusesBadBodies() async throws {
        let world = try await World()
        try await world.app().test(.live) { client in
            let token = try await cardholder(client, world)
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            for (text, param) in [(#"{"network":"bluesky"}"#, "network"), (#"{"network":5}"#, "network"), (#"{"network":"x","extra":1}"#, "extra"),
                                  ("{}", "network"), ("not json", nil)] as [(String, String?)] {
                try await client.execute(uri: "/v1/links/oauth", method: .post, headers: headers, body: body(text)) { response in
                    #expect(response.status == .badRequest, "\(text)")
                    let problem = try object(response)
                    if let param { #expect((problem["error"] as? [String: Any])?["param"] as? String == param, "\(text)") }
                }
            }
            for _ in 0..<OAuthAuthorization.maximumPendingPerCard { _ = try await start(client, token: token, network: "x") }
            try await client.execute(uri: "/v1/links/oauth", method: .post, headers: headers, body: body(#"{"network":"mastodon"}"#)) { response in
                #expect(response.status == .tooManyRequests)
                let problem = try object(response)
                #expect(Self.errorCode(problem) == "oauth_too_many_pending")
            }
            // Ten minutes on, the waiting ones have expired and a new one starts.
            world.modes.clock.advance(seconds: OAuthAuthorization.lifetimeSeconds)
            _ = try await start(client, token: token, network: "mastodon")

            // Test mode has no real network, so no sign-in: its cardholders link by code.
            let testToken = try await cardholder(client, world, mode: .test)
            try await client.execute(uri: "/v1/links/oauth", method: .post, headers: [.authorization: "Bearer \(testToken)", .contentType: "application/json"],
                                     body: body(#"{"network":"x"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("link by code"))
            }
            #expect(try await world.links().isEmpty)
        }
    }

    @Test func theBrowserPageEscapesWhatTheNetworkSent() async throws {
        let world = try await World()
        try await world.app().test(.live) { client in
            let token = try await cardholder(client, world)
            let url = try #require(try await start(client, token: token, network: "x"))
            let back = try #require(try await FakeOAuthServer.approve(url, as: "222"))
            try await client.execute(uri: FakeOAuthServer.pathAndQuery(back), method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                #expect(String(buffer: response.body).contains("@bob"))
            }
            // An error the network sent with markup in it comes back as text.
            let declined = try #require(try await start(client, token: token, network: "mastodon"))
            let state = try #require(URLComponents(string: declined)?.queryItems?.first { $0.name == "state" }?.value)
            let (status, _, page) = try await callback(client, "/oauth/mastodon/callback?state=\(state)&error=%3Cimg%3E", html: true)
            #expect(status == .forbidden)
            #expect(!page.contains("<img") && page.contains("&lt;img&gt;") && page.contains("Nothing was linked"), "\(page)")
        }
    }

    @Test func twoCallbacksAtOnceLinkOnceAndTheCardholderIsTold() async throws {
        let world = try await World()
        try await world.app().test(.live) { client in
            let token = try await cardholder(client, world)
            let url = try #require(try await start(client, token: token, network: "x"))
            let back = try #require(try await FakeOAuthServer.approve(url, as: "111"))
            async let first = callback(client, back)
            async let second = callback(client, back)
            let statuses = [try await first.0, try await second.0].map(\.code).sorted()
            #expect(statuses == [200, 409], "\(statuses)")
            #expect(try await world.links().count == 1)
            try await client.execute(uri: "/v1/notifications", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                let notifications = try object(response)["data"] as? [[String: Any]] ?? []
                let linked = notifications.filter { $0["kind"] as? String == "linked" }
                #expect(linked.count == 1)
                #expect((linked.first?["message"] as? String)?.contains("x account @alice (by signing in at x)") == true, "\(linked)")
            }
        }
    }

    @Test func aServiceAnswersOnlyStatesOfItsOwnMode() async throws {
        let world = try await World()
        let live = try world.live()
        do {
            _ = try await live.finishOAuthLink(network: "x", state: "test_" + String(repeating: "A", count: 43), code: "c", error: nil, browserNonce: nil)
            Issue.record("a test-mode state was looked up in live mode")
        } catch let error as APIError {
            #expect(error.code == "oauth_state_unknown" && error.status == .notFound)
        }
    }
}
