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
        /// The service of the request's mode.
        @Sendable func service(_ context: HashcartRequestContext) throws -> Service { try services.of(context) }

        router.get("/healthz") { _, _ in try json(["status": "ok"]) }
        let openAPI = openAPIDocument
        router.get("/openapi.yaml") { _, _ in text(openAPI, contentType: "application/yaml; charset=utf-8") }
        router.get("/metrics") { _, _ in text(await services.any.metricsText(), contentType: "text/plain; version=0.0.4; charset=utf-8") }
        router.get("/readyz") { _, _ in
            for mode in services.modes {
                guard await services[mode]!.isReady() else {
                    throw APIError(status: .serviceUnavailable, type: .api, code: "not_ready", message: "The \(mode) store is not answering yet.")
                }
            }
            return try json(["status": "ready"])
        }

        // The dashboard's pages (`/dashboard/<mode>/…`): sessions by cookie, not bearer tokens.
        DashboardRoutes.add(to: router, services: services, throttle: throttle)

        // Operator.
        let admin = authenticated(router.group("v1"), .operator)
        admin.post("dashboard_users") { request, context in
            var request = request
            return try json(try await service(context).dashboard.createUser(request.decodeStrict(CreateDashboardUserBody.self)), status: .created, context)
        }
        admin.post("merchants") { request, context in
            var request = request
            return try json(try await service(context).createMerchant(request.decodeStrict(CreateMerchantBody.self)), status: .created, context)
        }
        admin.post("cardholders") { request, context in
            var request = request
            return try json(try await service(context).createCardholder(request.decodeStrict(CreateCardholderBody.self)), status: .created, context)
        }
        admin.post("card_transactions") { request, context in
            var request = request
            return try json(try await service(context).ingestCardTransactions(request.decodeStrict(CardTransactionsBody.self)), context)
        }
        admin.get("ledger/check") { _, context in try json(try await service(context).ledgerCheck(), context) }
        admin.get("kill_switch") { _, context in try json(try await service(context).killSwitch(), context) }
        admin.get("risk") { _, context in try json(try await service(context).riskSettings(), context) }
        admin.post("risk") { request, context in
            var request = request
            return try json(try await service(context).setRiskSettings(request.decodeStrict(RiskSettingsBody.self)), context)
        }
        admin.post("kill_switch") { request, context in
            var request = request
            return try json(try await service(context).setKillSwitch(request.decodeStrict(KillSwitchBody.self)), context)
        }
        admin.post("offers/{id}/kill_switch") { request, context in
            var request = request
            return try json(try await service(context).setOfferKillSwitch(offerID: context.parameters.require("id"),
                                                                          request.decodeStrict(OfferKillSwitchBody.self)), context)
        }
        admin.post("offers/{id}/risk") { request, context in
            var request = request
            return try json(try await service(context).setOfferRisk(offerID: context.parameters.require("id"),
                                                                    request.decodeStrict(RiskSettingsBody.self)), context)
        }
        admin.post("merchants/{id}/payout_account") { request, context in
            var request = request
            return try json(try await service(context).setPayoutAccount(merchantID: context.parameters.require("id"),
                                                                        request.decodeStrict(PayoutAccountBody.self)), context)
        }
        admin.get("reports/sales_tax") { request, context in
            let query = request.uri.queryParameters
            let report = try await service(context).salesTaxReport(from: query.get("from"), to: query.get("to"))
            if request.headers[.accept]?.contains("text/csv") == true { return text(report.csv, contentType: "text/csv; charset=utf-8") }
            return try json(report, context)
        }
        admin.post("merchants/{id}/api_keys") { _, context in
            try json(try await service(context).createAPIKey(merchantID: context.parameters.require("id")), status: .created, context)
        }
        admin.delete("merchants/{id}/api_keys/{key}") { _, context in
            try json(try await service(context).revokeAPIKey(merchantID: context.parameters.require("id"), keyID: context.parameters.require("key")),
                     context)
        }
        admin.post("cardholders/{id}/tokens") { _, context in
            try json(try await service(context).createCardholderToken(cardholderID: context.parameters.require("id")), status: .created, context)
        }

        // Merchants.
        let merchant = authenticated(router.group("v1"), .merchant)
        merchant.post("offers") { request, context in
            var request = request
            return try json(try await service(context).createOffer(merchantID: context.merchantID!, request.decodeStrict(CreateOfferBody.self)),
                            status: .created, context)
        }
        merchant.get("offers") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service(context).offers(merchantID: context.merchantID!, limit: try pageLimit(query.get("limit")),
                                                              startingAfter: query.get("starting_after")), context)
        }
        merchant.get("offers/{id}") { _, context in
            try json(try await service(context).offer(merchantID: context.merchantID!, id: context.parameters.require("id")), context)
        }

        for (action, lifecycle) in [("pause", "paused"), ("resume", "published"), ("end", "ended")] {
            merchant.post("offers/{id}/\(action)") { _, context in
                try json(try await service(context).setOfferLifecycle(merchantID: context.merchantID!, id: context.parameters.require("id"),
                                                                      to: lifecycle), context)
            }
        }
        merchant.get("analytics") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service(context).merchantAnalytics(merchantID: context.merchantID!, from: query.get("from"), to: query.get("to")),
                            context)
        }
        merchant.get("offers/{id}/analytics") { request, context in
            let analytics = try await service(context).analytics(merchantID: context.merchantID!, offerID: context.parameters.require("id"))
            if request.headers[.accept]?.contains("text/csv") == true {
                return text(analytics.csv, contentType: "text/csv; charset=utf-8")
            }
            return try json(analytics, context)
        }
        merchant.get("orders") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service(context).orders(merchantID: context.merchantID!, offerID: query.get("offer"), status: query.get("status"),
                                                              limit: try pageLimit(query.get("limit")), startingAfter: query.get("starting_after")),
                            context)
        }
        merchant.get("orders/{id}") { _, context in
            try json(try await service(context).order(merchantID: context.merchantID!, id: context.parameters.require("id")), context)
        }
        merchant.post("orders/{id}/ship") { request, context in
            var request = request
            return try json(try await service(context).shipOrder(merchantID: context.merchantID!, id: context.parameters.require("id"),
                                                                 request.decodeStrict(ShipOrderBody.self)), context)
        }
        merchant.post("orders/{id}/cancel") { _, context in
            try json(try await service(context).cancelOrder(merchantID: context.merchantID!, id: context.parameters.require("id")), context)
        }
        merchant.post("orders/{id}/refunds") { request, context in
            var request = request
            return try json(try await service(context).refundOrder(merchantID: context.merchantID!, id: context.parameters.require("id"),
                                                                   request.decodeStrict(RefundBody.self)), status: .created, context)
        }

        merchant.get("settlements") { request, context in
            let query = request.uri.queryParameters
            let list = try await service(context).settlements(merchantID: context.merchantID!, limit: try pageLimit(query.get("limit")),
                                                             startingAfter: query.get("starting_after"))
            if request.headers[.accept]?.contains("text/csv") == true {
                return text(([SettlementView.csvHeader] + list.data.map(\.csvRow)).joined(separator: "\n") + "\n",
                            contentType: "text/csv; charset=utf-8")
            }
            return try json(list, context)
        }
        merchant.get("settlements/{id}") { _, context in
            try json(try await service(context).settlement(merchantID: context.merchantID!, id: context.parameters.require("id")), context)
        }

        merchant.post("webhook_endpoints") { request, context in
            var request = request
            return try json(try await service(context).createWebhookEndpoint(merchantID: context.merchantID!,
                                                                             request.decodeStrict(CreateWebhookEndpointBody.self)),
                            status: .created, context)
        }
        merchant.get("webhook_endpoints") { _, context in
            try json(try await service(context).webhookEndpoints(merchantID: context.merchantID!), context)
        }
        merchant.post("webhook_endpoints/{id}/disable") { _, context in
            try json(try await service(context).setWebhookEndpointDisabled(merchantID: context.merchantID!, id: context.parameters.require("id"),
                                                                            disabled: true), context)
        }
        merchant.post("webhook_endpoints/{id}/enable") { _, context in
            try json(try await service(context).setWebhookEndpointDisabled(merchantID: context.merchantID!, id: context.parameters.require("id"),
                                                                            disabled: false), context)
        }
        merchant.post("webhook_endpoints/{id}/rotate_secret") { request, context in
            var request = request
            let body = try await request.decodeStrictOrEmpty(RotateWebhookSecretBody.self)
            return try json(try await service(context).rotateWebhookSecret(merchantID: context.merchantID!, id: context.parameters.require("id"), body),
                            context)
        }
        merchant.get("webhook_endpoints/{id}/deliveries") { request, context in
            try json(try await service(context).webhookDeliveries(merchantID: context.merchantID!, id: context.parameters.require("id"),
                                                                  limit: try pageLimit(request.uri.queryParameters.get("limit"))), context)
        }
        merchant.post("webhook_endpoints/{id}/test") { _, context in
            try json(try await service(context).sendTestWebhook(merchantID: context.merchantID!, id: context.parameters.require("id")),
                     status: .created, context)
        }
        merchant.get("events") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service(context).events(merchantID: context.merchantID!, limit: try pageLimit(query.get("limit")),
                                                              startingAfter: query.get("starting_after")), context)
        }
        merchant.post("events/{id}/redeliver") { _, context in
            try json(try await service(context).redeliverEvent(merchantID: context.merchantID!, id: context.parameters.require("id")), context)
        }

        // Cardholders.
        let cardholder = authenticated(router.group("v1"), .cardholder)
        cardholder.post("links") { request, context in
            var request = request
            return try json(try await service(context).createLinkCode(cardholderID: context.cardholderID!, request.decodeStrict(CreateLinkBody.self)),
                            status: .created, context)
        }
        cardholder.post("links/oauth") { request, context in
            var request = request
            return try json(try await service(context).startOAuthLink(cardholderID: context.cardholderID!,
                                                                      request.decodeStrict(CreateOAuthLinkBody.self)),
                            status: .created, context)
        }
        cardholder.get("links") { _, context in try json(try await service(context).links(cardholderID: context.cardholderID!), context) }
        cardholder.delete("links/{id}") { _, context in
            try json(try await service(context).deleteLink(cardholderID: context.cardholderID!, id: context.parameters.require("id")), context)
        }
        cardholder.post("purchases/{id}/cancel") { _, context in
            try json(try await service(context).cancelPurchase(cardholderID: context.cardholderID!, id: context.parameters.require("id")), context)
        }
        cardholder.get("notifications") { request, context in
            try json(try await service(context).notifications(cardholderID: context.cardholderID!,
                                                              limit: try pageLimit(request.uri.queryParameters.get("limit"))), context)
        }
        cardholder.get("statement_credits") { request, context in
            try json(try await service(context).statementCredits(cardholderID: context.cardholderID!,
                                                                 limit: try pageLimit(request.uri.queryParameters.get("limit"))), context)
        }
        cardholder.get("purchases") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service(context).purchases(cardholderID: context.cardholderID!, limit: try pageLimit(query.get("limit")),
                                                                 startingAfter: query.get("starting_after")), context)
        }

        // Networks' webhooks (X's Account Activity API): authenticated by the network's own
        // signature, not by Hashcart credentials. Real networks run in live mode only.
        @Sendable func liveService() throws -> Service {
            guard let live = services.live else { throw APIError.notFound("webhook: this Hashcart runs no real network (test mode only)") }
            return live
        }
        router.get("webhooks/{network}") { request, context in
            let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
            let reply = try await liveService().networkWebhook(network: try context.parameters.require("network"), method: "GET", query: query,
                                                               signature: nil, body: Data())
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        router.post("webhooks/{network}") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 4 << 20)
            let reply = try await liveService().networkWebhook(network: try context.parameters.require("network"), method: "POST", query: [:],
                                                               signature: request.headers[HTTPField.Name("x-twitter-webhooks-signature")!],
                                                               body: Data(body.readableBytesView))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }

        // OAuth sign-ins coming back from a network: no credential, the state is one, and its
        // prefix names the mode whose store alone is asked. A browser (Accept: text/html) gets a page.
        router.get("oauth/{network}/callback") { request, context in
            let query = request.uri.queryParameters
            let wantsPage = request.headers[.accept]?.contains("text/html") == true
            // The state is the credential here: an address that keeps bringing states Hashcart never
            // made is throttled as failed authentication is.
            try throttle.check(address: context.clientAddress)
            do {
                guard let state = query.get("state"), let mode = OAuthState.mode(of: state), let modeService = services[mode] else {
                    throw APIError(status: .notFound, code: OAuthLinkError.unknownState.code, message: OAuthLinkError.unknownState.description,
                                   param: "state")
                }
                let link = try await modeService.finishOAuthLink(network: try context.parameters.require("network"), state: state,
                                                                 code: query.get("code"), error: query.get("error"))
                if wantsPage { return OAuthCallbackPage.linked(link) }
                var response = try json(link, status: .ok, encoder: mode.isLive ? liveEncoder : encoder)
                for field in OAuthCallbackPage.headers { response.headers.append(field) }
                return response
            } catch let error as APIError {
                if error.code == OAuthLinkError.unknownState.code { throttle.recordFailure(address: context.clientAddress) }
                if wantsPage { return OAuthCallbackPage.failed(error) }
                var response = try error.response(from: request, context: context)
                for field in OAuthCallbackPage.headers { response.headers.append(field) }
                return response
            }
        }

        // The sandbox network (test mode only): every action is signed in.
        let sandbox = authenticated(router.group("sandbox"), [.operator, .merchant, .cardholder, .sandboxAccount], testModeOnly: true)
        sandbox.post("accounts") { request, context in
            var request = request
            return try json(try await service(context).createSandboxAccount(request.decodeStrict(CreateSandboxAccountBody.self),
                                                                            createdBy: context.principal!),
                            status: .created, context)
        }
        sandbox.post("posts") { request, context in
            var request = request
            return try json(try await service(context).createSandboxPost(request.decodeStrict(CreateSandboxPostBody.self), by: context.principal!),
                            status: .created, context)
        }
        sandbox.post("posts/{id}/reposts") { request, context in
            var request = request
            let id = try context.parameters.require("id")
            return try json(try await service(context).repost(postID: id, request.decodeStrict(CreateRepostBody.self), by: context.principal!),
                            status: .created, context)
        }
        sandbox.delete("posts/{id}") { request, context in
            let id = try context.parameters.require("id")
            guard let author = request.uri.queryParameters.get("author_id"), !author.isEmpty else {
                throw APIError.invalid("Query parameter `author_id` is required: only the author can delete a post.",
                                       param: "author_id", code: "parameter_missing")
            }
            return try json(try await service(context).deleteSandboxPost(postID: id, authorID: author, by: context.principal!), context)
        }
        sandbox.get("posts") { request, context in
            let query = request.uri.queryParameters
            let limit = try pageLimit(query.get("limit"))
            return try json(try await service(context).sandboxPosts(authorID: query.get("author_id"), inReplyTo: query.get("in_reply_to"),
                                                                    afterPostID: query.get("since"), limit: limit), context)
        }
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
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, _ context: HashcartRequestContext) throws -> Response {
        try json(value, status: status, encoder: context.mode.isLive ? liveEncoder : encoder)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status, encoder: JSONEncoder) throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
