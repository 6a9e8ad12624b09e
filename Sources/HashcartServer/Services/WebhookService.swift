/// A merchant's webhooks (its own only): endpoints, secrets, the delivery log, events and redelivery.
public protocol WebhookService: Sendable {
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
    func webhookDeliveries(merchantID: String, id: String, limit: Int, startingAfter: String?) async throws -> ListView<WebhookDeliveryView>
    /// Sends a `webhook_endpoint.test` event to one endpoint.
    func sendTestWebhook(merchantID: String, id: String) async throws -> EventView
}
