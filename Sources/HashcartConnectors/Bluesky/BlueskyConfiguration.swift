import HashcartCore

/// What the Bluesky connector needs. Secrets (the app password) come from the environment, never
/// from a config file.
public struct BlueskyConfiguration: Sendable, Hashable {
    /// Jetstream's subscribe endpoint, e.g. `wss://jetstream2.us-east.bsky.network/subscribe`.
    public var jetstreamURL: String
    /// The official account's PDS (or the `https://bsky.social` entryway) for createSession and createRecord.
    public var serviceURL: String
    /// The official account's DID: its posts' reposts are confirmations.
    public var officialDID: String
    /// The handle or DID to sign in with.
    public var identifier: String
    /// An app password (Settings → App passwords), from `HASHCART_BLUESKY_APP_PASSWORD`.
    public var appPassword: String
    /// How far to rewind the cursor on reconnect (Jetstream replays from it; duplicates are dropped).
    public var rewindSeconds: Int64 = 5
    /// Events buffered between the stream and the engine before the stream waits.
    public var bufferCapacity = 10_000
    public var requestTimeoutSeconds: Int64 = 10

    public init(jetstreamURL: String, serviceURL: String, officialDID: String, identifier: String, appPassword: String) {
        self.jetstreamURL = jetstreamURL
        self.serviceURL = serviceURL
        self.officialDID = officialDID
        self.identifier = identifier
        self.appPassword = appPassword
    }

    /// Refuses a configuration that cannot work, saying which setting is wrong.
    public func validated() throws(ValidationError) -> BlueskyConfiguration {
        guard jetstreamURL.hasPrefix("ws://") || jetstreamURL.hasPrefix("wss://"), !jetstreamURL.contains("?") else {
            throw ValidationError(field: "bluesky.jetstream", message: "must be a ws:// or wss:// URL without a query, e.g. wss://jetstream2.us-east.bsky.network/subscribe")
        }
        guard serviceURL.hasPrefix("http://") || serviceURL.hasPrefix("https://") else {
            throw ValidationError(field: "bluesky.service", message: "must be an http(s) URL, e.g. https://bsky.social")
        }
        guard JetstreamDecoder.isDID(officialDID) else {
            throw ValidationError(field: "bluesky.official_did", message: "must be a DID, e.g. did:plc:…")
        }
        guard !identifier.isEmpty, identifier.utf8.count <= 256 else {
            throw ValidationError(field: "bluesky.identifier", message: "must be the official account's handle or DID")
        }
        guard !appPassword.isEmpty else {
            throw ValidationError(field: "HASHCART_BLUESKY_APP_PASSWORD", message: "must be set to an app password of the official account")
        }
        guard (0...3_600).contains(rewindSeconds), (1...1_000_000).contains(bufferCapacity), (1...120).contains(requestTimeoutSeconds) else {
            throw ValidationError(field: "bluesky", message: "rewind 0–3600 s, buffer 1–1000000 events, timeout 1–120 s")
        }
        return self
    }
}
