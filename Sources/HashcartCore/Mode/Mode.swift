/// Live or test: the two worlds one Hashcart runs, as in Stripe.
///
/// Each mode has its own store (its own SQLite file, or its own PostgreSQL schema), its own
/// engines and its own credentials. Live mode has the configured real networks and no sandbox;
/// test mode has the sandbox network, for trials and demos. A credential says its mode in its
/// prefix (`hc_live_…` / `hc_test_…` for merchant API keys, `hc_ch_live_…` / `hc_ch_test_…` for
/// cardholder tokens; sandbox account tokens `hc_sbx_…` are test mode only), so a test credential is
/// looked up only in the test store and can never read or change live data, nor the other way round.
public enum Mode: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case live
    case test

    /// Whether objects of this mode are live (`"livemode": true` in the API).
    public var isLive: Bool { self == .live }

    public var description: String { rawValue }

    /// The prefix of this mode's merchant API keys: `hc_live_` or `hc_test_`.
    public var apiKeyPrefix: String { "hc_\(rawValue)_" }

    /// The prefix of this mode's cardholder tokens: `hc_ch_live_` or `hc_ch_test_`.
    public var cardholderTokenPrefix: String { "hc_ch_\(rawValue)_" }

    /// The prefix of sandbox account tokens (test mode only: live mode has no sandbox).
    public static let sandboxTokenPrefix = "hc_sbx_"

    /// The mode a merchant API key belongs to, read from its prefix; nil for anything else.
    public static func ofAPIKey(_ key: String) -> Mode? {
        allCases.first { key.hasPrefix($0.apiKeyPrefix) }
    }

    /// The mode a cardholder token belongs to, read from its prefix; nil for anything else.
    public static func ofCardholderToken(_ token: String) -> Mode? {
        allCases.first { token.hasPrefix($0.cardholderTokenPrefix) }
    }
}
