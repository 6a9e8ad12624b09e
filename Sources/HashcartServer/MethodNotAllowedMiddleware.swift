import HTTPTypes
import Hummingbird

/// Answers a method a known path does not have with 405 and `Allow`, in the one error shape,
/// before authentication (a wrong method is not a failed credential).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let allowed = APIRoutes.methods(forPath: request.uri.path), !allowed.contains(request.method),
            !(request.method == .head && allowed.contains(.get))
        else { return try await next(request, context) }
        throw MethodNotAllowed(allowed: allowed)
    }
}

/// 405 in the one error shape, with `Allow`.
struct MethodNotAllowed: Error, HTTPResponseError {
    var allowed: [HTTPRequest.Method]
    var status: HTTPResponse.Status { .methodNotAllowed }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let names = allowed.map(\.rawValue).joined(separator: ", ")
        var response = try APIError(status: .methodNotAllowed, type: .invalidRequest, code: "method_not_allowed",
                                    message: "\(request.method.rawValue) is not allowed here; this path answers \(names).")
            .response(from: request, context: context)
        response.headers[.allow] = names
        return response
    }
}
