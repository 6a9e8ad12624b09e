import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A network's OAuth 2.0 authorization server on loopback, as RFC 6749 and RFC 7636 describe it
/// and as X and Mastodon run theirs: the authorize page (the browser's signed-in user, named by the
/// `X-Fake-Signed-In` header, approves or, with `X-Fake-Consent: deny`, declines, and is sent back
/// to the registered redirect URI with `code` and `state`, or `error`), the token endpoint (form
/// body; client authentication by HTTP Basic or in the body; codes used once, within 30 s, for the
/// same client and redirect URI, and only with the verifier whose S256 challenge came with them),
/// and revocation. It checks PKCE with its own SHA-256, not Hashcart's.
public final class FakeOAuthServer: Sendable {
    public struct Client: Sendable {
        public var id: String
        public var secret: String?
        public var redirectURI: String
        /// Mastodon takes the secret in the body; X as HTTP Basic.
        public var secretInBody: Bool

        public init(id: String, secret: String?, redirectURI: String, secretInBody: Bool) {
            self.id = id
            self.secret = secret
            self.redirectURI = redirectURI
            self.secretInBody = secretInBody
        }
    }

    struct Grant: Sendable {
        var userID: String
        var clientID: String
        var redirectURI: String
        var challenge: String
        var issuedAt: Date
        var used: Bool
    }

    public let clients = Mutex<[String: Client]>([:])
    let grants = Mutex<[String: Grant]>([:])
    /// Access tokens issued and not revoked, with the user each acts as.
    public let tokens = Mutex<[String: String]>([:])
    public let revoked = Mutex<[String]>([])
    public let tokenRequests = Mutex<Int>(0)
    /// Answer the next token request with this status and no token (503: an outage).
    public let failNextTokenRequest = Mutex<HTTPResponse.Status?>(nil)
    let codeLifetime: TimeInterval = 30

    public init() {}

    public func register(_ client: Client) { clients.withLock { $0[client.id] = client } }

