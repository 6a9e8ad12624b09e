import HTTPTypes
import HashcartCore
import Hummingbird

/// The kinds of credential a group of routes takes.
struct AcceptedCredentials: OptionSet, Sendable {
    let rawValue: Int
    /// The admin token, with the mode named in `Hashcart-Mode`.
    static let `operator` = AcceptedCredentials(rawValue: 1)
    /// A merchant API key (`hc_live_…`, `hc_test_…`).
    static let merchant = AcceptedCredentials(rawValue: 2)
    /// A cardholder token (`hc_ch_live_…`, `hc_ch_test_…`).
    static let cardholder = AcceptedCredentials(rawValue: 4)
    /// A sandbox account's own token (`hc_sbx_…`, test mode).
    static let sandboxAccount = AcceptedCredentials(rawValue: 8)
}

/// Lets a request through only with one of the credentials its routes accept, and sets the
/// context's principal and mode from it.
///
/// A credential is looked up only in the store of the mode its prefix names, so a test key can
/// never act on live data, nor a live key on test data. The operator's admin token names its mode
/// in the `Hashcart-Mode` header (`live` or `test`; optional when only test mode runs). Failed
/// attempts are counted per client address by the ``AuthFailureThrottle``, which answers 429
/// before any credential is checked once an address has failed too often.
struct AuthenticationMiddleware<Service: HashcartService>: RouterMiddleware {
    typealias Context = HashcartRequestContext
    let services: ModeServices<Service>
    let accepts: AcceptedCredentials
    /// Whether only test-mode credentials may pass (the sandbox network exists only in test mode).
    let testModeOnly: Bool
    let throttle: AuthFailureThrottle

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let address = context.clientAddress
        try throttle.check(address: address)
        guard let token = bearerToken(request), let (mode, principal) = await authenticate(token) else {
            throttle.recordFailure(address: address)
            throw APIError.unauthorized
        }
        var context = context
        context.principal = principal
        context.mode = principal == .operator ? try operatorMode(request) : mode
        if testModeOnly, context.mode != .test {
            throw APIError(status: .forbidden, type: .invalidRequest, code: "test_mode_only",
                           message: "The sandbox network exists only in test mode: use a test-mode credential (hc_test_…, hc_ch_test_…, hc_sbx_…, or the admin token with Hashcart-Mode: test).")
        }
        // Who the audit log names for whatever this request changes.
        let actor: String? = switch principal {
        case .operator: "operator (admin token)"
        case .merchant(let id): "merchant \(id) (API key)"
        case .cardholder(let id): "cardholder \(id) (token)"
        case .sandboxAccount: nil
        }
        guard let actor else { return try await next(request, context) }
        return try await AuditActor.$current.withValue(AuditActor(name: actor, address: address)) { try await next(request, context) }
    }

    /// The mode and principal a token authenticates, or nil.
    func authenticate(_ token: String) async -> (Mode, Principal)? {
        if accepts.contains(.merchant), let mode = Mode.ofAPIKey(token), let service = services[mode],
            let merchant = await service.merchant(forAPIKey: token)
        {
            return (mode, .merchant(merchant))
        }
        if accepts.contains(.cardholder), let mode = Mode.ofCardholderToken(token), let service = services[mode],
            let cardholder = await service.cardholder(forToken: token)
        {
            return (mode, .cardholder(cardholder))
        }
        if accepts.contains(.sandboxAccount), token.hasPrefix(Mode.sandboxTokenPrefix),
            let account = await services.test?.sandboxAccount(forToken: token)
        {
            return (.test, .sandboxAccount(account))
        }
        if accepts.contains(.operator), await services.any.isAdminToken(token) {
            return (.test, .operator)
        }
        return nil
    }

    /// The mode the operator names in `Hashcart-Mode`; without it, the one mode this Hashcart
    /// runs when it runs one (a 400 otherwise: the operator must say which world to act on).
    func operatorMode(_ request: Request) throws -> Mode {
        guard let header = request.headers[.hashcartMode] else {
            guard services.modes.count == 1 else {
                throw APIError.invalid("This Hashcart runs live and test mode: name the mode with the header `Hashcart-Mode: live` or `Hashcart-Mode: test`.",
                                       param: "Hashcart-Mode", code: "mode_required")
            }
            return services.modes[0]
        }
        guard let mode = Mode(rawValue: header) else {
            throw APIError.invalid("`Hashcart-Mode` must be `live` or `test`.", param: "Hashcart-Mode")
        }
        guard services[mode] != nil else {
            throw APIError.invalid("This Hashcart does not run \(mode) mode (\(mode == .live ? "no real network is configured" : "the sandbox is off")).",
                                   param: "Hashcart-Mode",
                                   code: "mode_unavailable")
        }
        return mode
    }
}

extension HTTPField.Name {
    /// The mode the operator acts in: `live` or `test`.
    static let hashcartMode = Self("Hashcart-Mode")!
}
