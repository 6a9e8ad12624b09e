import Crypto
import Foundation
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore
import HummingbirdBcrypt
import NIOPosix

/// The dashboard's users and sessions of one mode, in that mode's store: the application service
/// the sign-in pages and `POST /v1/dashboard_users` both call.
///
/// Passwords are hashed with bcrypt on NIO's blocking thread pool (a hash at cost 12 takes a
/// quarter of a second: it must not hold a cooperative thread). A session token is `live_`/`test_`
/// plus 32 random bytes; only its SHA-256 is kept.
public struct DashboardAccounts: DashboardAccountService {
    public let mode: Mode
    let store: any HashcartDatabase
    let clock: any WallClock
    /// bcrypt's cost: 12 in production (2^12 rounds); tests may lower it to keep quick.
    let bcryptCost: UInt8

    public init(mode: Mode, store: any HashcartDatabase, clock: any WallClock, bcryptCost: UInt8 = 12) {
        precondition((4...31).contains(bcryptCost), "bcrypt's cost is 4 to 31")
        self.mode = mode
        self.store = store
        self.clock = clock
        self.bcryptCost = bcryptCost
    }

    /// Checked when the email is unknown, so a wrong email takes as long as a wrong password.
    static let dummyHash = Bcrypt.hash("hashcart-no-such-user", cost: 12)

    public func signIn(email: String, password: String, address: String) async throws -> DashboardSignIn? {
        guard let email = try? EmailAddress(validating: email), password.utf8.count <= DashboardPassword.maximumBytes,
              let user = try await store.dashboardUser(email: email), user.disabledAt == nil
        else {
            _ = try await Self.verify(String(password.prefix(DashboardPassword.maximumBytes)), hash: Self.dummyHash)
            return nil
        }
        guard try await Self.verify(password, hash: user.passwordHash) else { return nil }
        let token = "\(mode.rawValue)_\(Self.randomToken())"
        let now = clock.now()
        let session = DashboardSession(tokenHash: EngineService.hash(token: token), userID: user.id, csrfToken: Self.randomToken(),
                                       createdAt: now, expiresAt: now.adding(milliseconds: DashboardSession.lifetimeMilliseconds), address: address)
        // Signing in is recorded as the user's own action, from where they signed in.
        try await AuditActor.$current.withValue(AuditActor(name: "\(user.email) (dashboard, \(user.role.rawValue))", address: address)) {
            try await AuditAction.recording("session.sign_in", objectID: user.id, merchantID: user.merchantID, at: now) {
                try await store.createDashboardSession(session)
            }
        }
        return DashboardSignIn(token: token, principal: Self.principal(user, session: session),
                               lifetimeSeconds: Int(DashboardSession.lifetimeMilliseconds / 1000))
    }

    public func principal(sessionToken: String) async -> DashboardPrincipal? {
        guard sessionToken.hasPrefix("\(mode.rawValue)_"), sessionToken.utf8.count <= 64,
              let found = try? await store.dashboardSession(tokenHash: EngineService.hash(token: sessionToken), now: clock.now())
        else { return nil }
        return Self.principal(found.user, session: found.session)
    }

    public func now() -> Int64 { clock.now().millisecondsSinceEpoch / 1000 }

    public func signOut(sessionToken: String) async throws {
        guard sessionToken.utf8.count <= 64 else { return }
        try await store.deleteDashboardSession(tokenHash: EngineService.hash(token: sessionToken))
    }

    public func signOutEverywhere(userID: String) async throws -> Int {
        try await AuditAction.recording("session.sign_out_everywhere", objectID: userID, at: clock.now()) {
            try await store.deleteDashboardSessions(userID: userID)
        }
    }

