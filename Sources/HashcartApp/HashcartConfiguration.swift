import Foundation
import HashcartConnectors
import HashcartCore
import Yams

/// `hashcart.yaml`: the networks `hashcart serve` runs, their endpoints and official accounts.
///
/// ```yaml
/// sandbox: true            # keep the built-in sandbox network (default true)
/// networks:
///   bluesky:
///     jetstream: wss://jetstream2.us-east.bsky.network/subscribe
///     service: https://bsky.social
///     official_did: did:plc:…
///     identifier: shop.example.com
/// ```
///
/// Secrets never live in the file: each network's come from the environment
/// (``BlueskySettings/passwordVariable``). A key the file does not know, or a secret written
/// into it, is refused with the key's path, so a typo cannot silently turn a setting off.
public struct HashcartConfiguration: Sendable, Equatable {
    public var sandbox = true
    public var bluesky: BlueskyConfiguration?
    public var mastodon: MastodonConfiguration?
    public var x: XConfiguration?
    /// The issuer as ACH originator of payout files (`settlement:`); nil when not configured.
    public var settlement: NACHAOriginator?

    public static let maximumFileBytes = 64 * 1024

    public init() {}

    /// Reads and checks a config file; secrets from `environment`.
    public static func load(path: String, environment: [String: String]) throws(ConfigurationError) -> HashcartConfiguration {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ConfigurationError(path, "cannot read the file") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumFileBytes + 1)) ?? Data()
        guard data.count <= maximumFileBytes else { throw ConfigurationError(path, "over \(maximumFileBytes / 1024) KiB: not a Hashcart config") }
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigurationError(path, "not UTF-8 text") }
        return try parse(text, source: path, environment: environment)
    }

    /// Parses config text (YAML).
    public static func parse(_ text: String, source: String = "hashcart.yaml", environment: [String: String]) throws(ConfigurationError) -> HashcartConfiguration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(source, "not valid YAML: \(error)")
        }
        var configuration = HashcartConfiguration()
        guard let node else { return configuration }  // an empty file: defaults
        let root = try Table(node, path: "", source: source)
        try root.allowOnly(["sandbox", "networks", "settlement"])
        if let sandbox = try root.bool("sandbox") { configuration.sandbox = sandbox }
        if let networks = try root.table("networks") {
            try networks.allowOnly(["bluesky", "mastodon", "x"])
            if let bluesky = try networks.table("bluesky") {
                configuration.bluesky = try BlueskySettings.read(bluesky, environment: environment)
            }
            if let mastodon = try networks.table("mastodon") {
                configuration.mastodon = try MastodonSettings.read(mastodon, environment: environment)
            }
            if let x = try networks.table("x") {
                configuration.x = try XSettings.read(x, environment: environment)
            }
        }
        if let settlement = try root.table("settlement") {
            configuration.settlement = try SettlementSettings.read(settlement)
        }
        if !configuration.sandbox && configuration.bluesky == nil && configuration.mastodon == nil && configuration.x == nil {
            throw ConfigurationError(source, "sandbox: false and no network configured: nothing to run")
        }
        return configuration
    }

    /// The networks this configuration runs, in a stable order.
    public var networkNames: [NetworkName] {
        (sandbox ? [NetworkName.sandbox] : []) + (bluesky != nil ? [.bluesky] : []) + (mastodon != nil ? [.mastodon] : []) + (x != nil ? [.x] : [])
    }
}

/// Bluesky's section of `hashcart.yaml`.
public enum BlueskySettings {
    public static let passwordVariable = "HASHCART_BLUESKY_APP_PASSWORD"
    static let keys: Set<String> = ["jetstream", "service", "official_did", "identifier", "rewind_seconds", "buffer_events"]

    static func read(_ table: Table, environment: [String: String]) throws(ConfigurationError) -> BlueskyConfiguration {
        try table.allowOnly(keys)
        var configuration = BlueskyConfiguration(
            jetstreamURL: try table.string("jetstream") ?? "wss://jetstream2.us-east.bsky.network/subscribe",
            serviceURL: try table.string("service") ?? "https://bsky.social",
            officialDID: try table.require("official_did"),
            identifier: try table.require("identifier"),
            appPassword: environment[passwordVariable] ?? "")
        if let rewind = try table.int("rewind_seconds") { configuration.rewindSeconds = rewind }
        if let buffer = try table.int("buffer_events") { configuration.bufferCapacity = Int(buffer) }
        do {
            return try configuration.validated()
        } catch {
            throw ConfigurationError(table.source, "\(error.field): \(error.message)")
        }
    }
}

