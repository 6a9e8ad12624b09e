import AsyncHTTPClient
import Foundation
import HashcartCore

/// Links a Mastodon account of the official account's server by its OAuth authorization code
/// (with PKCE, which Mastodon 4.3 checks and older servers ignore), scope `read:accounts`; the token
/// reads `GET /api/v1/accounts/verify_credentials` once and is revoked. The identity is the
/// account's URI, as the streams name authors, so posts from it match the link.
public struct MastodonOAuthLink: OAuthLinkProvider {
    public let network = NetworkName.mastodon
    let exchange: OAuthCodeExchange
    let serverBase: String

    public init(configuration: MastodonConfiguration, oauth: OAuthClientConfiguration, clock: any WallClock,
                client: HTTPClient = .shared) throws(ValidationError) {
        let oauth = try oauth.validated(network: .mastodon, field: "mastodon")
        guard oauth.clientSecret != nil else {
            throw ValidationError(field: "mastodon client secret", message: "Mastodon apps are confidential: the client secret is required")
        }
        let base = Wire.trimmedBase(configuration.serverURL)
        serverBase = base
        exchange = OAuthCodeExchange(
            configuration: oauth,
            http: ConnectorHTTP(network: .mastodon, client: client, gate: RateLimitGate(network: .mastodon), clock: clock,
                                timeoutSeconds: configuration.requestTimeoutSeconds),
            authorizeURL: Wire.trimmedBase(oauth.authorizeURL ?? base + "/oauth/authorize"), tokenURL: base + "/oauth/token",
            revokeURL: base + "/oauth/revoke", scopes: ["read:accounts"], secretInBody: true)
    }

    public func authorizationURL(state: String, codeVerifier: String) -> String {
        exchange.authorizationURL(state: state, codeVerifier: codeVerifier)
    }

    public func identity(code: String, codeVerifier: String) async throws -> SocialIdentity {
        let body = try await exchange.readAccount(code: code, codeVerifier: codeVerifier, url: serverBase + "/api/v1/accounts/verify_credentials")
        guard let account = try? JSONDecoder().decode(Mastodon.Account.self, from: body),
              let identity = try? MastodonDecoder(officialAccountURI: "").identity(account),
              identity.userID.utf8.count <= NetworkEvent.maximumIDLength, (2...400).contains(identity.handle.utf8.count) else {
            throw ConnectorError(network: .mastodon, message: "verify_credentials answered without a readable account URI", isRetryable: false)
        }
        return identity
    }
}
