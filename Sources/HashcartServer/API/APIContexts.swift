import HashcartCore
import Hummingbird

/// A request context that knows the mode its caller acts in: what a JSON answer's `livemode`
/// and the service it is sent to are chosen by.
public protocol ModeRequestContext: RequestContext {
    var mode: Mode { get }
}

extension HashcartRequestContext: ModeRequestContext {}

/// The context of a route only the operator reaches (the admin token, the mode from `Hashcart-Mode`).
public struct OperatorContext: ChildRequestContext, ModeRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let mode: Mode
    public let clientAddress: String

    public init(context: HashcartRequestContext) throws {
        guard context.principal == .operator else { throw APIError.unauthorized }
        coreContext = context.coreContext
        mode = context.mode
        clientAddress = context.clientAddress
    }
}

/// The context of a merchant's route: the merchant its API key acts as, never optional.
public struct MerchantContext: ChildRequestContext, ModeRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let mode: Mode
    public let merchantID: String

    public init(context: HashcartRequestContext) throws {
        guard case .merchant(let id) = context.principal else { throw APIError.unauthorized }
        coreContext = context.coreContext
        mode = context.mode
        merchantID = id
    }
}

/// The context of a cardholder's route: the card account its token acts as, never optional.
public struct CardholderContext: ChildRequestContext, ModeRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let mode: Mode
    public let cardholderID: String

    public init(context: HashcartRequestContext) throws {
        guard case .cardholder(let id) = context.principal else { throw APIError.unauthorized }
        coreContext = context.coreContext
        mode = context.mode
        cardholderID = id
    }
}

/// The context of the sandbox network's routes: whoever signed in (test mode only).
public struct SandboxContext: ChildRequestContext, ModeRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let mode: Mode
    public let principal: Principal

    public init(context: HashcartRequestContext) throws {
        guard let principal = context.principal else { throw APIError.unauthorized }
        coreContext = context.coreContext
        mode = context.mode
        self.principal = principal
    }
}

extension ModeServices {
    /// The service of a request's mode (the authentication middleware checked that it runs).
    func of(_ context: some ModeRequestContext) throws -> Service {
        guard let service = self[context.mode] else { throw APIError.unauthorized }
        return service
    }
}