    /// What a browser signed in as `userID` at the network gets from `authorizeURL` (approving, or
    /// declining with `deny`): the address it is sent back to (`Location`), or nil when the network
    /// answers with a page of its own (an unknown client, a redirect URI not registered).
    public static func approve(_ authorizeURL: String, as userID: String, deny: Bool = false) async throws -> String? {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        var request = HTTPClientRequest(url: authorizeURL)
        request.headers.add(name: "X-Fake-Signed-In", value: userID)
        if deny { request.headers.add(name: "X-Fake-Consent", value: "deny") }
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 16)
            try await client.shutdown()
            return response.status == .found ? response.headers.first(name: "location") : nil
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The path and query of a redirect back to Hashcart (`/oauth/x/callback?code=…&state=…`).
    public static func pathAndQuery(_ url: String) -> String {
        guard let components = URLComponents(string: url) else { return url }
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    /// The user an `Authorization: Bearer` token issued here acts as.
    public func user(bearer header: String?) -> String? {
        guard let header, header.hasPrefix("Bearer ") else { return nil }
        let token = String(header.dropFirst(7))
        return tokens.withLock { $0[token] }
    }

    func mount(on router: Router<BasicRequestContext>, authorize: String, token: String, revoke: String, knownUser: @escaping @Sendable (String) -> Bool) {
        router.get(RouterPath(authorize)) { request, _ -> Response in
            let query = request.uri.queryParameters
            guard let clientID = query.get("client_id"), let client = self.clients.withLock({ $0[clientID] }) else {
                return Self.page(.badRequest, "unknown client")
            }
            // A redirect URI that is not the registered one is never redirected to.
            guard query.get("redirect_uri") == client.redirectURI else { return Self.page(.badRequest, "redirect_uri mismatch") }
            guard let user = request.headers[HTTPField.Name("X-Fake-Signed-In")!], knownUser(user) else {
                return Self.page(.unauthorized, "sign in first")
            }
            let state = query.get("state")
            func back(_ parameters: [(String, String?)]) -> Response {
                let items = parameters.compactMap { name, value in value.map { "\(name)=\(Self.encoded($0))" } }
                return Response(status: .found, headers: [.location: client.redirectURI + "?" + items.joined(separator: "&")])
            }
            guard query.get("response_type") == "code" else { return back([("error", "unsupported_response_type"), ("state", state)]) }
            guard let challenge = query.get("code_challenge"), query.get("code_challenge_method") == "S256" else {
                return back([("error", "invalid_request"), ("error_description", "PKCE S256 is required"), ("state", state)])
            }
            if request.headers[HTTPField.Name("X-Fake-Consent")!] == "deny" { return back([("error", "access_denied"), ("state", state)]) }
            let code = "code-" + UUID().uuidString
            self.grants.withLock {
                $0[code] = Grant(userID: user, clientID: clientID, redirectURI: client.redirectURI, challenge: String(challenge), issuedAt: Date(), used: false)
            }
            return back([("code", code), ("state", state)])
        }
        router.post(RouterPath(token)) { request, _ -> Response in
            self.tokenRequests.withLock { $0 += 1 }
            if let status = self.failNextTokenRequest.withLock({ value in defer { value = nil }; return value }) {
                return Response(status: status)
            }
            let form = try await Self.form(request)
            guard let client = self.authenticate(request, form) else { return Self.problem(.unauthorized, "invalid_client", "client authentication failed") }
            guard form["grant_type"] == "authorization_code" else { return Self.problem(.badRequest, "unsupported_grant_type", "") }
            guard let code = form["code"], let verifier = form["code_verifier"] else { return Self.problem(.badRequest, "invalid_request", "code and code_verifier are required") }
            let grant: Grant? = self.grants.withLock { grants in
                guard var grant = grants[code], !grant.used else { return nil }
                grant.used = true
                grants[code] = grant
                return grant
            }
            guard let grant, grant.clientID == client.id, Date().timeIntervalSince(grant.issuedAt) < self.codeLifetime,
                  form["redirect_uri"] == grant.redirectURI, Self.s256(verifier) == grant.challenge else {
                return Self.problem(.badRequest, "invalid_grant", "Value passed for the authorization code was invalid.")
            }
            let access = "access-" + UUID().uuidString
            self.tokens.withLock { $0[access] = grant.userID }
            return Self.json(["token_type": "bearer", "expires_in": 7200, "access_token": access, "scope": "users.read"])
        }
        router.post(RouterPath(revoke)) { request, _ -> Response in
            let form = try await Self.form(request)
            guard self.authenticate(request, form) != nil else { return Self.problem(.unauthorized, "invalid_client", "client authentication failed") }
            if let token = form["token"] {
                self.tokens.withLock { _ = $0.removeValue(forKey: token) }
                self.revoked.withLock { $0.append(token) }
            }
            return Self.json(["revoked": true])
        }
    }

    func authenticate(_ request: Request, _ form: [String: String]) -> Client? {
        if let header = request.headers[.authorization], header.hasPrefix("Basic "),
           let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
           let colon = decoded.firstIndex(of: ":") {
            let id = String(decoded[..<colon]).removingPercentEncoding ?? "", secret = String(decoded[decoded.index(after: colon)...]).removingPercentEncoding
            guard let client = clients.withLock({ $0[id] }), !client.secretInBody, client.secret != nil, client.secret == secret else { return nil }
            return client
        }
        guard let id = form["client_id"], let client = clients.withLock({ $0[id] }) else { return nil }
        if let secret = client.secret { return client.secretInBody && form["client_secret"] == secret ? client : nil }
        return client
    }

    static func s256(_ verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    static func encoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func problem(_ status: HTTPResponse.Status, _ error: String, _ description: String) -> Response {
        json(["error": error, "error_description": description], status: status)
    }

    static func page(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<p>\(text)</p>")))
    }
}
