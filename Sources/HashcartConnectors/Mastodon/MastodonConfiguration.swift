import HashcartCore

/// What the Mastodon connector needs. The access token comes from the environment.
public struct MastodonConfiguration: Sendable, Hashable {
    /// The official account's server, e.g. `https://mastodon.social`.
    public var serverURL: String
    /// The streaming API's base when it is on another host (`configuration.urls.streaming` of
    /// `/api/v2/instance`); default: the server.
    public var streamingURL: String?
    /// The official account's URI (its ActivityPub id, e.g. `https://mastodon.social/users/shop`).
    public var officialAccountURI: String
    /// A user token of the official account with `read` and `write:statuses`, from
    /// `HASHCART_MASTODON_ACCESS_TOKEN`.
    public var accessToken: String
    /// At most this many live offers' hashtag streams at once (one HTTP connection each).
    public var maximumHashtagStreams = 50
    /// Pages of 40 read from a timeline after a reconnect, per stream.
    public var backfillPages = 25
    public var bufferCapacity = 10_000
    public var requestTimeoutSeconds: Int64 = 10
    /// A stream that sends nothing, not even a heartbeat, for this long is reconnected.
    public var idleTimeoutSeconds: Int64 = 90
    /// Linking cards by signing in on the server (authorization code); nil: by code only. Only
    /// accounts of this server can sign in here; others link by code.
    public var oauth: OAuthClientConfiguration?

    public init(serverURL: String, officialAccountURI: String, accessToken: String, streamingURL: String? = nil) {
        self.serverURL = serverURL
        self.officialAccountURI = officialAccountURI
        self.accessToken = accessToken
        self.streamingURL = streamingURL
    }

    public func validated() throws(ValidationError) -> MastodonConfiguration {
        guard Wire.isHTTPBase(serverURL) else {
            throw ValidationError(field: "mastodon.server", message: "must be an http(s) URL without a query, e.g. https://mastodon.social")
        }
        if let streamingURL, !Wire.isHTTPBase(streamingURL) {
            throw ValidationError(field: "mastodon.streaming", message: "must be an http(s) URL without a query")
        }
        guard Wire.isHTTPBase(officialAccountURI), officialAccountURI.utf8.count <= NetworkEvent.maximumIDLength else {
            throw ValidationError(field: "mastodon.official_account", message: "must be the account's URI, e.g. https://mastodon.social/users/shop")
        }
        guard !accessToken.isEmpty, accessToken.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ValidationError(field: "HASHCART_MASTODON_ACCESS_TOKEN", message: "must be set to an access token of the official account")
        }
        guard (1...500).contains(maximumHashtagStreams), (0...1_000).contains(backfillPages), (1...1_000_000).contains(bufferCapacity),
            (1...120).contains(requestTimeoutSeconds), (10...3_600).contains(idleTimeoutSeconds)
        else {
            throw ValidationError(field: "mastodon", message: "hashtag streams 1–500, backfill pages 0–1000, buffer 1–1000000, timeout 1–120 s, idle 10–3600 s")
        }
        if let oauth {
            _ = try oauth.validated(network: .mastodon, field: "mastodon")
            guard oauth.clientSecret != nil else {
                throw ValidationError(field: "HASHCART_MASTODON_OAUTH_CLIENT_SECRET", message: "must be set with mastodon.oauth_client_id (Mastodon apps are confidential)")
            }
        }
        return self
    }

    var streamingBase: String { Wire.trimmedBase(streamingURL ?? serverURL) }
    var serverBase: String { Wire.trimmedBase(serverURL) }
}
