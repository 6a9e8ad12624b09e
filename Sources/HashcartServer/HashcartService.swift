/// What the HTTP API asks of Hashcart. The server depends only on this protocol (and the core);
/// the `hashcart` executable hands it an implementation backed by the engine, the store and the
/// sandbox network. Implementations throw ``APIError`` for anything the caller should see.
public protocol HashcartService: Sendable {
    /// Whether `token` is the operator's admin token (compared in constant time).
    func isAdminToken(_ token: String) async -> Bool
    /// Whether the store answers (for `/readyz`).
    func isReady() async -> Bool
    /// The process's metrics in Prometheus' text format (for `/metrics`).
    func metricsText() async -> String
    /// The health of this mode's network connectors, one per network it runs, by network.
    func connectorHealth() async -> [ConnectorHealthView]
    /// Sets this mode's connector gauges in the metrics registry (before `/metrics` is read).
    func recordConnectorHealth() async

    /// A network's webhook (X's Account Activity API): `GET` answers its challenge (`crc_token`),
    /// `POST` takes a signed delivery. Throws ``APIError`` for a network without one, a bad
    /// signature (401) or a malformed body (400).
    func networkWebhook(network: String, method: String, query: [String: String], signature: String?, body: Data) async throws -> NetworkWebhookReply

    /// The dashboard's users and sessions of this mode (sign-in, `POST /v1/dashboard_users`).
    var dashboard: any DashboardAccountService { get }

    /// The merchant an API key acts as, or nil.
    func merchant(forAPIKey key: String) async -> String?
    /// The cardholder a token acts as, or nil.
    func cardholder(forToken token: String) async -> String?

    /// Claims an `Idempotency-Key` for a request: `scope` identifies the caller (its credential),
    /// `request` is the method, path and body.
    func claimIdempotencyKey(scope: String, key: String, request: Data) async throws -> IdempotencyClaim
    /// Records the first response to a claimed key (`nil` forgets the key so it can be retried).
    func finishIdempotencyKey(scope: String, key: String, status: Int?, body: Data) async throws

