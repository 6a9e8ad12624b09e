import HashcartCore
import Hummingbird
import NIOCore

/// Who a request was authenticated as.
public enum Principal: Sendable, Hashable {
    /// The issuer's operator (the admin token).
    case `operator`
    /// A merchant, by one of its API keys.
    case merchant(String)
    /// A cardholder, by one of their tokens.
    case cardholder(String)
    /// A sandbox account, by its own token (test mode only).
    case sandboxAccount(String)

    /// A stable name of the principal, unique within a mode: what idempotency keys are scoped to.
    public var scope: String {
        switch self {
        case .operator: "operator"
        case .merchant(let id): "merchant:\(id)"
        case .cardholder(let id): "cardholder:\(id)"
        case .sandboxAccount(let id): "sandbox_account:\(id)"
        }
    }
}

/// The request context: the client's address, and once a credential was checked, who the caller
/// is and in which mode (live or test) it acts.
public struct HashcartRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The mode the caller acts in; test until a credential says otherwise.
    public var mode: Mode = .test
    /// Set by the authentication middlewares; nil on the public routes.
    public var principal: Principal?
    /// The client's address (the peer of the TCP connection), for throttling.
    public var remoteAddress: SocketAddress?
    /// Set by the dashboard's session middleware on signed-in pages; nil elsewhere.
    public var dashboard: DashboardRequest?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The merchant a merchant credential acts as.
    public var merchantID: String? {
        if case .merchant(let id) = principal { return id }
        return nil
    }

    /// The cardholder a cardholder credential acts as.
    public var cardholderID: String? {
        if case .cardholder(let id) = principal { return id }
        return nil
    }

    /// The client's IP address as text ("unknown" when the transport has none, as in-memory tests).
    public var clientAddress: String {
        remoteAddress?.ipAddress ?? "unknown"
    }
}

/// The bearer token of a request, if any (bounded: no token is longer than 256 characters).
func bearerToken(_ request: Request) -> String? {
    guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count <= 263 else { return nil }
    return String(header.dropFirst(7))
}
