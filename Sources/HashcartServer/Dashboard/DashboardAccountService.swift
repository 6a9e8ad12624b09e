import HashcartCore

/// Who is signed in to a dashboard page: the user, what they act for, and the token every form
/// they post must carry. Built only from a session found in the store of the page's mode.
public struct DashboardPrincipal: Sendable, Hashable {
    public var userID: String
    public var email: String
    public var role: DashboardRole
    /// The merchant a merchant user acts for.
    public var merchantID: String?
    /// The card account a cardholder user is.
    public var cardholderID: String?
    /// The session's CSRF token: every form posted carries it, or is refused with 403.
    public var csrfToken: String

    public init(userID: String, email: String, role: DashboardRole, merchantID: String?, cardholderID: String?, csrfToken: String) {
        self.userID = userID
        self.email = email
        self.role = role
        self.merchantID = merchantID
        self.cardholderID = cardholderID
        self.csrfToken = csrfToken
    }
}

/// A session just started: the cookie's token (shown to the browser once, never kept) and who it is.
public struct DashboardSignIn: Sendable {
    public var token: String
    public var principal: DashboardPrincipal
    /// Seconds the session lasts (the cookie's Max-Age).
    public var lifetimeSeconds: Int

    public init(token: String, principal: DashboardPrincipal, lifetimeSeconds: Int) {
        self.token = token
        self.principal = principal
        self.lifetimeSeconds = lifetimeSeconds
    }
}

/// What the dashboard's sign-in asks of one mode: users, passwords (bcrypt) and sessions kept in
/// that mode's store. A session token names its mode (`live_…`, `test_…`) and is looked up only
/// in that mode's store, like every credential.
public protocol DashboardAccountService: Sendable {
    /// Checks an email and password; a new session, or nil for a wrong email or password (which
    /// take the same time: an unknown email is checked against a dummy hash).
    func signIn(email: String, password: String, address: String) async throws -> DashboardSignIn?
    /// The signed-in principal of a session token, or nil (unknown, expired, other mode, user disabled).
    func principal(sessionToken: String) async -> DashboardPrincipal?
    /// Ends one session.
    func signOut(sessionToken: String) async throws
    /// Ends every session of the user (sign-out everywhere); how many ended.
    func signOutEverywhere(userID: String) async throws -> Int
    /// A new dashboard user (operator API). Without a password, one is made and shown once.
    func createUser(_ body: CreateDashboardUserBody) async throws -> DashboardUserView
    /// Now, in unix seconds, by the mode's clock (the ranges pages show end here).
    func now() -> Int64
    /// Dashboard users (a merchant's only, when given).
    func users(merchantID: String?, limit: Int) async throws -> ListView<DashboardUserView>
}
