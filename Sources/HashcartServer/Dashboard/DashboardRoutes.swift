import HashcartCore
import HTTPTypes
import Hummingbird

/// The dashboard's pages, served at `/dashboard`: one route collection per mode this Hashcart
/// runs (`/dashboard/live/…`, `/dashboard/test/…`), each talking only to its mode's service.
///
/// | path (under `/dashboard/<mode>`) | who |
/// | --- | --- |
/// | `GET|POST /sign-in` | anyone (CSRF by double submit; throttled per address and per email) |
/// | `POST /sign-out`, `POST /sign-out-everywhere`, `GET /account` | any signed-in user |
/// | `GET /` | the role's home: a merchant's overview, the operator's console, a cardholder's purchases |
/// | `GET|POST /offers`, `GET /offers/{id}`, `GET /offers/{id}/live` (server-sent events), `POST /offers/{id}/pause|resume|end`, `GET /orders`, `GET /orders/{id}`, `POST /orders/{id}/ship|cancel|refund`, `GET|POST /webhooks`, `GET /webhooks/{id}` (delivery log), `POST /webhooks/{id}/disable|enable|rotate|test`, `POST /events/{id}/redeliver`, `GET|POST /api-keys`, `POST /api-keys/{id}/revoke`, `GET /settlements`, `GET /settlements.csv|orders.csv|offers.csv` | a merchant user (their merchant's objects only) |
/// | `GET /activity` (the merchant's lines of the audit log) | a merchant user |
/// | `GET /merchants` (search), `GET /merchants/{id}`, `GET /cardholders` (search), `GET /cardholders/{id}`, `GET|POST /users`, `POST /kill-switch`, `GET /audit` (the audit log) | the operator |
/// | `POST /links` (a code, or the network's sign-in), `POST /links/{id}/delete` | a cardholder (their links only) |
/// | `POST /purchases/{id}/cancel` | a cardholder (their purchases only) |
enum DashboardRoutes {
    static func add<Service: HashcartService>(to router: Router<HashcartRequestContext>, services: ModeServices<Service>,
                                              throttle: AuthFailureThrottle) {
        let modes = services.modes
        router.get("/dashboard") { _, _ in PageRenderer.redirect("/dashboard/\((modes.contains(.test) ? Mode.test : modes[0]).rawValue)") }
        router.get("/dashboard/assets/dashboard.css") { _, _ in asset(EmbeddedDashboardAssets.css, type: "text/css; charset=utf-8") }
        router.get("/dashboard/assets/live.js") { _, _ in asset(EmbeddedDashboardAssets.liveScript, type: "text/javascript; charset=utf-8") }
        let emails = AuthFailureThrottle(limit: AuthFailureLimit(burstPerAddress: 5, refillPerAddress: 1.0 / 60, burstGlobal: 100_000, refillGlobal: 1_000))
        for mode in modes {
            let service = services[mode]!
            let pages = router.group(RouterPath("dashboard/\(mode.rawValue)")).add(middleware: PageErrorMiddleware(mode: mode, modes: modes))
            SignInPages(mode: mode, modes: modes, service: service, addresses: throttle, emails: emails).add(to: pages)
            // The second error middleware shows a signed-in page's errors with its header (who, sections).
            let signedIn = pages.group().add(middleware: DashboardSessionMiddleware(mode: mode, service: service))
                .add(middleware: PageErrorMiddleware(mode: mode, modes: modes))
                .group(context: DashboardContext.self)
            let shared = SharedPages(modes: modes, service: service)
            shared.add(to: signedIn)
            MerchantPages(modes: modes, service: service).add(to: signedIn)
            WebhookPages(modes: modes, service: service).add(to: signedIn)
            AccountPages(modes: modes, service: service).add(to: signedIn)
            AuditPages(modes: modes, service: service).add(to: signedIn)
            OperatorPages(modes: modes, service: service).add(to: signedIn)
            CardholderPages(modes: modes, service: service).add(to: signedIn)
        }
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = PageRenderer.securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Shows any error of a dashboard page as a page: sign-in required → the sign-in (303); a forged
/// form → 403; a bad form → 400; what the service refused → its status and message. Never the
/// API's JSON, never internals.
struct PageErrorMiddleware: RouterMiddleware {
    typealias Context = HashcartRequestContext
    let mode: Mode
    let modes: [Mode]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PageError {
            switch error {
            case .signInRequired:
                return PageRenderer.redirect("/dashboard/\(mode.rawValue)/sign-in")
            case .notFound:
                return failure(.notFound, "Not found", "There is no such page here, or it is not yours to see.", context)
            case .forgedForm:
                return failure(.forbidden, "Form refused",
                               "This form did not come from your signed-in dashboard (its security token is missing or stale). Nothing was changed: reload the page and try again.",
                               context)
            case .badForm(let message):
                return failure(.badRequest, "Form refused", "\(message) Nothing was changed.", context)
            case .tooLarge:
                return failure(.contentTooLarge, "Form refused", "The form is larger than \(PageForm.maximumBytes / 1024) KiB. Nothing was changed.", context)
            }
        } catch let error as APIError {
            let title = error.status == .notFound ? "Not found" : "Not done"
            return failure(error.status, title, error.message, context)
        } catch let error as RateLimited {
            var response = failure(.tooManyRequests, "Too many attempts", "Too many attempts from here; try again in \(error.retryAfterSeconds) seconds.", context)
            response.headers[.retryAfter] = String(error.retryAfterSeconds)
            return response
        } catch {
            context.logger.error("dashboard page failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return failure(.internalServerError, "Something went wrong", "Something went wrong on our side; nothing was changed.", context)
        }
    }

    func failure(_ status: HTTPResponse.Status, _ title: String, _ message: String, _ context: Context) -> Response {
        PageRenderer.shared.page("message", title: title, data: ["message": message, "back": "/dashboard/\(mode.rawValue)"],
                                 frame: PageFrame(mode: mode, otherModes: modes, principal: context.dashboard?.principal), status: status)
    }
}

/// `GET|POST /sign-in`: email and password. The form carries a token that must match a cookie it
/// set (double submit: a page elsewhere cannot sign a browser in as someone else). Failures are
/// counted per address and per email; the answer never says which of the two was wrong.
struct SignInPages<Service: HashcartService> {
    let mode: Mode
    let modes: [Mode]
    let service: Service
    let addresses: AuthFailureThrottle
    let emails: AuthFailureThrottle

    func add(to group: RouterGroup<HashcartRequestContext>) {
        group.get("sign-in") { request, _ in
            if let token = request.cookies[DashboardCookies.sessionName(mode)]?.value, await service.dashboard.principal(sessionToken: token) != nil {
                return PageRenderer.redirect("/dashboard/\(mode.rawValue)")
            }
            return form(request, email: "", error: nil, status: .ok)
        }
        group.post("sign-in") { request, context in
            let address = context.clientAddress
            try addresses.check(address: address)
            let fields = try await DashboardCookies.readForm(request, context: context)
            guard let presented = fields["csrf_token"], let cookie = request.cookies[DashboardCookies.signInName(mode)]?.value,
                  SecretText.equal(presented, cookie) else { throw PageError.forgedForm }
            let email = String((fields["email"] ?? "").prefix(320))
            let key = "\(mode.rawValue):\(email.trimmingCharacters(in: .whitespaces).lowercased())"
            try emails.check(address: key)
            guard let signIn = try await service.dashboard.signIn(email: email, password: fields["password"] ?? "", address: address) else {
                addresses.recordFailure(address: address)
                emails.recordFailure(address: key)
                return form(request, email: email, error: "That email and password do not match a user of \(mode) mode.", status: .unauthorized)
            }
            var response = PageRenderer.redirect("/dashboard/\(mode.rawValue)")
            response.setCookie(DashboardCookies.cookie(name: DashboardCookies.sessionName(mode), value: signIn.token, mode: mode,
                                                       maxAge: signIn.lifetimeSeconds, request: request))
            response.setCookie(DashboardCookies.cookie(name: DashboardCookies.signInName(mode), value: "", mode: mode, maxAge: 0, request: request))
            return response
        }
    }

    func form(_ request: Request, email: String, error: String?, status: HTTPResponse.Status) -> Response {
        let token = randomFormToken()
        var response = PageRenderer.shared.page("sign_in", title: "Sign in", data: ["email": email, "csrf": token],
                                                frame: PageFrame(mode: mode, otherModes: modes, principal: nil, error: error), status: status)
        response.setCookie(DashboardCookies.cookie(name: DashboardCookies.signInName(mode), value: token, mode: mode, maxAge: 3_600, request: request))
        return response
    }
}

/// 24 random bytes as hex (48 characters): the sign-in form's token.
func randomFormToken() -> String { SecretText.randomHex(bytes: 24) }

/// Pages every signed-in user has: the home page of their role, their account, signing out.
struct SharedPages<Service: HashcartService> {
    let modes: [Mode]
    let service: Service

    func add(to group: RouterGroup<DashboardContext>) {
        group.get("") { request, context in
            switch context.principal.role {
            case .merchant: try await MerchantPages(modes: modes, service: service).overview(request, context)
            case .operator: try await OperatorPages(modes: modes, service: service).console(request, context)
            case .cardholder: try await CardholderPages(modes: modes, service: service).home(request, context)
            }
        }
        group.get("account") { _, context in
            var data: [String: Any] = ["email": context.principal.email, "role": context.principal.role.rawValue]
            // Mustache shows a section for any value but false, nil and empty lists: absent means hidden.
            if let merchant = context.principal.merchantID { data["merchant"] = merchant }
            if let cardholder = context.principal.cardholderID { data["cardholder"] = cardholder }
            return PageRenderer.shared.page("account", title: "Your account", data: data, frame: frame(context, section: "account"))
        }
        group.post("sign-out") { request, context in
            try await service.dashboard.signOut(sessionToken: context.sessionToken)
            return signedOut(request, context)
        }
        group.post("sign-out-everywhere") { request, context in
            _ = try await service.dashboard.signOutEverywhere(userID: context.principal.userID)
            return signedOut(request, context)
        }
    }

    func signedOut(_ request: Request, _ context: DashboardContext) -> Response {
        var response = PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/sign-in")
        response.setCookie(DashboardCookies.cookie(name: DashboardCookies.sessionName(context.mode), value: "", mode: context.mode, maxAge: 0, request: request))
        return response
    }

    func frame(_ context: DashboardContext, section: String) -> PageFrame {
        PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: section)
    }
}
