import Foundation
import HTTPTypes
import Hummingbird

/// `Idempotency-Key` on POST, with Stripe's semantics: the first response to a key (success or a
/// 4xx that the request itself caused) is kept and replayed for the same request; the same key
/// with a different request is 422; while the first request runs, 409. Keys are at most 255
/// printable ASCII characters and kept 48 hours, sealed with the store's key.
///
/// It runs *after* authentication: a key is scoped to (mode, principal), never to the raw
/// credential, so a revoked key or a retired admin token gets 401 whatever key it sends, and a
/// replay never outlives the credential that made it. A response that showed a secret (an API
/// key, a cardholder or sandbox token, a webhook signing secret, an OAuth sign-in's URL and state) is kept with the secret removed:
/// a replay answers the same object with `"secret": null` (secrets are shown once; a lost one is
/// revoked and made again).
struct IdempotencyMiddleware<Service: HashcartService>: RouterMiddleware {
    typealias Context = HashcartRequestContext
    let services: ModeServices<Service>

    static var maximumKeyLength: Int { 255 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey] else { return try await next(request, context) }
        guard (1...Self.maximumKeyLength).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw APIError.invalid("`Idempotency-Key` must be 1 to \(Self.maximumKeyLength) printable ASCII characters.",
                                   param: "Idempotency-Key", code: "idempotency_key_invalid")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: RequestLimits.maximumBodyBytes)
        } catch {
            throw APIError.bodyTooLarge
        }
        guard let principal = context.principal else { return try await next(request, context) }
        let service = try services.of(context)
        let scope = "\(context.mode):\(principal.scope)"
        var fingerprint = Data("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8)
        fingerprint.append(Self.canonical(Data(body.readableBytesView)))

        switch try await service.claimIdempotencyKey(scope: scope, key: key, request: fingerprint) {
        case .replay(let status, let stored):
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            headers[.idempotentReplayed] = "true"
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored)))
        case .inFlight:
            throw APIError(status: .conflict, code: "idempotency_key_in_use",
                           message: "A request with this Idempotency-Key is still being processed; retry shortly.", param: "Idempotency-Key")
        case .mismatch:
            throw APIError(status: .unprocessableContent, code: "idempotency_key_reused",
                           message: "This Idempotency-Key was already used with a different request.", param: "Idempotency-Key")
        case .claimed:
            break
        }

        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError where (400..<500).contains(error.status.code) && ![401, 409, 429].contains(error.status.code) {
            // The request itself was refused: the same request will be refused the same way.
            let errorResponse = try error.response(from: request, context: context)
            let data = try await Self.collect(errorResponse)
            try await service.finishIdempotencyKey(scope: scope, key: key, status: error.status.code, body: data)
            throw error
        } catch {
            // Not a result of the request (auth, a conflict, a failure on our side): forget the key.
            try? await service.finishIdempotencyKey(scope: scope, key: key, status: nil, body: Data())
            throw error
        }
        let data = try await Self.collect(response)
        try await service.finishIdempotencyKey(scope: scope, key: key, status: response.status.code, body: Self.withoutSecrets(data))
        return Response(status: response.status, headers: response.headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A JSON body with its keys sorted, so that the same request sent again with its fields in
    /// another order is the same request (other bodies: their bytes).
    static func canonical(_ body: Data) -> Data {
        guard !body.isEmpty, let value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]),
            let sorted = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return body }
        return sorted
    }

    /// The fields of a response that hold a secret shown once.
    static var secretFields: [String] { ["secret", "token", "authorize_url"] }

    /// `body` with every top-level secret field set to null (bodies that are not a JSON object
    /// are kept as they are: Hashcart's secrets are only ever top-level fields of an object).
    static func withoutSecrets(_ body: Data) -> Data {
        guard var object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
            secretFields.contains(where: { object[$0] is String })
        else { return body }
        for field in secretFields where object[field] is String { object[field] = NSNull() }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// A response's whole body (Hashcart's responses are small JSON documents).
    static func collect(_ response: Response) async throws -> Data {
        let sink = Collected()
        try await response.body.write(CollectingWriter(sink: sink))
        return Data(sink.buffer.readableBytesView)
    }

    final class Collected: @unchecked Sendable {
        var buffer = ByteBuffer()
    }

    struct CollectingWriter: ResponseBodyWriter {
        let sink: Collected
        mutating func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            sink.buffer.writeBuffer(&buffer)
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
