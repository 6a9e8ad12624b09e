import Foundation
import HashcartApp
import HashcartConnectors
import HashcartCore
import Testing

/// `hashcart.yaml`: what an operator writes, and every way it can be wrong.
@Suite("hashcart.yaml")
struct ConfigurationTests {
    static let environment = ["HASHCART_BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop", "HASHCART_MASTODON_ACCESS_TOKEN": "token-0123456789",
                              "HASHCART_X_BEARER_TOKEN": "app-token", "HASHCART_X_USER_TOKEN": "user-token"]

    @Test("an X network: ids in the file, the tokens and (for Account Activity) the consumer secret from the environment")
    func x() throws {
        let text = "networks:\n  x:\n    official_user_id: '999'\n    official_username: ShopBot\n    account_activity: true"
        var environment = Self.environment
        environment["HASHCART_X_CONSUMER_SECRET"] = "consumer-secret"
        let configuration = try HashcartConfiguration.parse(text, environment: environment)
        let x = try #require(configuration.x)
        #expect(x.apiURL == "https://api.x.com")
        #expect(x.bearerToken == "app-token")
        #expect(x.userToken == "user-token")
        #expect(x.consumerSecret == "consumer-secret")
        #expect(configuration.networkNames == [.sandbox, .x])
        do {
            _ = try HashcartConfiguration.parse("networks:\n  x:\n    official_user_id: '999'\n    official_username: ShopBot", environment: [:])
            Issue.record("accepted without tokens")
        } catch {
            #expect(error.description.contains("HASHCART_X_BEARER_TOKEN"))
        }
    }

    @Test("a Mastodon network: server, official account URI, the token from the environment")
    func mastodon() throws {
        let configuration = try HashcartConfiguration.parse("""
            sandbox: false
            networks:
              mastodon:
                server: https://mastodon.social
                official_account: https://mastodon.social/users/shop
                hashtag_streams: 20
            """, environment: Self.environment)
        #expect(configuration.networkNames == [.mastodon])
        let mastodon = try #require(configuration.mastodon)
        #expect(mastodon.accessToken == "token-0123456789")
        #expect(mastodon.maximumHashtagStreams == 20)
        do {
            _ = try HashcartConfiguration.parse("networks:\n  mastodon:\n    server: https://m.example\n    official_account: https://m.example/users/shop",
                                                environment: [:])
            Issue.record("accepted without a token")
        } catch {
            #expect(error.description.contains("HASHCART_MASTODON_ACCESS_TOKEN"))
        }
    }

