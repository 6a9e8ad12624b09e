/// A sign-in a cardholder started at a network to link an identity by OAuth (authorization code
/// with PKCE), waiting for the network to send the person back with a code.
///
/// Only a hash of the `state` is kept, so a reader of the store cannot finish someone's sign-in;
/// the PKCE code verifier never leaves Hashcart (the network sees only its SHA-256 challenge).
/// An authorization is used once, within ``lifetimeSeconds``.
public struct OAuthAuthorization: Sendable, Hashable, Codable {
    /// Hex SHA-256 of the `state` sent to the network.
    public var stateHash: String
    public var cardAccountID: CardAccountID
    public var network: NetworkName
    public var codeVerifier: String
    public var createdAt: Instant
    public var expiresAt: Instant
    public var usedAt: Instant?
    /// Hex SHA-256 of the nonce in the cookie of the browser that started the sign-in from a
    /// Hashcart page, or nil (started over the API: the cardholder's app binds it itself). When
    /// set, only that browser can finish it: a sign-in link sent to someone else links nothing.
    public var browserBindingHash: String?

    /// How long a person has to sign in at the network and come back (10 minutes).
    public static let lifetimeSeconds: Int64 = 600
    /// Sign-ins one card may have waiting at once; more is refused until they finish or expire.
    public static let maximumPendingPerCard = 5

    public init(stateHash: String, cardAccountID: CardAccountID, network: NetworkName, codeVerifier: String, createdAt: Instant,
                expiresAt: Instant, usedAt: Instant? = nil, browserBindingHash: String? = nil) {
        self.stateHash = stateHash
        self.cardAccountID = cardAccountID
        self.network = network
        self.codeVerifier = codeVerifier
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.browserBindingHash = browserBindingHash
    }
}

/// Why an OAuth link was not made. Each has a stable ``code`` and a message for the cardholder;
/// none of them links anything.
public enum OAuthLinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No sign-in was started with this state (or it was started in the other mode).
    case unknownState
    /// The state came back once already: a sign-in finishes once.
    case stateUsed
    /// The person came back after ``OAuthAuthorization/lifetimeSeconds``.
    case stateExpired
    /// The state was started for another network than the callback it came to.
    case wrongNetwork(started: NetworkName, callback: NetworkName)
    /// The person declined at the network (or the network reported an error).
    case denied(network: NetworkName, reason: String)
    /// The identity signed in is linked to another card.
    case identityTaken(NetworkName)
    /// The card already has an identity on this network (unlink it first).
    case cardAlreadyLinked(NetworkName)
    /// Too many sign-ins are waiting for this card.
    case tooManyPending
    /// The sign-in was started from a page in another browser (its cookie is missing or differs).
    case otherBrowser

    public var code: String {
        switch self {
        case .unknownState: "oauth_state_unknown"
        case .stateUsed: "oauth_state_used"
        case .stateExpired: "oauth_state_expired"
        case .wrongNetwork: "oauth_wrong_network"
        case .denied: "oauth_denied"
        case .identityTaken: "identity_already_linked"
        case .cardAlreadyLinked: "card_already_linked"
        case .tooManyPending: "oauth_too_many_pending"
        case .otherBrowser: "oauth_other_browser"
        }
    }

    /// Whether the callback's `state` is what is wrong (rather than the account or the network's answer).
    public var concernsState: Bool {
        switch self {
        case .unknownState, .stateUsed, .stateExpired, .wrongNetwork: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .unknownState: "This sign-in link is not one Hashcart started; start linking again."
        case .stateUsed: "This sign-in was already used; start linking again if the account is not linked."
        case .stateExpired: "This sign-in took longer than \(OAuthAuthorization.lifetimeSeconds / 60) minutes; start linking again."
        case .wrongNetwork(let started, let callback): "This sign-in was started for \(started), not \(callback)."
        case .denied(let network, let reason): "\(network) did not let Hashcart see the account (\(reason)); nothing was linked."
        case .identityTaken(let network): "That \(network) account is already linked to another card; unlink it there first."
        case .cardAlreadyLinked(let network): "This card is already linked to a \(network) account; unlink it first."
        case .tooManyPending: "Too many sign-ins are waiting for this card; finish one or wait \(OAuthAuthorization.lifetimeSeconds / 60) minutes."
        case .otherBrowser: "This sign-in was started in another browser; open your Hashcart page in this one and start linking again. Nothing was linked."
        }
    }
}

/// A network's OAuth 2.0 sign-in, used to prove which account a cardholder owns: where to send the
/// person, and what the code they come back with proves. Connectors implement it (X with PKCE,
/// Mastodon's authorization code); the engine never sees a token.
public protocol OAuthLinkProvider: Sendable {
    var network: NetworkName { get }
    /// The network's authorize URL for this sign-in: the state, and the S256 challenge of the verifier.
    func authorizationURL(state: String, codeVerifier: String) -> String
    /// Exchanges the code the person came back with for a token, reads the account it belongs to,
    /// and revokes the token (Hashcart keeps none). Throws ``ConnectorError``.
    func identity(code: String, codeVerifier: String) async throws -> SocialIdentity
}

/// The `state` of an OAuth sign-in: its mode, then random base64url (`live_…`, `test_…`), so the
/// callback, which carries no credential, is looked up only in the store of the mode that started it.
public enum OAuthState {
    public static let maximumLength = 128

    public static func make(mode: Mode, random: String) -> String { "\(mode.rawValue)_\(random)" }

    /// The mode a state was made in; nil for anything not shaped like one.
    public static func mode(of state: String) -> Mode? {
        guard (16...maximumLength).contains(state.utf8.count),
              state.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F })
        else { return nil }
        return Mode.allCases.first { state.hasPrefix("\($0.rawValue)_") }
    }
}
