/// What the HTTP API and the pages ask of Hashcart, one protocol per resource. The server depends
/// only on these protocols (and the core); the `hashcart` executable hands it an implementation of
/// each mode backed by the engine, the store and the sandbox network (`EngineService`). The JSON
/// routes and the pages call the same methods. Implementations throw ``APIError`` for anything
/// the caller should see.
public protocol HashcartService: SystemService, AccountService, RiskControlService, SettlementService, CardTransactionService,
    OfferService, OrderService, WebhookService, CardholderService, SandboxService
{
    /// The dashboard's users and sessions of this mode (sign-in, `POST /v1/dashboard_users`).
    var dashboard: any DashboardAccountService { get }
}
