import Foundation
import HTTPTypes
import Hummingbird

/// Builds the router of Hashcart's HTTP API on a ``HashcartService``.
///
/// | route | who |
/// | --- | --- |
/// | `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus), `GET /openapi.yaml` | anyone |
/// | `POST /v1/merchants`, `POST /v1/merchants/{id}/api_keys`, `DELETE /v1/merchants/{id}/api_keys/{key}`, `POST /v1/cardholders`, `POST /v1/cardholders/{id}/tokens`, `GET /v1/ledger/check` | operator (admin bearer token) |
/// | `POST /v1/offers`, `GET /v1/offers`, `GET /v1/offers/{id}`, `POST /v1/offers/{id}/pause|resume|end`, `GET /v1/offers/{id}/analytics` (JSON, or CSV with `Accept: text/csv`), `GET /v1/orders`, `GET /v1/orders/{id}`, `POST /v1/orders/{id}/ship|cancel|refunds`, `POST /v1/webhook_endpoints`, `GET /v1/events`, `POST /v1/events/{id}/redeliver` | merchant (API key as bearer token) |
/// | `POST /v1/links`, `GET /v1/links`, `DELETE /v1/links/{id}`, `GET /v1/purchases`, `POST /v1/purchases/{id}/cancel`, `GET /v1/notifications` | cardholder (bearer token) |
/// | `POST /sandbox/accounts`, `POST /sandbox/posts`, `POST /sandbox/posts/{id}/reposts`, `DELETE /sandbox/posts/{id}?author_id=`, `GET /sandbox/posts` | anyone (the sandbox network) |
public enum HashcartRouter {
    public static func build(service: some HashcartService, rateLimit: RateLimit = RateLimit()) -> Router<HashcartRequestContext> {
        let router = Router(context: HashcartRequestContext.self)
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(ErrorShapeMiddleware())
        router.middlewares.add(RateLimitMiddleware(limit: rateLimit))
        router.middlewares.add(IdempotencyMiddleware(service: service))

        router.get("/healthz") { _, _ in try json(["status": "ok"]) }
        let openAPI = openAPIDocument
        router.get("/openapi.yaml") { _, _ in text(openAPI, contentType: "application/yaml; charset=utf-8") }
        router.get("/metrics") { _, _ in text(await service.metricsText(), contentType: "text/plain; version=0.0.4; charset=utf-8") }
        router.get("/readyz") { _, _ in
            guard await service.isReady() else {
                throw APIError(status: .serviceUnavailable, type: .api, code: "not_ready", message: "The store is not answering yet.")
            }
            return try json(["status": "ready"])
        }

        // Operator.
        let admin = router.group("v1").add(middleware: AdminAuthMiddleware(service: service))
        admin.post("merchants") { request, _ in
            var request = request
            return try json(try await service.createMerchant(request.decodeStrict(CreateMerchantBody.self)), status: .created)
        }
        admin.post("cardholders") { request, _ in
            var request = request
            return try json(try await service.createCardholder(request.decodeStrict(CreateCardholderBody.self)), status: .created)
        }
        admin.get("ledger/check") { _, _ in try json(try await service.ledgerCheck()) }
        admin.post("merchants/{id}/api_keys") { _, context in
            try json(try await service.createAPIKey(merchantID: context.parameters.require("id")), status: .created)
        }
        admin.delete("merchants/{id}/api_keys/{key}") { _, context in
            try json(try await service.revokeAPIKey(merchantID: context.parameters.require("id"), keyID: context.parameters.require("key")))
        }
        admin.post("cardholders/{id}/tokens") { _, context in
            try json(try await service.createCardholderToken(cardholderID: context.parameters.require("id")), status: .created)
        }

        // Merchants.
        let merchant = router.group("v1").add(middleware: MerchantAuthMiddleware(service: service))
        merchant.post("offers") { request, context in
            var request = request
            return try json(try await service.createOffer(merchantID: context.merchantID!, request.decodeStrict(CreateOfferBody.self)),
                            status: .created)
        }
        merchant.get("offers") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service.offers(merchantID: context.merchantID!, limit: try pageLimit(query.get("limit")),
                                                     startingAfter: query.get("starting_after")))
        }
        merchant.get("offers/{id}") { _, context in
            try json(try await service.offer(merchantID: context.merchantID!, id: context.parameters.require("id")))
        }

        for (action, lifecycle) in [("pause", "paused"), ("resume", "published"), ("end", "ended")] {
            merchant.post("offers/{id}/\(action)") { _, context in
                try json(try await service.setOfferLifecycle(merchantID: context.merchantID!, id: context.parameters.require("id"), to: lifecycle))
            }
        }
        merchant.get("offers/{id}/analytics") { request, context in
            let analytics = try await service.analytics(merchantID: context.merchantID!, offerID: context.parameters.require("id"))
            if request.headers[.accept]?.contains("text/csv") == true {
                return text(analytics.csv, contentType: "text/csv; charset=utf-8")
            }
            return try json(analytics)
        }
        merchant.get("orders") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service.orders(merchantID: context.merchantID!, offerID: query.get("offer"), status: query.get("status"),
                                                     limit: try pageLimit(query.get("limit")), startingAfter: query.get("starting_after")))
        }
        merchant.get("orders/{id}") { _, context in
            try json(try await service.order(merchantID: context.merchantID!, id: context.parameters.require("id")))
        }
        merchant.post("orders/{id}/ship") { request, context in
            var request = request
            return try json(try await service.shipOrder(merchantID: context.merchantID!, id: context.parameters.require("id"),
                                                        request.decodeStrict(ShipOrderBody.self)))
        }
        merchant.post("orders/{id}/cancel") { _, context in
            try json(try await service.cancelOrder(merchantID: context.merchantID!, id: context.parameters.require("id")))
        }
        merchant.post("orders/{id}/refunds") { request, context in
            var request = request
            return try json(try await service.refundOrder(merchantID: context.merchantID!, id: context.parameters.require("id"),
                                                          request.decodeStrict(RefundBody.self)), status: .created)
        }

        merchant.post("webhook_endpoints") { request, context in
            var request = request
            return try json(try await service.createWebhookEndpoint(merchantID: context.merchantID!, request.decodeStrict(CreateWebhookEndpointBody.self)),
                            status: .created)
        }
        merchant.get("events") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service.events(merchantID: context.merchantID!, limit: try pageLimit(query.get("limit")),
                                                     startingAfter: query.get("starting_after")))
        }
        merchant.post("events/{id}/redeliver") { _, context in
            try json(try await service.redeliverEvent(merchantID: context.merchantID!, id: context.parameters.require("id")))
        }

        // Cardholders.
        let cardholder = router.group("v1").add(middleware: CardholderAuthMiddleware(service: service))
        cardholder.post("links") { request, context in
            var request = request
            return try json(try await service.createLinkCode(cardholderID: context.cardholderID!, request.decodeStrict(CreateLinkBody.self)),
                            status: .created)
        }
        cardholder.get("links") { _, context in try json(try await service.links(cardholderID: context.cardholderID!)) }
        cardholder.delete("links/{id}") { _, context in
            try json(try await service.deleteLink(cardholderID: context.cardholderID!, id: context.parameters.require("id")))
        }
        cardholder.post("purchases/{id}/cancel") { _, context in
            try json(try await service.cancelPurchase(cardholderID: context.cardholderID!, id: context.parameters.require("id")))
        }
        cardholder.get("notifications") { request, context in
            try json(try await service.notifications(cardholderID: context.cardholderID!, limit: try pageLimit(request.uri.queryParameters.get("limit"))))
        }
        cardholder.get("purchases") { request, context in
            let query = request.uri.queryParameters
            return try json(try await service.purchases(cardholderID: context.cardholderID!, limit: try pageLimit(query.get("limit")),
                                                        startingAfter: query.get("starting_after")))
        }

        // Networks' webhooks (X's Account Activity API): authenticated by the network's own
        // signature, not by Hashcart credentials.
        router.get("webhooks/{network}") { request, context in
            let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
            let reply = try await service.networkWebhook(network: try context.parameters.require("network"), method: "GET", query: query,
                                                         signature: nil, body: Data())
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        router.post("webhooks/{network}") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 4 << 20)
            let reply = try await service.networkWebhook(network: try context.parameters.require("network"), method: "POST", query: [:],
                                                         signature: request.headers[HTTPField.Name("x-twitter-webhooks-signature")!],
                                                         body: Data(body.readableBytesView))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }

        // The sandbox network.
        let sandbox = router.group("sandbox")
        sandbox.post("accounts") { request, _ in
            var request = request
            return try json(try await service.createSandboxAccount(request.decodeStrict(CreateSandboxAccountBody.self)), status: .created)
        }
        sandbox.post("posts") { request, _ in
            var request = request
            return try json(try await service.createSandboxPost(request.decodeStrict(CreateSandboxPostBody.self)), status: .created)
        }
        sandbox.post("posts/{id}/reposts") { request, context in
            var request = request
            let id = try context.parameters.require("id")
            return try json(try await service.repost(postID: id, request.decodeStrict(CreateRepostBody.self)), status: .created)
        }
        sandbox.delete("posts/{id}") { request, context in
            let id = try context.parameters.require("id")
            guard let author = request.uri.queryParameters.get("author_id"), !author.isEmpty else {
                throw APIError.invalid("Query parameter `author_id` is required: only the author can delete a post.",
                                       param: "author_id", code: "parameter_missing")
            }
            return try json(try await service.deleteSandboxPost(postID: id, authorID: author))
        }
        sandbox.get("posts") { request, _ in
            let query = request.uri.queryParameters
            let limit = try pageLimit(query.get("limit"))
            return try json(try await service.sandboxPosts(authorID: query.get("author_id"), inReplyTo: query.get("in_reply_to"),
                                                           afterPostID: query.get("since"), limit: limit))
        }
        return router
    }

    /// The OpenAPI 3 document of every route (`Resources/openapi.yaml`).
    public static let openAPIDocument: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { preconditionFailure("the bundled openapi.yaml is missing") }
        return text
    }()

    /// `limit` must be 1…100 (default 20).
    static func pageLimit(_ text: String?) throws -> Int {
        guard let text else { return 20 }
        guard let value = Int(text), (1...RequestLimits.maximumPageSize).contains(value) else {
            throw APIError.invalid("Query parameter `limit` must be an integer from 1 to \(RequestLimits.maximumPageSize).", param: "limit")
        }
        return value
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// A text response (YAML, CSV, Prometheus).
    static func text(_ body: String, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A JSON response.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The request context: who the caller was authenticated as.
public struct HashcartRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the merchant authentication middleware.
    public var merchantID: String?
    /// Set by the cardholder authentication middleware.
    public var cardholderID: String?

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// The bearer token of a request, if any (bounded: no token is longer than 256 characters).
func bearerToken(_ request: Request) -> String? {
    guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count <= 263 else { return nil }
    return String(header.dropFirst(7))
}

/// Lets a request through only with a merchant's API key as its bearer token.
struct MerchantAuthMiddleware<Service: HashcartService>: RouterMiddleware {
    typealias Context = HashcartRequestContext
    let service: Service

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = bearerToken(request), let merchant = await service.merchant(forAPIKey: token) else { throw APIError.unauthorized }
        var context = context
        context.merchantID = merchant
        return try await next(request, context)
    }
}

/// Lets a request through only with a cardholder's token as its bearer token.
struct CardholderAuthMiddleware<Service: HashcartService>: RouterMiddleware {
    typealias Context = HashcartRequestContext
    let service: Service

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = bearerToken(request), let cardholder = await service.cardholder(forToken: token) else { throw APIError.unauthorized }
        var context = context
        context.cardholderID = cardholder
        return try await next(request, context)
    }
}

/// Lets a request through only with `Authorization: Bearer <admin token>`.
struct AdminAuthMiddleware<Context: RequestContext, Service: HashcartService>: RouterMiddleware {
    let service: Service

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = bearerToken(request), await service.isAdminToken(token) else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}
