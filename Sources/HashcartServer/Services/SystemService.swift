import Foundation

/// What every mode answers apart from any resource: the operator's token, readiness, metrics and
/// the networks' health, credentials presented, idempotency keys, and networks' own webhooks.
public protocol SystemService: Sendable {
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
    /// The merchant an API key acts as, or nil.
    func merchant(forAPIKey key: String) async -> String?
    /// The cardholder a token acts as, or nil.
    func cardholder(forToken token: String) async -> String?
    /// Claims an `Idempotency-Key` for a request: `scope` identifies the caller (its credential),
    /// `request` is the method, path and body.
    func claimIdempotencyKey(scope: String, key: String, request: Data) async throws -> IdempotencyClaim
    /// Records the first response to a claimed key (`nil` forgets the key so it can be retried).
    func finishIdempotencyKey(scope: String, key: String, status: Int?, body: Data) async throws
}

/// What a service knows of an idempotency key.
public enum IdempotencyClaim: Sendable, Equatable {
    case claimed
    case inFlight
    case mismatch
    case replay(status: Int, body: Data)
}

/// What a network's webhook answers: a JSON body (the CRC response) or nothing.
public struct NetworkWebhookReply: Sendable, Equatable {
    public var body: Data

    public init(body: Data) {
        self.body = body
    }
}