    @Test("OAuth sign-in for linking: the app's id and callback in the file, its secret from the environment; every mistake named")
    func oauth() throws {
        let x = "networks:\n  x:\n    official_user_id: '999'\n    official_username: ShopBot\n"
        let mastodon = "networks:\n  mastodon:\n    server: https://m.example\n    official_account: https://m.example/users/shop\n"
        var environment = Self.environment
        environment["HASHCART_X_OAUTH_CLIENT_SECRET"] = "x-secret"
        environment["HASHCART_MASTODON_OAUTH_CLIENT_SECRET"] = "m-secret"
        let configured = try HashcartConfiguration.parse(x + "    oauth_client_id: abc\n    oauth_redirect_uri: https://pay.example/oauth/x/callback\n",
                                                         environment: environment)
        #expect(configured.x?.oauth == OAuthClientConfiguration(clientID: "abc", clientSecret: "x-secret", redirectURI: "https://pay.example/oauth/x/callback"))
        // X allows a public client (PKCE, no secret).
        let publicClient = try HashcartConfiguration.parse(x + "    oauth_client_id: abc\n    oauth_redirect_uri: https://pay.example/oauth/x/callback\n",
                                                           environment: Self.environment)
        #expect(publicClient.x?.oauth?.clientSecret == nil)
        let mastodonConfigured = try HashcartConfiguration.parse(
            mastodon + "    oauth_client_id: m\n    oauth_redirect_uri: https://pay.example/oauth/mastodon/callback\n", environment: environment)
        #expect(mastodonConfigured.mastodon?.oauth?.clientSecret == "m-secret")
        #expect(try HashcartConfiguration.parse(x, environment: Self.environment).x?.oauth == nil)

        let refused: [(String, [String: String], String)] = [
            (x + "    oauth_client_id: abc\n", environment, "oauth_redirect_uri"),
            (x + "    oauth_redirect_uri: https://pay.example/oauth/x/callback\n", environment, "need oauth_client_id"),
            (x + "    oauth_client_id: abc\n    oauth_redirect_uri: http://pay.example/oauth/x/callback\n", environment, "https"),
            (x + "    oauth_client_id: abc\n    oauth_redirect_uri: https://pay.example/oauth/mastodon/callback\n", environment, "/oauth/x/callback"),
            (x + "    oauth_client_id: abc\n    oauth_redirect_uri: https://pay.example/oauth/x/callback?next=evil\n", environment, "query"),
            (x + "    oauth_client_id: 'a b'\n    oauth_redirect_uri: https://pay.example/oauth/x/callback\n", environment, "client id"),
            (x + "    oauth_client_id: abc\n    oauth_redirect_uri: https://pay.example/oauth/x/callback\n    oauth_authorize_url: javascript:alert(1)\n",
             environment, "oauth_authorize_url"),
            (mastodon + "    oauth_client_id: m\n    oauth_redirect_uri: https://pay.example/oauth/mastodon/callback\n", Self.environment,
             "HASHCART_MASTODON_OAUTH_CLIENT_SECRET"),
            (mastodon + "    oauth_client_id: m\n    oauth_redirect_uri: https://pay.example/oauth/mastodon/callback\n    oauth_authorize_url: https://m.example/a\n",
             environment, "oauth_authorize_url"),
        ]
        for (text, env, message) in refused {
            do {
                _ = try HashcartConfiguration.parse(text, environment: env)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
    }

    @Test("a Bluesky network with defaults for the endpoints; the password from the environment")
    func bluesky() throws {
        let configuration = try HashcartConfiguration.parse("""
            # the shop's networks
            networks:
              bluesky:
                official_did: did:plc:shopbotbbbbbbbbbbbbbbbbb
                identifier: shop.example.com
                rewind_seconds: 10
            """, environment: Self.environment)
        #expect(configuration.sandbox)
        #expect(configuration.networkNames == [.sandbox, .bluesky])
        let bluesky = try #require(configuration.bluesky)
        #expect(bluesky.jetstreamURL == "wss://jetstream2.us-east.bsky.network/subscribe")
        #expect(bluesky.serviceURL == "https://bsky.social")
        #expect(bluesky.appPassword == "abcd-efgh-ijkl-mnop")
        #expect(bluesky.rewindSeconds == 10)
    }

    static let settlement = """
        settlement:
          destination_routing: "011000015"
          destination_name: FEDERAL RESERVE BANK
          origin_id: "1234567890"
          origin_name: EXAMPLE ISSUER
          company_name: EXAMPLE ISSUER
          company_id: "1234567890"
          odfi_routing: "021000021"

        """

    @Test("a settlement section names the ACH originator, checked field by field")
    func settlementOriginator() throws {
        let originator = try #require(try HashcartConfiguration.parse(Self.settlement, environment: [:]).settlement)
        #expect(originator.odfiRouting == "021000021" && originator.companyName == "EXAMPLE ISSUER" && originator.entryDescription == "PAYOUT")
        #expect(try HashcartConfiguration.parse("", environment: [:]).settlement == nil)
    }

    @Test("an empty file is the zero-config default: the sandbox only")
    func empty() throws {
        #expect(try HashcartConfiguration.parse("", environment: [:]).networkNames == [.sandbox])
        #expect(try HashcartConfiguration.parse("# nothing yet\n", environment: [:]).networkNames == [.sandbox])
    }

    @Test("every wrong file is refused with the setting's path", arguments: [
        ("networks: [", "not valid YAML"),
        ("- a\n- b", "must be a mapping"),
        ("sandbox: maybe", "sandbox must be true or false"),
        ("sandboxx: true", "sandboxx: unknown setting"),
        ("networks:\n  myspace: {}", "networks.myspace: unknown setting"),
        ("networks:\n  bluesky:\n    identifier: shop", "networks.bluesky.official_did is required"),
        ("networks:\n  bluesky:\n    official_did: did:plc:a\n    identifer: shop", "networks.bluesky.identifer: unknown setting"),
        ("networks:\n  bluesky:\n    official_did: did:plc:a\n    identifier: shop\n    app_password: hunter2", "secrets are never read from the file"),
        ("networks:\n  bluesky:\n    official_did: alice\n    identifier: shop", "bluesky.official_did"),
        ("networks:\n  bluesky:\n    official_did: did:plc:a\n    identifier: shop\n    jetstream: https://x", "bluesky.jetstream"),
        ("networks:\n  bluesky:\n    official_did: did:plc:a\n    identifier: shop\n    rewind_seconds: soon", "rewind_seconds must be a whole number"),
        ("networks:\n  bluesky:\n    official_did: did:plc:a\n    identifier: shop\n    rewind_seconds: 99999", "rewind 0–3600"),
        ("networks:\n  bluesky: yes", "networks.bluesky must be a mapping"),
        ("networks:\n  x:\n    official_username: ShopBot", "networks.x.official_user_id is required"),
        ("networks:\n  x:\n    official_user_id: '999'\n    official_username: ShopBot\n    account_activity: true", "HASHCART_X_CONSUMER_SECRET"),
        ("networks:\n  x:\n    official_user_id: ShopBot\n    official_username: ShopBot", "x.official_user_id"),
        ("networks:\n  x:\n    official_user_id: '999'\n    official_username: ShopBot\n    consumer_secret: s", "secrets are never read"),
        ("networks:\n  mastodon:\n    server: https://mastodon.social", "networks.mastodon.official_account is required"),
        ("networks:\n  mastodon:\n    server: mastodon.social\n    official_account: https://mastodon.social/users/shop", "mastodon.server"),
        ("networks:\n  mastodon:\n    server: https://m.example\n    official_account: shop", "mastodon.official_account"),
        ("networks:\n  mastodon:\n    server: https://m.example\n    official_account: https://m.example/users/shop\n    access_token: abc", "secrets are never read"),
        ("networks:\n  mastodon:\n    server: https://m.example\n    official_account: https://m.example/users/shop\n    hashtag_streams: 0", "hashtag streams 1–500"),
        ("sandbox: false", "nothing to run"),
        ("settlement: yes", "settlement must be a mapping"),
        (Self.settlement.replacingOccurrences(of: "  company_id: \"1234567890\"\n", with: ""), "settlement.company_id is required"),
        (Self.settlement + "  immediate_origin: x\n", "settlement.immediate_origin: unknown setting"),
        (Self.settlement.replacingOccurrences(of: "021000021", with: "021000022"), "settlement.odfi_routing"),
        (Self.settlement.replacingOccurrences(of: "021000021", with: "０21000021"), "settlement.odfi_routing"),
        (Self.settlement.replacingOccurrences(of: "EXAMPLE ISSUER", with: "example issuer"), "settlement.origin_name"),
        (Self.settlement.replacingOccurrences(of: "EXAMPLE ISSUER", with: "EXAMPLE\u{202E}ISSUER"), "settlement.origin_name"),
        (Self.settlement.replacingOccurrences(of: "EXAMPLE ISSUER", with: "EXAMPLE ＩSSUER"), "settlement.origin_name"),
        (Self.settlement.replacingOccurrences(of: "EXAMPLE ISSUER", with: String(repeating: "X", count: 24)), "settlement.origin_name"),
    ])
    func refused(_ text: String, _ message: String) {
        do {
            _ = try HashcartConfiguration.parse(text, environment: Self.environment)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test("without the app password in the environment, the Bluesky section is refused")
    func missingSecret() {
        do {
            _ = try HashcartConfiguration.parse("networks:\n  bluesky:\n    official_did: did:plc:a\n    identifier: shop", environment: [:])
            Issue.record("accepted without a password")
        } catch {
            #expect(error.description.contains("HASHCART_BLUESKY_APP_PASSWORD"))
        }
    }

    @Test("a file that is not a config: missing, binary, oversize")
    func files() throws {
        #expect(throws: ConfigurationError.self) { try HashcartConfiguration.load(path: "/nonexistent/hashcart.yaml", environment: [:]) }
        let path = NSTemporaryDirectory() + "hashcart-config-\(UInt64.random(in: 0...UInt64.max)).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data([0xFF, 0xFE, 0x00, 0x01])))
        #expect(throws: ConfigurationError.self) { try HashcartConfiguration.load(path: path, environment: [:]) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x23, count: 100_000)))
        #expect(throws: ConfigurationError.self) { try HashcartConfiguration.load(path: path, environment: [:]) }
    }
}