    public func createUser(_ body: CreateDashboardUserBody) async throws -> DashboardUserView {
        let email: EmailAddress
        do { email = try EmailAddress(validating: body.email) } catch { throw APIError.invalid("`email` \(error.message).", param: "email") }
        guard let role = DashboardRole(rawValue: body.role) else {
            throw APIError.invalid("`role` must be `operator`, `merchant` or `cardholder`.", param: "role")
        }
        var merchantID: MerchantID?
        var cardAccountID: CardAccountID?
        switch role {
        case .merchant:
            guard let given = body.merchantID else { throw APIError.invalid("A merchant user needs `merchant_id`.", param: "merchant_id", code: "parameter_missing") }
            guard let id = MerchantID(validating: given), try await store.read({ try $0.merchant(id) }) != nil else {
                throw APIError.notFound("merchant \(given.prefix(64))")
            }
            merchantID = id
        case .cardholder:
            guard let given = body.cardholderID else {
                throw APIError.invalid("A cardholder user needs `cardholder_id`.", param: "cardholder_id", code: "parameter_missing")
            }
            guard let id = CardAccountID(validating: given), try await store.read({ try $0.cardAccount(id) }) != nil else {
                throw APIError.notFound("cardholder \(given.prefix(64))")
            }
            cardAccountID = id
        case .operator:
            break
        }
        if role != .merchant, body.merchantID != nil {
            throw APIError.invalid("Only a merchant user has `merchant_id`.", param: "merchant_id")
        }
        if role != .cardholder, body.cardholderID != nil {
            throw APIError.invalid("Only a cardholder user has `cardholder_id`.", param: "cardholder_id")
        }
        let password = body.password ?? Self.madePassword()
        do { try DashboardPassword.check(password, email: email) } catch { throw APIError.invalid("`password` \(error.message).", param: "password") }
        let user = DashboardUser(id: RandomIDGenerator().next(prefix: "du"), email: email, role: role, merchantID: merchantID,
                                 cardAccountID: cardAccountID, passwordHash: try await Self.hash(password, cost: bcryptCost), createdAt: clock.now())
        guard try await AuditAction.recording("dashboard_user.create", objectID: user.id, merchantID: merchantID,
                                              detail: "\(user.email) as \(role.rawValue)", at: user.createdAt, { try await store.createDashboardUser(user) })
        else {
            throw APIError(status: .conflict, code: "email_taken", message: "A dashboard user with the email \(email) exists already in \(mode) mode.",
                           param: "email")
        }
        return Self.view(user, password: body.password == nil ? password : nil)
    }

    public func users(merchantID: String?, limit: Int) async throws -> ListView<DashboardUserView> {
        let users = try await store.dashboardUsers(merchantID: merchantID.map { MerchantID($0) }, limit: limit + 1)
        return ListView(data: users.prefix(limit).map { Self.view($0, password: nil) }, hasMore: users.count > limit)
    }

    static func view(_ user: DashboardUser, password: String?) -> DashboardUserView {
        DashboardUserView(id: user.id, email: user.email.rawValue, role: user.role.rawValue, merchant: user.merchantID?.rawValue,
                          cardholder: user.cardAccountID?.rawValue, password: password, created: user.createdAt.millisecondsSinceEpoch / 1000,
                          disabled: user.disabledAt != nil)
    }

    static func principal(_ user: DashboardUser, session: DashboardSession) -> DashboardPrincipal {
        DashboardPrincipal(userID: user.id, email: user.email.rawValue, role: user.role, merchantID: user.merchantID?.rawValue,
                           cardholderID: user.cardAccountID?.rawValue, csrfToken: session.csrfToken)
    }

    /// 32 random bytes, base64url without padding (43 characters).
    static func randomToken() -> String { SecretText.randomBase64URL(bytes: 32) }

    /// A password of four groups of five letters and digits (about 100 bits), read aloud without
    /// ambiguity (no 0/o, 1/l/i).
    static func madePassword() -> String {
        let alphabet = Array("23456789abcdefghjkmnpqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String((0..<5).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }) }.joined(separator: "-")
    }

    static func hash(_ password: String, cost: UInt8) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
