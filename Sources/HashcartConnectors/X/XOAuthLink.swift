import AsyncHTTPClient
import Foundation
import HashcartCore

/// Links an X account by "Sign in with X": OAuth 2.0 authorization code with PKCE, scopes
/// `users.read tweet.read`; the token reads `GET /2/users/me` once and is revoked.
public struct XOAuthLink: OAuthLinkProvider {
    public let network = NetworkName.x
    public static let defaultAuthorizeURL = "https://x.com/i/oauth2/authorize"
    let exchange: OAuthCodeExchange
    let apiBase: String

    public init(configuration: XConfiguration, oauth: OAuthClientConfiguration, clock: any WallClock, client: HTTPClient = .shared) throws(ValidationError) {
        let oauth = try oauth.validated(network: .x, field: "x")
        let base = configuration.apiBase
        apiBase = base
        exchange = OAuthCodeExchange(
            configuration: oauth,
            http: ConnectorHTTP(network: .x, client: client, gate: RateLimitGate(network: .x), clock: clock, timeoutSeconds: configuration.requestTimeoutSeconds),
            authorizeURL: Wire.trimmedBase(oauth.authorizeURL ?? Self.defaultAuthorizeURL), tokenURL: base + "/2/oauth2/token",
            revokeURL: base + "/2/oauth2/revoke", scopes: ["users.read", "tweet.read"], secretInBody: false)
    }

    public func authorizationURL(state: String, codeVerifier: String) -> String {
        exchange.authorizationURL(state: state, codeVerifier: codeVerifier)
    }

    private struct Me: Decodable { var data: XAPI.User }

    public func identity(code: String, codeVerifier: String) async throws -> SocialIdentity {
        let body = try await exchange.readAccount(code: code, codeVerifier: codeVerifier, url: apiBase + "/2/users/me")
        guard let user = try? JSONDecoder().decode(Me.self, from: body).data, XDecoder.isID(user.id), XDecoder.isUsername(user.username) else {
            throw ConnectorError(network: .x, message: "GET /2/users/me answered without a readable id and username", isRetryable: false)
        }
        return SocialIdentity(network: .x, userID: user.id, handle: "@" + user.username)
    }
}
