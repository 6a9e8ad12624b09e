import Foundation
import Hummingbird

/// Every HTTP error Hashcart returns, in one JSON shape (Stripe's):
///
/// ```json
/// {"error": {"type": "invalid_request_error", "code": "parameter_unknown",
///            "message": "Unknown field `colour`.", "param": "colour"}}
/// ```
public struct APIError: Error, HTTPResponseError, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case invalidRequest = "invalid_request_error"
        case authentication = "authentication_error"
        case rateLimit = "rate_limit_error"
        case api = "api_error"
    }

    public var status: HTTPResponse.Status
    public var type: Kind
    /// A stable, machine-readable code, e.g. `parameter_missing`, `resource_missing`.
    public var code: String
    /// A sentence a person understands.
    public var message: String
    /// The request field it concerns, if any.
    public var param: String?

    public init(status: HTTPResponse.Status, type: Kind = .invalidRequest, code: String, message: String, param: String? = nil) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.param = param
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public static func invalid(_ message: String, param: String? = nil, code: String = "parameter_invalid") -> APIError {
        APIError(status: .badRequest, code: code, message: message, param: param)
    }

    public static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, code: "resource_missing", message: "No such \(what).")
    }

    public static func conflict(_ message: String) -> APIError {
        APIError(status: .conflict, code: "resource_conflict", message: message)
    }

    public static func refused(_ message: String) -> APIError {
        APIError(status: .conflict, code: "request_refused", message: message)
    }

    public static let unauthorized = APIError(
        status: .unauthorized, type: .authentication, code: "unauthorized",
        message: "Missing or invalid credentials: send `Authorization: Bearer <token>`.")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: Any] = ["type": type.rawValue, "code": code, "message": message]
        body["param"] = param ?? NSNull()
        let data = try JSONSerialization.data(withJSONObject: ["error": body], options: [.sortedKeys])
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension APIError {
    public static let bodyTooLarge = APIError(status: .contentTooLarge, code: "body_too_large",
                                              message: "The request body is larger than \(RequestLimits.maximumBodyBytes) bytes.")
}
