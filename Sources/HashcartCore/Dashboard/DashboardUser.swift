/// What a person signed in to the dashboard may see and do.
public enum DashboardRole: String, Sendable, Hashable, CaseIterable, Codable {
    /// The issuer's operator: every merchant and cardholder of the mode, risk, kill switches, the audit log.
    case `operator`
    /// A user of one merchant: that merchant's offers, orders, webhooks, keys and statements only.
    case merchant
    /// A cardholder: their own links, purchases, credits and notifications only.
    case cardholder
}

/// A person who signs in to the dashboard pages of one mode, by email and password.
///
/// Users, like every other object, belong to one mode's store: a test-mode user cannot sign in
/// to live mode. Only a bcrypt hash of the password is kept.
public struct DashboardUser: Sendable, Hashable {
    public var id: String
    public var email: EmailAddress
    public var role: DashboardRole
    /// The merchant a merchant user acts for (nil for other roles).
    public var merchantID: MerchantID?
    /// The card account a cardholder user is (nil for other roles).
    public var cardAccountID: CardAccountID?
    /// bcrypt (`$2b$…`).
    public var passwordHash: String
    public var createdAt: Instant
    /// A disabled user cannot sign in and their sessions no longer work.
    public var disabledAt: Instant?

    public init(id: String, email: EmailAddress, role: DashboardRole, merchantID: MerchantID? = nil, cardAccountID: CardAccountID? = nil,
                passwordHash: String, createdAt: Instant, disabledAt: Instant? = nil) {
        precondition((role == .merchant) == (merchantID != nil), "a merchant user, and only one, belongs to a merchant")
        precondition((role == .cardholder) == (cardAccountID != nil), "a cardholder user, and only one, is a card account")
        self.id = id
        self.email = email
        self.role = role
        self.merchantID = merchantID
        self.cardAccountID = cardAccountID
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }
}

/// A signed-in browser: the SHA-256 of its cookie's token (the token itself is never kept), the
/// user, the token every form it posts must carry (CSRF), and when it ends.
public struct DashboardSession: Sendable, Hashable {
    public var tokenHash: [UInt8]
    public var userID: String
    public var csrfToken: String
    public var createdAt: Instant
    public var expiresAt: Instant
    /// The address it signed in from (shown in the audit log and the user's session list).
    public var address: String

    /// How long a session lasts from sign-in: a working day.
    public static let lifetimeMilliseconds: Int64 = 12 * 3_600_000
    /// At most this many sessions per user; signing in again ends the oldest.
    public static let maximumPerUser = 16

    public init(tokenHash: [UInt8], userID: String, csrfToken: String, createdAt: Instant, expiresAt: Instant, address: String) {
        precondition(tokenHash.count == 32, "a session is found by its token's SHA-256")
        precondition(expiresAt > createdAt, "a session ends after it starts")
        self.tokenHash = tokenHash
        self.userID = userID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.address = String(address.prefix(64))
    }
}

/// What a dashboard password must be. bcrypt reads only the first 72 bytes, so a longer password
/// is refused rather than silently cut.
public enum DashboardPassword {
    public static let minimumCharacters = 12
    public static let maximumBytes = 72

    public static func check(_ password: String, email: EmailAddress? = nil) throws(ValidationError) {
        guard password.count >= minimumCharacters else {
            throw ValidationError(field: "password", message: "must be at least \(minimumCharacters) characters")
        }
        guard password.utf8.count <= maximumBytes else {
            throw ValidationError(field: "password", message: "must be at most \(maximumBytes) bytes (bcrypt reads no further)")
        }
        guard !password.utf8.contains(0), Set(password).count > 3 else {
            throw ValidationError(field: "password", message: "is too simple: use more different characters")
        }
        if let email, password.lowercased().contains(email.rawValue.split(separator: "@")[0]) {
            throw ValidationError(field: "password", message: "must not contain the email's name")
        }
    }
}
