import Foundation
import Hummingbird
import Synchronization

/// How fast one credential may call the API: a token bucket per credential.
public struct RateLimit: Sendable, Hashable {
    /// Sustained requests per second.
    public var requestsPerSecond: Double
    /// Requests allowed at once after a quiet spell.
    public var burst: Double

    public init(requestsPerSecond: Double = 100, burst: Double = 200) {
        precondition(requestsPerSecond > 0 && burst >= 1, "a rate limit lets something through")
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }

    /// Most credentials tracked at once; beyond it, idle (full) buckets are dropped.
    public static let maximumTrackedCredentials = 10_000
}

/// Refuses a credential's request with 429 and `Retry-After` once its bucket is empty. Requests
/// without credentials (a network's webhook, a request that will be refused as unauthenticated)
/// share one bucket per client address; the probes and the OpenAPI document are never limited.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = HashcartRequestContext
    let limit: RateLimit
    let buckets = Buckets()
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant

    /// Probes and documents are never limited.
    static var unlimitedPaths: Set<String> { ["/healthz", "/readyz", "/metrics", "/openapi.yaml"] }

    static func takesNoCredential(_ path: String) -> Bool { path.hasPrefix("/oauth/") || path.hasPrefix("/webhooks/") }

    init(limit: RateLimit) {
        self.limit = limit
        self.start = clock.now
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !Self.unlimitedPaths.contains(request.uri.path) else { return try await next(request, context) }
        // Routes that take no Hashcart credential (a network's webhook, an OAuth callback) are
        // limited by address: a made-up Authorization header must not buy a fresh bucket there.
        let credential = Self.takesNoCredential(request.uri.path) ? nil : request.headers[.authorization]
        let key = credential ?? "address:\(context.clientAddress)"
        let elapsed = start.duration(to: clock.now)
        let now = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let wait: Double? = buckets.state.withLock { buckets in
            if buckets.count >= RateLimit.maximumTrackedCredentials {
                buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * limit.requestsPerSecond < limit.burst }
                if buckets.count >= RateLimit.maximumTrackedCredentials { buckets.removeAll() }
            }
            var bucket = buckets[key] ?? Buckets.Bucket(tokens: limit.burst, updated: now)
            bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.requestsPerSecond)
            bucket.updated = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / limit.requestsPerSecond }
            bucket.tokens -= 1
            return nil
        }
        if let wait {
            throw RateLimited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
        }
        return try await next(request, context)
    }
}

/// The buckets of all credentials, shared by every copy of the middleware.
final class Buckets: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    let state = Mutex<[String: Bucket]>([:])
}

/// 429 in the one error shape, with `Retry-After`.
struct RateLimited: Error, HTTPResponseError {
    enum Reason {
        /// The credential (or, without one, the client address) used up its requests.
        case requests
        /// The client address (or all clients) failed to authenticate too often.
        case failedAuthentication
    }

    var retryAfterSeconds: Int
    var reason: Reason = .requests
    var status: HTTPResponse.Status { .tooManyRequests }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let error = switch reason {
        case .requests:
            APIError(status: .tooManyRequests, type: .rateLimit, code: "rate_limited",
                     message: "Too many requests for this credential; retry after \(retryAfterSeconds) s.")
        case .failedAuthentication:
            APIError(status: .tooManyRequests, type: .rateLimit, code: "authentication_throttled",
                     message: "Too many failed authentications from this address; retry after \(retryAfterSeconds) s.")
        }
        var response = try error.response(from: request, context: context)
        response.headers[.retryAfter] = String(retryAfterSeconds)
        return response
    }
}
