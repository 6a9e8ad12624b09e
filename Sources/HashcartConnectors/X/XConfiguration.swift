import HashcartCore

/// What the X connector needs. Tokens come from the environment, never from a file.
public struct XConfiguration: Sendable, Hashable {
    /// `https://api.x.com`.
    public var apiURL: String
    /// The official account's user id (stable) and username (for stream rules).
    public var officialUserID: String
    public var officialUsername: String
    /// The app's Bearer token (filtered stream, rules, recent search): `HASHCART_X_BEARER_TOKEN`.
    public var bearerToken: String
    /// An OAuth 2.0 user token of the official account with `tweet.write` (posting):
    /// `HASHCART_X_USER_TOKEN`.
    public var userToken: String
    /// The app's consumer secret, for Account Activity webhooks (CRC and signatures):
    /// `HASHCART_X_CONSUMER_SECRET`; optional.
    public var consumerSecret: String?
    /// `backfill_minutes` on reconnect (1–5; Enterprise access only; 0: none).
    public var backfillMinutes = 0
    /// Pages of recent search (100 each) read per rule after a reconnect to fill the gap.
    public var recoveryPages = 5
    public var bufferCapacity = 10_000
    public var requestTimeoutSeconds: Int64 = 10
    /// X sends a keep-alive every 20 s: nothing for this long means the connection is dead.
    public var idleTimeoutSeconds: Int64 = 30
    /// At most this many live hashtags get a stream rule (X's plans cap rules at 1,000).
    public var maximumHashtagRules = 900
    /// "Sign in with X" for linking cards (OAuth 2.0 with PKCE); nil: cardholders link by code only.
    public var oauth: OAuthClientConfiguration?

    public init(apiURL: String = "https://api.x.com", officialUserID: String, officialUsername: String, bearerToken: String,
                userToken: String, consumerSecret: String? = nil) {
        self.apiURL = apiURL
        self.officialUserID = officialUserID
        self.officialUsername = officialUsername
        self.bearerToken = bearerToken
        self.userToken = userToken
        self.consumerSecret = consumerSecret
    }

    public func validated() throws(ValidationError) -> XConfiguration {
        guard Wire.isHTTPBase(apiURL) else { throw ValidationError(field: "x.api", message: "must be an http(s) URL, e.g. https://api.x.com") }
        guard XDecoder.isID(officialUserID) else { throw ValidationError(field: "x.official_user_id", message: "must be the account's numeric user id") }
        guard XDecoder.isUsername(officialUsername) else {
            throw ValidationError(field: "x.official_username", message: "must be the account's username without @ (letters, digits, _; at most 15)")
        }
        for (name, token) in [("HASHCART_X_BEARER_TOKEN", bearerToken), ("HASHCART_X_USER_TOKEN", userToken)] {
            guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw ValidationError(field: name, message: "must be set (see the README's X section)")
            }
        }
        guard (0...5).contains(backfillMinutes), (0...100).contains(recoveryPages), (1...1_000_000).contains(bufferCapacity),
            (1...120).contains(requestTimeoutSeconds), (10...600).contains(idleTimeoutSeconds), (1...999).contains(maximumHashtagRules)
        else {
            throw ValidationError(field: "x", message: "backfill 0–5 min, recovery pages 0–100, buffer 1–1000000, timeout 1–120 s, idle 10–600 s, hashtag rules 1–999")
        }
        _ = try oauth?.validated(network: .x, field: "x")
        return self
    }

    var apiBase: String { Wire.trimmedBase(apiURL) }
}

/// The filtered-stream rules Hashcart keeps: one per live offer's hashtag, one for retweets of the
/// official account (confirmations: per-purchase rules would not fit X's rule limits), one for
/// posts mentioning it (link codes, replies). Rules Hashcart did not make (other tags) are left alone.
public enum XRules {
    public static let tagPrefix = "hashcart:"
    public static let mentionsTag = "hashcart:mentions"

    public static func desired(hashtagKeys: Set<String>, officialUsername: String, limit: Int) -> [XAPI.Rule] {
        var rules = [
            XAPI.Rule(value: "retweets_of:\(officialUsername)", tag: XDecoder.confirmationRuleTag),
            XAPI.Rule(value: "@\(officialUsername) -is:retweet", tag: mentionsTag),
        ]
        for key in hashtagKeys.sorted().prefix(limit) {
            rules.append(XAPI.Rule(value: "#\(key) -is:retweet", tag: "hashcart:tag:\(key)"))
        }
        return rules
    }

    /// X's recent search takes queries of at most 512 characters.
    public static let maximumQueryLength = 512

    /// The recent-search queries that cover `rules` after a reconnect: the confirmations and
    /// mentions rules as they are, the hashtag rules OR-ed together into as few queries as fit
    /// (a query per hashtag rule would be up to 900 searches against X's 450 per 15 minutes).
    public static func recoveryQueries(for rules: [XAPI.Rule]) -> [XAPI.Rule] {
        var queries = rules.filter { !($0.tag?.hasPrefix("hashcart:tag:") ?? false) }
        let tags = rules.compactMap { rule -> String? in
            guard rule.tag?.hasPrefix("hashcart:tag:") == true, rule.value.hasPrefix("#") else { return nil }
            return String(rule.value.dropFirst().prefix { $0 != " " })
        }
        let suffix = " -is:retweet"
        var group: [String] = []
        func flush() {
            guard !group.isEmpty else { return }
            let value = group.count == 1 ? "#\(group[0])\(suffix)" : "(\(group.map { "#" + $0 }.joined(separator: " OR ")))\(suffix)"
            queries.append(XAPI.Rule(value: value, tag: "hashcart:tags"))
            group.removeAll()
        }
        for tag in tags {
            let grown = (group + [tag]).map { "#" + $0 }.joined(separator: " OR ").count + 2 + suffix.count
            if !group.isEmpty, grown > maximumQueryLength { flush() }
            group.append(tag)
        }
        flush()
        return queries
    }

    /// What to add and which rule ids to delete so that Hashcart's rules are exactly `desired`.
    public static func diff(current: [XAPI.Rule], desired: [XAPI.Rule]) -> (add: [XAPI.Rule], delete: [String]) {
        let ours = current.filter { $0.tag?.hasPrefix(tagPrefix) == true }
        let wanted = Set(desired.map { "\($0.tag ?? "")\u{1F}\($0.value)" })
        let have = Set(ours.map { "\($0.tag ?? "")\u{1F}\($0.value)" })
        let add = desired.filter { !have.contains("\($0.tag ?? "")\u{1F}\($0.value)") }
        let delete = ours.filter { !wanted.contains("\($0.tag ?? "")\u{1F}\($0.value)") }.compactMap(\.id)
        return (add, delete)
    }
}
