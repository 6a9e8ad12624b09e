import HashcartCore
import Hummingbird

/// What the session middleware found for a dashboard request: set on the parent context, read by
/// ``DashboardContext`` (whose fields are then never optional).
public struct DashboardRequest: Sendable {
    public var principal: DashboardPrincipal
    public var sessionToken: String
    /// The fields of a posted form (its CSRF token checked already); empty for GET.
    public var form: PageForm
}

/// The context of a signed-in dashboard page: who, in which mode, and the form they posted.
/// Made only from a request the session middleware let through, so nothing here is optional.
public struct DashboardContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let mode: Mode
    public let principal: DashboardPrincipal
    public let sessionToken: String
    public let form: PageForm
    public let clientAddress: String

    public init(context: HashcartRequestContext) throws {
        guard let page = context.dashboard else { throw PageError.signInRequired }
        coreContext = context.coreContext
        mode = context.mode
        principal = page.principal
        sessionToken = page.sessionToken
        form = page.form
        clientAddress = context.clientAddress
    }

    /// The merchant a merchant user acts for; any other role gets 404 (the page is not theirs).
    func merchantID() throws -> String {
        guard principal.role == .merchant, let id = principal.merchantID else { throw PageError.notFound }
        return id
    }

    func cardholderID() throws -> String {
        guard principal.role == .cardholder, let id = principal.cardholderID else { throw PageError.notFound }
        return id
    }

    func requireOperator() throws {
        guard principal.role == .operator else { throw PageError.notFound }
    }
}

/// An error a page shows as a page (never the API's JSON).
public enum PageError: Error, Sendable {
    case signInRequired
    case notFound
    /// A form without this session's CSRF token.
    case forgedForm
    case badForm(String)
    case tooLarge
}