    func createMerchant(_ body: CreateMerchantBody) async throws -> MerchantView
    /// A new API key for a merchant, shown once.
    func createAPIKey(merchantID: String) async throws -> SecretView
    /// A merchant's API keys, newest first (never their secrets; revoked ones marked).
    func apiKeys(merchantID: String, limit: Int) async throws -> ListView<SecretView>
    /// Revokes one of a merchant's API keys at once.
    func revokeAPIKey(merchantID: String, keyID: String) async throws -> SecretView
    /// A new bearer token for a cardholder, shown once.
    func createCardholderToken(cardholderID: String) async throws -> SecretView
    func createCardholder(_ body: CreateCardholderBody) async throws -> CardholderView
    func ledgerCheck() async throws -> LedgerCheckView
    /// The issuer's risk limits in this mode.
    func riskSettings() async throws -> RiskSettingsView
    func setRiskSettings(_ body: RiskSettingsBody) async throws -> RiskSettingsView
    /// The issuer's kill switch for every purchase in this mode.
    func killSwitch() async throws -> KillSwitchView
    func setKillSwitch(_ body: KillSwitchBody) async throws -> KillSwitchView
    /// The issuer stops (or lets go on) one offer, whoever's it is.
    func setOfferKillSwitch(offerID: String, _ body: OfferKillSwitchBody) async throws -> OfferView
    func setOfferRisk(offerID: String, _ body: RiskSettingsBody) async throws -> OfferView
    /// Sets the bank account a merchant's settlement batches are paid to.
    func setPayoutAccount(merchantID: String, _ body: PayoutAccountBody) async throws -> MerchantView
    /// The issuer's sales-tax liability per state over UTC days `from` through `to` (YYYY-MM-DD).
    func salesTaxReport(from: String?, to: String?) async throws -> SalesTaxReportView
    /// The merchant's settlement statements, newest day first.
    func settlements(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<SettlementView>
    /// Another merchant's settlement is "not found".
    func settlement(merchantID: String, id: String) async throws -> SettlementView
    /// The issuer's card transactions, as JSON (the card feed takes ISO 8583): what each did.
    func ingestCardTransactions(_ body: CardTransactionsBody) async throws -> ListView<CardTransactionResultView>

    func createOffer(merchantID: String, _ body: CreateOfferBody) async throws -> OfferView
    func offers(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<OfferView>
    /// Another merchant's offer is "not found".
    func offer(merchantID: String, id: String) async throws -> OfferView

    /// Pauses (`paused`), resumes (`published`) or ends (`ended`) one of the merchant's offers.
    func setOfferLifecycle(merchantID: String, id: String, to lifecycle: String) async throws -> OfferView

    func analytics(merchantID: String, offerID: String) async throws -> AnalyticsView
    /// One of the merchant's offers' funnel counters (totals only: what a page shows at once).
    func offerFunnel(merchantID: String, offerID: String) async throws -> [String: Int64]
    /// The merchant's funnel across its offers over `[from, to)` (unix seconds; text as given, checked here).
    func merchantAnalytics(merchantID: String, from: String?, to: String?) async throws -> MerchantAnalyticsView

    /// Merchants (operator): those whose name or id holds `search`, by id, after `after`.
    func merchants(search: String?, limit: Int, after: String?) async throws -> ListView<MerchantView>
    /// One merchant (operator).
    func merchant(id: String) async throws -> MerchantView
    /// Cardholders (operator): those whose card account id holds `search`, by id, after `after`.
    func cardholders(search: String?, limit: Int, after: String?) async throws -> ListView<CardholderView>
    /// One card account of this mode (operator).
    func cardholder(id: String) async throws -> CardholderView
    /// Moves a card account's credit limit (operator); a cut below what it has used is refused.
    func updateCardholder(id: String, _ body: UpdateCardholderBody) async throws -> CardholderView
    /// Closes a card account (operator): no new purchases, its links end; refunds still reach it.
    func closeCardholder(id: String, _ body: CloseAccountBody) async throws -> CardholderView
    /// Closes a merchant (operator): its offers end and it starts no new ones; orders and payouts go on.
    func closeMerchant(id: String, _ body: CloseAccountBody) async throws -> MerchantView

    /// The networks this mode runs, which cardholders can link accounts on (by name, sorted).
    var networkNames: [String] { get }

    /// The audit log, newest first: everything (the operator) or one merchant's lines; `before` a line's number.
    func auditLog(merchantID: String?, limit: Int, before: Int64?) async throws -> [AuditLineView]

    /// The merchant's funnel (or one offer's) per bucket over `[from, to)` (unix seconds, whole
    /// minutes), `buckets` of them at most: what the dashboard's charts draw.
    func funnelChart(merchantID: String, offerID: String?, from: Int64, to: Int64, buckets: Int, metrics: [String]) async throws -> FunnelChartView

    func orders(merchantID: String, offerID: String?, status: String?, limit: Int, startingAfter: String?) async throws -> ListView<OrderView>
    func order(merchantID: String, id: String) async throws -> OrderView
    /// The merchant's order with this reference (any case, surrounding spaces ignored), or nil.
    func order(merchantID: String, reference: String) async throws -> OrderView?
    func shipOrder(merchantID: String, id: String, _ body: ShipOrderBody) async throws -> OrderView
    func cancelOrder(merchantID: String, id: String) async throws -> OrderView
    func refundOrder(merchantID: String, id: String, _ body: RefundBody) async throws -> OrderView

    func createWebhookEndpoint(merchantID: String, _ body: CreateWebhookEndpointBody) async throws -> WebhookEndpointView
    func events(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<EventView>
    func redeliverEvent(merchantID: String, id: String) async throws -> EventView
    /// The merchant's webhook endpoints (never their secrets).
    func webhookEndpoints(merchantID: String) async throws -> ListView<WebhookEndpointView>
    /// Stops (`disabled: true`) or resumes deliveries to an endpoint.
    func setWebhookEndpointDisabled(merchantID: String, id: String, disabled: Bool) async throws -> WebhookEndpointView
    /// A new signing secret, shown once; the old one signs too until it expires.
    func rotateWebhookSecret(merchantID: String, id: String, _ body: RotateWebhookSecretBody) async throws -> WebhookEndpointView
    /// An endpoint's delivery log, newest first.
    func webhookDeliveries(merchantID: String, id: String, limit: Int) async throws -> ListView<WebhookDeliveryView>
    /// Sends a `webhook_endpoint.test` event to one endpoint.
    func sendTestWebhook(merchantID: String, id: String) async throws -> EventView

    /// The cardholder's receipts and decline reasons, newest first.
    func notifications(cardholderID: String, limit: Int) async throws -> ListView<NotificationView>

    /// The cardholder's statement credits from card-linked offers, newest first.
    func statementCredits(cardholderID: String, limit: Int) async throws -> ListView<StatementCreditView>

    /// The cardholder cancels a purchase before shipment.
    func cancelPurchase(cardholderID: String, id: String) async throws -> PurchaseView

    func createLinkCode(cardholderID: String, _ body: CreateLinkBody) async throws -> LinkCodeView
    /// Starts linking by OAuth: a sign-in at the network, used once within ten minutes.
    /// `browserNonce`: the random value of the starting browser's cookie when a page starts it
    /// (only that browser can then finish it); nil over the API.
    func startOAuthLink(cardholderID: String, _ body: CreateOAuthLinkBody, browserNonce: String?) async throws -> OAuthLinkView
    /// The network sent the person back (`code` and `state`, or `error`): links the account it
    /// proves to the card that started the sign-in. Unauthenticated: the state is the credential.
    /// `browserNonce` is the callback browser's cookie, if it sent one.
    func finishOAuthLink(network: String, state: String, code: String?, error: String?, browserNonce: String?) async throws -> LinkView
    func links(cardholderID: String) async throws -> ListView<LinkView>
    func deleteLink(cardholderID: String, id: String) async throws -> LinkView
    func purchases(cardholderID: String, limit: Int, startingAfter: String?) async throws -> ListView<PurchaseView>

    /// The sandbox account a sandbox token (`hc_sbx_…`) acts as, or nil (test mode only).
    func sandboxAccount(forToken token: String) async -> String?
    /// A sandbox account and its token, shown once. Only the operator or a merchant may create
    /// one; it remembers who did.
    func createSandboxAccount(_ body: CreateSandboxAccountBody, createdBy principal: Principal) async throws -> SandboxAccountView
    /// A post as the account `author_id` names: a sandbox token names its own account; the
    /// operator any account but the official one; a merchant an account it created.
    func createSandboxPost(_ body: CreateSandboxPostBody, by principal: Principal) async throws -> SandboxPostView
    func repost(postID: String, _ body: CreateRepostBody, by principal: Principal) async throws -> SandboxPostView
    /// Deletes a post; only its author (acted as by the same rules as posting) can.
    func deleteSandboxPost(postID: String, authorID: String, by principal: Principal) async throws -> SandboxPostView
    func sandboxPosts(authorID: String?, inReplyTo: String?, afterPostID: String?, limit: Int) async throws -> ListView<SandboxPostView>
}

/// What a service knows of an idempotency key.
public enum IdempotencyClaim: Sendable, Equatable {
    case claimed
    case inFlight
    case mismatch
    case replay(status: Int, body: Data)
}

import Foundation

/// What a network's webhook answers: a JSON body (the CRC response) or nothing.
public struct NetworkWebhookReply: Sendable, Equatable {
    public var body: Data

    public init(body: Data) {
        self.body = body
    }
}
