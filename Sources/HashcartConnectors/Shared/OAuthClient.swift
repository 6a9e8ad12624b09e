import AsyncHTTPClient
import Crypto
import Foundation
import HashcartCore

/// How Hashcart signs a cardholder in at a network with OAuth 2.0's authorization code grant and
/// PKCE (RFC 6749, RFC 7636): the app registered at the network, and where the network sends the
/// person back. The client secret comes from the environment, never from a file.
public struct OAuthClientConfiguration: Sendable, Hashable {
    public var clientID: String
    /// A confidential client's secret (sent as HTTP Basic, or in the body where the network wants it);
    /// nil for a public client (X allows one, with PKCE).
    public var clientSecret: String?
    /// Hashcart's callback, exactly as registered at the network, e.g.
    /// `https://pay.issuer.example/oauth/x/callback`.
    public var redirectURI: String
    /// Where the person signs in; default: the network's own page.
    public var authorizeURL: String?

    public init(clientID: String, clientSecret: String? = nil, redirectURI: String, authorizeURL: String? = nil) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.authorizeURL = authorizeURL
    }

    /// The callback path the redirect URI must end with: the route `hashcart serve` answers.
    public static func callbackPath(_ network: NetworkName) -> String { "/oauth/\(network)/callback" }

    public func validated(network: NetworkName, field: String) throws(ValidationError) -> OAuthClientConfiguration {
        func isToken(_ value: String) -> Bool { (1...512).contains(value.utf8.count) && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } }
        guard isToken(clientID) else { throw ValidationError(field: "\(field).oauth_client_id", message: "must be the app's client id (visible ASCII, at most 512)") }
        if let clientSecret, !isToken(clientSecret) {
            throw ValidationError(field: "\(field) client secret", message: "must be visible ASCII, at most 512 characters")
        }
        let loopback = redirectURI.hasPrefix("http://127.0.0.1:") || redirectURI.hasPrefix("http://localhost:")
        guard Wire.isHTTPBase(redirectURI), redirectURI.hasPrefix("https://") || loopback,
              redirectURI.hasSuffix(Self.callbackPath(network)) else {
            throw ValidationError(field: "\(field).oauth_redirect_uri",
                                  message: "must be https (or http on loopback), without a query, ending in \(Self.callbackPath(network))")
        }
        if let authorizeURL, !Wire.isHTTPBase(authorizeURL) {
            throw ValidationError(field: "\(field).oauth_authorize_url", message: "must be an http(s) URL without a query")
        }
        return self
    }
}

/// PKCE's S256 method (RFC 7636 §4.2): the challenge the network sees is the base64url SHA-256 of
/// the verifier only Hashcart holds.
public enum PKCE {
    public static func challenge(for verifier: String) -> String {
        base64URL(Array(SHA256.hash(data: Data(verifier.utf8))))
    }

    /// Base64url without padding (RFC 4648 §5).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A verifier or state from 32 bytes of the system's cryptographic generator: 43 characters.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}

/// The token half of the authorization code grant, shared by the networks: the authorize URL,
/// the code exchanged for an access token, and the token revoked once the account is read.
struct OAuthCodeExchange: Sendable {
    let configuration: OAuthClientConfiguration
    let http: ConnectorHTTP
    let authorizeURL: String
    let tokenURL: String
    let revokeURL: String
    let scopes: [String]
    /// Whether the client secret goes in the body (Mastodon) rather than as HTTP Basic (X).
    let secretInBody: Bool

    static let maximumCodeLength = 2_048

    func authorizationURL(state: String, codeVerifier: String) -> String {
        let query: [(String, String)] = [
            ("response_type", "code"), ("client_id", configuration.clientID), ("redirect_uri", configuration.redirectURI),
            ("scope", scopes.joined(separator: " ")), ("state", state), ("code_challenge", PKCE.challenge(for: codeVerifier)),
            ("code_challenge_method", "S256"),
        ]
        return authorizeURL + "?" + query.map { "\($0)=\(Wire.percentEncoded($1))" }.joined(separator: "&")
    }

    private struct TokenResponse: Decodable {
        var accessToken: String
        enum CodingKeys: String, CodingKey { case accessToken = "access_token" }
    }

    private struct OAuthProblem: Decodable {
        var error: String?
        var errorDescription: String?
        enum CodingKeys: String, CodingKey {
            case error
            case errorDescription = "error_description"
        }
    }

    private var clientAuthentication: (headers: [(String, String)], form: [(String, String)]) {
        guard let secret = configuration.clientSecret else { return ([], [("client_id", configuration.clientID)]) }
        if secretInBody { return ([], [("client_id", configuration.clientID), ("client_secret", secret)]) }
        let basic = Data("\(Wire.percentEncoded(configuration.clientID)):\(Wire.percentEncoded(secret))".utf8).base64EncodedString()
        return ([("Authorization", "Basic \(basic)")], [])
    }

    /// The access token for `code`; a refusal (a stale, forged or reused code) is not retryable.
    func accessToken(code: String, codeVerifier: String) async throws -> String {
        let auth = clientAuthentication
        let response = try await http.send(.POST, tokenURL, headers: auth.headers, form: [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", configuration.redirectURI), ("code_verifier", codeVerifier),
        ] + auth.form)
        guard response.status == 200 else {
            let problem = try? JSONDecoder().decode(OAuthProblem.self, from: response.body)
            if let problem, let error = problem.error, response.status < 500 {
                let detail = problem.errorDescription.map { ": \($0.prefix(200))" } ?? ""
                throw ConnectorError(network: http.network, message: "the sign-in was refused (\(error.prefix(60))\(detail))", isRetryable: false)
            }
            throw http.failure("exchanging the sign-in code", response)
        }
        guard let token = try? JSONDecoder().decode(TokenResponse.self, from: response.body).accessToken,
              (1...4_096).contains(token.utf8.count), token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConnectorError(network: http.network, message: "the token endpoint answered without a usable access_token", isRetryable: false)
        }
        return token
    }

    /// Exchanges `code` for a token, GETs `url` with it (the signed-in account), and revokes the
    /// token whatever happened: Hashcart keeps none. A non-200 answer is a ``ConnectorError``.
    func readAccount(code: String, codeVerifier: String, url: String) async throws -> Data {
        let token = try await accessToken(code: code, codeVerifier: codeVerifier)
        let response: ConnectorHTTP.Response
        do {
            response = try await http.send(.GET, url, headers: [("Authorization", "Bearer \(token)")])
        } catch {
            await revoke(token)
            throw error
        }
        await revoke(token)
        guard response.status == 200 else { throw http.failure("reading the signed-in account", response) }
        return response.body
    }

    /// Revokes the token, best effort: Hashcart keeps no token, and the network expires it anyway.
    func revoke(_ token: String) async {
        let auth = clientAuthentication
        _ = try? await http.send(.POST, revokeURL, headers: auth.headers, form: [("token", token), ("token_type_hint", "access_token")] + auth.form)
    }
}
