import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// Builds the router of Hashcart's HTTP API on the ``HashcartService`` of each mode.
///
/// | route | who | mode |
/// | --- | --- | --- |
/// | `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus), `GET /openapi.yaml` | anyone | none |
/// | `GET /dashboard/…` (pages; see ``DashboardRoutes``) | a signed-in dashboard user (session cookie) | the path's (`/dashboard/live`, `/dashboard/test`) |
/// | `POST /v1/dashboard_users`, `POST /v1/merchants`, `POST /v1/merchants/{id}/api_keys`, `DELETE /v1/merchants/{id}/api_keys/{key}`, `POST /v1/cardholders`, `POST /v1/cardholders/{id}/tokens`, `POST /v1/card_transactions`, `GET /v1/ledger/check`, `POST /v1/merchants/{id}/payout_account`, `GET /v1/reports/sales_tax` (JSON, or CSV), `GET|POST /v1/kill_switch`, `POST /v1/offers/{id}/kill_switch`, `GET|POST /v1/risk`, `POST /v1/offers/{id}/risk` | operator (admin bearer token) | `Hashcart-Mode` |
/// | `POST /v1/offers`, `GET /v1/offers`, `GET /v1/offers/{id}`, `POST /v1/offers/{id}/pause|resume|end`, `GET /v1/offers/{id}/analytics` (JSON, or CSV with `Accept: text/csv`), `GET /v1/analytics?from&to`, `GET /v1/orders`, `GET /v1/orders/{id}`, `POST /v1/orders/{id}/ship|cancel|refunds`, `POST|GET /v1/webhook_endpoints`, `POST /v1/webhook_endpoints/{id}/disable|enable|rotate_secret|test`, `GET /v1/webhook_endpoints/{id}/deliveries`, `GET /v1/events`, `POST /v1/events/{id}/redeliver`, `GET /v1/settlements` (JSON, or CSV with `Accept: text/csv`), `GET /v1/settlements/{id}` | merchant (API key as bearer token) | the key's |
/// | `POST /v1/links`, `POST /v1/links/oauth`, `GET /v1/links`, `DELETE /v1/links/{id}`, `GET /v1/purchases`, `POST /v1/purchases/{id}/cancel`, `GET /v1/notifications`, `GET /v1/statement_credits` | cardholder (bearer token) | the token's |
/// | `POST /sandbox/accounts` | operator or merchant, test mode | test |
/// | `POST /sandbox/posts`, `POST /sandbox/posts/{id}/reposts`, `DELETE /sandbox/posts/{id}` | a sandbox account (its token), the operator, or the merchant that created the account | test |
/// | `GET /sandbox/posts` | any test-mode credential | test |
/// | `GET|POST /webhooks/x` | X (its signature) | live |
/// | `GET /oauth/{network}/callback` | the person back from a network's sign-in (its `state`) | the state's (`live_…`/`test_…`) |
public enum HashcartRouter {
    /// A router with test mode only (in-memory and loopback tests, `demo`).
    public static func build(service: some HashcartService, rateLimit: RateLimit = RateLimit(),
                             authFailures: AuthFailureLimit = AuthFailureLimit()) -> Router<HashcartRequestContext> {
        build(services: ModeServices(test: service), rateLimit: rateLimit, authFailures: authFailures)
    }

    public static func build<Service: HashcartService>(services: ModeServices<Service>, rateLimit: RateLimit = RateLimit(),
                                                      authFailures: AuthFailureLimit = AuthFailureLimit()) -> Router<HashcartRequestContext> {
        let router = Router(context: HashcartRequestContext.self)
        let throttle = AuthFailureThrottle(limit: authFailures)
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(ErrorShapeMiddleware())
        router.middlewares.add(MethodNotAllowedMiddleware())
        router.middlewares.add(RateLimitMiddleware(limit: rateLimit))
        let idempotency = IdempotencyMiddleware(services: services)
        func authenticated(_ group: RouterGroup<HashcartRequestContext>, _ accepts: AcceptedCredentials,
                           testModeOnly: Bool = false) -> RouterGroup<HashcartRequestContext> {
            group.add(middleware: AuthenticationMiddleware(services: services, accepts: accepts, testModeOnly: testModeOnly, throttle: throttle))
                .add(middleware: idempotency)
        }
        SystemRoutes(services: services).add(to: router)

        // The dashboard's pages (`/dashboard/<mode>/…`): sessions by cookie, not bearer tokens.
        DashboardRoutes.add(to: router, services: services, throttle: throttle)

        // The API: one route collection per resource, each on the context of who may call it
        // (a merchant's routes see a merchant id, never an optional).
        authenticated(router.group("v1"), .operator).group(context: OperatorContext.self)
            .addRoutes(OperatorRoutes(services: services).collection)
        authenticated(router.group("v1"), .merchant).group(context: MerchantContext.self)
            .addRoutes(OfferRoutes(services: services).collection)
            .addRoutes(OrderRoutes(services: services).collection)
            .addRoutes(SettlementRoutes(services: services).collection)
            .addRoutes(WebhookEndpointRoutes(services: services).collection)
        authenticated(router.group("v1"), .cardholder).group(context: CardholderContext.self)
            .addRoutes(CardholderRoutes(services: services).collection)
        authenticated(router.group("sandbox"), [.operator, .merchant, .cardholder, .sandboxAccount], testModeOnly: true)
            .group(context: SandboxContext.self)
            .addRoutes(SandboxRoutes(services: services).collection)
        NetworkCallbackRoutes(services: services, throttle: throttle).add(to: router)
        return router
    }

    /// The OpenAPI 3 document of every route (`Resources/openapi.yaml`, compiled in).
    public static var openAPIDocument: String { EmbeddedOpenAPIDocument.text }

    /// `limit` must be 1…100 (default 20).
    static func pageLimit(_ text: String?) throws -> Int {
        guard let text else { return 20 }
        guard let value = Int(text), (1...RequestLimits.maximumPageSize).contains(value) else {
            throw APIError.invalid("Query parameter `limit` must be an integer from 1 to \(RequestLimits.maximumPageSize).", param: "limit")
        }
        return value
    }

    static let encoder = makeEncoder(livemode: false)
    static let liveEncoder = makeEncoder(livemode: true)

    /// The API's JSON encoder for one mode: every object's `livemode` comes from it.
    public static func makeEncoder(livemode: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.userInfo[Livemode.key] = livemode
        return encoder
    }

    /// A text response (YAML, CSV, Prometheus).
    static func text(_ body: String, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A JSON response.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        try json(value, status: status, encoder: encoder)
    }

    /// A JSON response of an authenticated request: its objects say the request's mode.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, _ context: some ModeRequestContext) throws -> Response {
        try json(value, status: status, encoder: context.mode.isLive ? liveEncoder : encoder)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status, encoder: JSONEncoder) throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
