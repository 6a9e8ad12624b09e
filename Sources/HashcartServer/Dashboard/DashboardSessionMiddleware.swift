import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// Lets a dashboard request through only with a session of the page's mode, and a posted form
/// only with that session's CSRF token.
///
/// The session cookie (`hc_live_session` or `hc_test_session`, scoped to `/dashboard/<mode>`) is
/// looked up only in the store of the mode its path names: a test-mode session can never open a
/// live page. Without a session, a page redirects to the sign-in (nothing is done); a form posted
/// without the session's token, or with another, is refused with 403 and changes nothing.
struct DashboardSessionMiddleware<Service: HashcartService>: RouterMiddleware {
    typealias Context = HashcartRequestContext
    let mode: Mode
    let service: Service

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = request.cookies[DashboardCookies.sessionName(mode)]?.value,
              let principal = await service.dashboard.principal(sessionToken: token)
        else {
            throw PageError.signInRequired
        }
        var form = PageForm()
        if request.method == .post {
            form = try await DashboardCookies.readForm(request, context: context)
            guard let presented = form["csrf_token"], SecretText.equal(presented, principal.csrfToken) else { throw PageError.forgedForm }
        }
        var context = context
        context.mode = mode
        context.dashboard = DashboardRequest(principal: principal, sessionToken: token, form: form)
        let actor = AuditActor(name: "\(principal.email) (dashboard, \(principal.role.rawValue))", address: context.clientAddress)
        return try await AuditActor.$current.withValue(actor) { try await next(request, context) }
    }
}

/// The dashboard's cookies and form reading, shared by the sign-in and the session middleware.
enum DashboardCookies {
    static func sessionName(_ mode: Mode) -> String { "hc_\(mode.rawValue)_session" }
    /// The sign-in form's own CSRF token (double submit: the cookie and the field must match).
    static func signInName(_ mode: Mode) -> String { "hc_\(mode.rawValue)_signin" }
    static func path(_ mode: Mode) -> String { "/dashboard/\(mode.rawValue)" }

    /// `Secure` when the request reached us over TLS (a proxy in front says so in `X-Forwarded-Proto`).
    static func isSecure(_ request: Request) -> Bool {
        request.uri.scheme == .https || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    static func cookie(name: String, value: String, mode: Mode, maxAge: Int, request: Request) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path(mode), secure: isSecure(request), httpOnly: true, sameSite: .strict)
    }

    /// A posted form's fields: `application/x-www-form-urlencoded` only, at most 16 KiB.
    static func readForm(_ request: Request, context: some RequestContext) async throws -> PageForm {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw PageError.badForm("The form must be sent as application/x-www-form-urlencoded.")
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: PageForm.maximumBytes) } catch { throw PageError.tooLarge }
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes), String(validating: text.utf8, as: UTF8.self) != nil else {
            throw PageError.badForm("The form is not UTF-8.")
        }
        return try PageForm(encoded: text)
    }
}

/// The cookie that binds an OAuth sign-in started from a page to the browser that started it. The
/// network sends the person back with a top-level GET from its own site, on which `SameSite=Strict`
/// cookies are not sent: this one is `Lax`, `HttpOnly`, and only for `/oauth`.
enum OAuthBrowserCookie {
    static func name(_ mode: Mode) -> String { "hc_\(mode.rawValue)_oauth" }

    static func cookie(mode: Mode, value: String, maxAge: Int, request: Request) -> Cookie {
        Cookie(name: name(mode), value: value, maxAge: maxAge, path: "/oauth", secure: DashboardCookies.isSecure(request), httpOnly: true,
               sameSite: .lax)
    }

    /// 48 lower-case hex digits, as ``randomFormToken()`` makes them (24 random bytes).
    static func isWellFormed(_ value: String) -> Bool {
        value.utf8.count == 48 && value.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