/// Mastodon's section of `hashcart.yaml`.
public enum MastodonSettings {
    public static let tokenVariable = "HASHCART_MASTODON_ACCESS_TOKEN"
    public static let oauthSecretVariable = "HASHCART_MASTODON_OAUTH_CLIENT_SECRET"
    static let keys: Set<String> = ["server", "streaming", "official_account", "hashtag_streams", "backfill_pages", "buffer_events",
                                    "oauth_client_id", "oauth_redirect_uri"]

    static func read(_ table: Table, environment: [String: String]) throws(ConfigurationError) -> MastodonConfiguration {
        try table.allowOnly(keys)
        var configuration = MastodonConfiguration(
            serverURL: try table.require("server"), officialAccountURI: try table.require("official_account"),
            accessToken: environment[tokenVariable] ?? "", streamingURL: try table.string("streaming"))
        if let streams = try table.int("hashtag_streams") { configuration.maximumHashtagStreams = Int(streams) }
        if let pages = try table.int("backfill_pages") { configuration.backfillPages = Int(pages) }
        if let buffer = try table.int("buffer_events") { configuration.bufferCapacity = Int(buffer) }
        configuration.oauth = try OAuthSettings.read(table, secret: environment[oauthSecretVariable])
        do {
            return try configuration.validated()
        } catch {
            throw ConfigurationError(table.source, "\(error.field): \(error.message)")
        }
    }
}

/// A network's OAuth sign-in for linking: `oauth_client_id` and `oauth_redirect_uri` together
/// (and X's optional `oauth_authorize_url`); the client secret from the environment.
enum OAuthSettings {
    static func read(_ table: Table, secret: String?) throws(ConfigurationError) -> OAuthClientConfiguration? {
        let clientID = try table.string("oauth_client_id"), redirect = try table.string("oauth_redirect_uri")
        let authorize = try table.string("oauth_authorize_url")
        guard let clientID else {
            guard redirect == nil, authorize == nil else {
                throw ConfigurationError(table.source, "oauth_redirect_uri and oauth_authorize_url need oauth_client_id")
            }
            return nil
        }
        guard let redirect else { throw ConfigurationError(table.source, "oauth_client_id needs oauth_redirect_uri (Hashcart's /oauth/<network>/callback)") }
        return OAuthClientConfiguration(clientID: clientID, clientSecret: secret.flatMap { $0.isEmpty ? nil : $0 }, redirectURI: redirect,
                                        authorizeURL: authorize)
    }
}

/// X's section of `hashcart.yaml`.
public enum XSettings {
    public static let bearerVariable = "HASHCART_X_BEARER_TOKEN"
    public static let userTokenVariable = "HASHCART_X_USER_TOKEN"
    public static let consumerSecretVariable = "HASHCART_X_CONSUMER_SECRET"
    public static let oauthSecretVariable = "HASHCART_X_OAUTH_CLIENT_SECRET"
    static let keys: Set<String> = ["api", "official_user_id", "official_username", "account_activity", "backfill_minutes", "recovery_pages",
                                    "hashtag_rules", "buffer_events", "oauth_client_id", "oauth_redirect_uri", "oauth_authorize_url"]

    static func read(_ table: Table, environment: [String: String]) throws(ConfigurationError) -> XConfiguration {
        try table.allowOnly(keys)
        var configuration = XConfiguration(
            apiURL: try table.string("api") ?? "https://api.x.com", officialUserID: try table.require("official_user_id"),
            officialUsername: try table.require("official_username"), bearerToken: environment[bearerVariable] ?? "",
            userToken: environment[userTokenVariable] ?? "")
        if try table.bool("account_activity") == true {
            guard let secret = environment[consumerSecretVariable], !secret.isEmpty else {
                throw ConfigurationError(table.source, "networks.x.account_activity needs \(consumerSecretVariable) (the app's consumer secret) in the environment")
            }
            configuration.consumerSecret = secret
        }
        if let minutes = try table.int("backfill_minutes") { configuration.backfillMinutes = Int(minutes) }
        if let pages = try table.int("recovery_pages") { configuration.recoveryPages = Int(pages) }
        if let rules = try table.int("hashtag_rules") { configuration.maximumHashtagRules = Int(rules) }
        if let buffer = try table.int("buffer_events") { configuration.bufferCapacity = Int(buffer) }
        configuration.oauth = try OAuthSettings.read(table, secret: environment[oauthSecretVariable])
        do {
            return try configuration.validated()
        } catch {
            throw ConfigurationError(table.source, "\(error.field): \(error.message)")
        }
    }
}

