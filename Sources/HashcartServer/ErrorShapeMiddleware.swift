import Foundation
import Hummingbird

/// Turns every error that reaches the top into the one JSON shape, without leaking internals.
public struct ErrorShapeMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as RateLimited {
            throw error
        } catch let error as MethodNotAllowed {
            throw error
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: throw APIError(status: .notFound, code: "route_missing", message: "No route for \(request.method) \(request.uri.path).")
            case .contentTooLarge: throw APIError.bodyTooLarge
            case .methodNotAllowed: throw APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "\(request.method) is not allowed on \(request.uri.path).")
            default: throw APIError(status: error.status, code: "http_error", message: error.body ?? error.status.reasonPhrase)
            }
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(status: .internalServerError, type: .api, code: "internal_error",
                           message: "Something went wrong on our side; nothing was changed by this request.")
        }
    }
}