/// A config file Hashcart refuses, with where and why.
/// `settlement:`: who the payout files say they come from.
///
/// ```yaml
/// settlement:
///   destination_routing: "011000015"   # the bank or ACH operator the file goes to
///   destination_name: FEDERAL RESERVE BANK
///   origin_id: "1234567890"
///   origin_name: EXAMPLE ISSUER
///   company_name: EXAMPLE ISSUER
///   company_id: "1234567890"
///   odfi_routing: "021000021"          # the issuer's own bank
///   entry_description: PAYOUT          # optional
/// ```
enum SettlementSettings {
    static let keys: Set<String> = ["destination_routing", "destination_name", "origin_id", "origin_name", "company_name", "company_id",
                                    "odfi_routing", "entry_description"]

    static func read(_ table: Table) throws(ConfigurationError) -> NACHAOriginator {
        try table.allowOnly(keys)
        do {
            return try NACHAOriginator(
                destinationRouting: try table.require("destination_routing"), destinationName: try table.require("destination_name"),
                originID: try table.require("origin_id"), originName: try table.require("origin_name"),
                companyName: try table.require("company_name"), companyID: try table.require("company_id"),
                odfiRouting: try table.require("odfi_routing"), entryDescription: try table.string("entry_description") ?? "PAYOUT")
        } catch let error as ValidationError {
            throw ConfigurationError(table.source, "\(error.field): \(error.message)")
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(table.source, "\(error)")
        }
    }
}

public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var message: String

    init(_ source: String, _ message: String) {
        self.source = source
        self.message = message
    }

    public var description: String { "\(source): \(message)" }
}

/// A YAML mapping read strictly: known keys only, typed values, paths in every message.
struct Table {
    let mapping: Node.Mapping
    let path: String
    let source: String

    static let secretWords = ["password", "secret", "token", "key"]

    init(_ node: Node, path: String, source: String) throws(ConfigurationError) {
        guard let mapping = node.mapping else {
            throw ConfigurationError(source, "\(path.isEmpty ? "the file" : path) must be a mapping of keys to values")
        }
        self.mapping = mapping
        self.path = path
        self.source = source
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { mapping[Node(key)] != nil }

    func allowOnly(_ known: Set<String>) throws(ConfigurationError) {
        for (key, _) in mapping {
            guard let text = key.string else { throw ConfigurationError(source, "\(path.isEmpty ? "the file" : path) has a key that is not text") }
            if Self.secretWords.contains(where: { text.lowercased().contains($0) }) {
                throw ConfigurationError(source, "\(name(text)): secrets are never read from the file; set them in the environment")
            }
            guard known.contains(text) else {
                throw ConfigurationError(source, "\(name(text)): unknown setting (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
    }

    func table(_ key: String) throws(ConfigurationError) -> Table? {
        guard let node = mapping[Node(key)] else { return nil }
        return try Table(node, path: name(key), source: source)
    }

    func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let node = mapping[Node(key)] else { return nil }
        guard let scalar = node.scalar, !scalar.string.isEmpty, scalar.string.utf8.count <= 2_048 else {
            throw ConfigurationError(source, "\(name(key)) must be a non-empty text of at most 2048 bytes")
        }
        return scalar.string
    }

    func require(_ key: String) throws(ConfigurationError) -> String {
        guard let value = try string(key) else { throw ConfigurationError(source, "\(name(key)) is required") }
        return value
    }

    func int(_ key: String) throws(ConfigurationError) -> Int64? {
        guard let node = mapping[Node(key)] else { return nil }
        guard let value = node.scalar.flatMap({ Int64($0.string) }) else { throw ConfigurationError(source, "\(name(key)) must be a whole number") }
        return value
    }

    func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let node = mapping[Node(key)] else { return nil }
        switch node.scalar?.string {
        case "true": return true
        case "false": return false
        default: throw ConfigurationError(source, "\(name(key)) must be true or false")
        }
    }
}
