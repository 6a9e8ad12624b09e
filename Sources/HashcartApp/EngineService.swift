import Crypto
import HashcartConnectors
import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartServer
import HashcartStore
import Hummingbird
import Prometheus

/// The HTTP API's ``HashcartService`` of one mode, backed by that mode's engines and store (SQLite
/// or PostgreSQL) and, in test mode, the sandbox network. It turns every domain error into the
/// API's error shape. `hashcart serve` makes one per mode it runs; nothing one holds reaches the other.
public struct EngineService: HashcartService {
    /// The mode this service's store, engines and credentials belong to.
    public let mode: Mode
    let engine: Engine
    /// The engine of each network this process runs, by network.
    let engines: [NetworkName: Engine]
    /// The X connector that takes Account Activity webhooks, when one is configured so.
    let xActivity: XConnector?
    let store: any HashcartDatabase
    /// The sandbox network: test mode only (live mode has none).
    let sandbox: SandboxNetwork?
    /// SHA-256 of the admin token: the token itself is never kept.
    let adminTokenHash: [UInt8]
    /// Where the process's metrics are collected (bootstrapped into swift-metrics by `serve`).
    let metrics: PrometheusCollectorRegistry
    /// Whether webhook endpoints may point at loopback or private addresses (local trials, tests).
    let allowPrivateWebhookHosts: Bool
    /// The networks cardholders of this mode can link by OAuth sign-in, by network.
    let oauthLinks: [NetworkName: any OAuthLinkProvider]
    /// The dashboard's users and sessions of this mode.
    public let dashboard: any DashboardAccountService

    /// `engine` serves the API and the sandbox; `networkEngines` are the engines of the other
    /// networks `hashcart serve` runs (cardholders link on any of them).
    public init(mode: Mode = .test, engine: Engine, store: any HashcartDatabase, sandbox: SandboxNetwork?, adminTokenHash: [UInt8],
                metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), allowPrivateWebhookHosts: Bool = false,
                networkEngines: [Engine] = [], oauthLinks: [any OAuthLinkProvider] = [], bcryptCost: UInt8 = 12) {
        precondition(mode == .test || sandbox == nil, "live mode has no sandbox network")
        self.mode = mode
        self.engine = engine
        self.xActivity = ([engine] + networkEngines).lazy.compactMap { $0.connector as? XConnector }.first { $0.configuration.consumerSecret != nil }
        var byNetwork = [engine.connector.network: engine]
        for other in networkEngines { byNetwork[other.connector.network] = other }
        self.engines = byNetwork
        self.store = store
        self.sandbox = sandbox
        self.adminTokenHash = adminTokenHash
        self.metrics = metrics
        self.allowPrivateWebhookHosts = allowPrivateWebhookHosts
        self.oauthLinks = Dictionary(oauthLinks.map { ($0.network, $0) }, uniquingKeysWith: { first, _ in first })
        self.dashboard = DashboardAccounts(mode: mode, store: store, clock: engine.clock, bcryptCost: bcryptCost)
    }

    /// What webhook URLs of this mode must be: live mode's https and public, always; test mode's
    /// public unless `--allow-private-webhooks` (local trials).
    public var webhookPolicy: WebhookAddressPolicy {
        WebhookAddressPolicy(allowPrivate: allowPrivateWebhookHosts && mode == .test, requireHTTPS: mode == .live)
    }

    public func metricsText() async -> String {
        metrics.emitToString()
    }

    /// SHA-256 of a token, as ``EngineService`` keeps it.
    public static func hash(token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    public func isAdminToken(_ token: String) async -> Bool {
        let presented = Array(SHA256.hash(data: Data(token.utf8)))
        return SecretText.equal(presented, adminTokenHash)
    }

    public func isReady() async -> Bool {
        (try? await store.read { try $0.count("merchants") }) != nil
    }

    public func claimIdempotencyKey(scope: String, key: String, request: Data) async throws -> IdempotencyClaim {
        let claim = try await store.claimIdempotency(scope: Self.hash(token: scope), key: key, requestHash: Array(SHA256.hash(data: request)),
                                               now: engine.clock.now())
        switch claim {
        case .claimed: return .claimed
        case .inFlight: return .inFlight
        case .mismatch: return .mismatch
        case .replay(let status, let body): return .replay(status: status, body: body)
        }
    }

    public func finishIdempotencyKey(scope: String, key: String, status: Int?, body: Data) async throws {
        try await store.finishIdempotency(scope: Self.hash(token: scope), key: key, status: status, body: body)
    }

    public func networkWebhook(network: String, method: String, query: [String: String], signature: String?, body: Data) async throws -> NetworkWebhookReply {
        guard network == NetworkName.x.rawValue, let x = xActivity else {
            throw APIError.notFound("webhook for network `\(network.prefix(32))`")
        }
        if method == "GET" {
            guard let token = query["crc_token"], let response = x.crcResponse(crcToken: token) else {
                throw APIError.invalid("Query parameter `crc_token` is required (1 to 1024 characters).", param: "crc_token", code: "parameter_missing")
            }
            return NetworkWebhookReply(body: response)
        }
        do {
            guard try await x.receiveActivity(body: body, signature: signature) else {
                throw APIError(status: .unauthorized, type: .authentication, code: "signature_invalid",
                               message: "The x-twitter-webhooks-signature header does not sign this body with the app's consumer secret.")
            }
        } catch let error as WireFormatError {
            throw APIError.invalid(error.description)
        }
        return NetworkWebhookReply(body: Data("{}".utf8))
    }

    /// An id a caller sent to page or filter by (`starting_after`, `offer`): well formed (printable
    /// ASCII, bounded) or a 400 naming `param`, before any store sees it (PostgreSQL refuses a NUL
    /// in text, and nothing else should reach SQL unchecked either).
    func queryID<Kind>(_ text: String?, param: String) throws -> Identifier<Kind>? {
        guard let text else { return nil }
        guard let id = Identifier<Kind>(validating: text) else {
            throw APIError.invalid("`\(param)` must be an id this API gave (printable ASCII, at most \(Identifier<Kind>.maximumLength) characters).",
                                   param: param)
        }
        return id
    }

    /// A search text (the API's and the pages' one check): at most 64 characters, no control
    /// characters (a 400 naming `q` otherwise); trimmed, and nil when nothing is left.
    func searchQuery(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard text.count <= 64, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.invalid("`q` is at most 64 characters, without control characters.", param: "q")
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Runs `body`, turning domain errors into ``APIError``s a caller can act on.
    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as APIError {
            throw error
        } catch let error as EngineError {
            switch error {
            case .invalid(let validation): throw APIError.invalid(validation.message, param: validation.field)
            case .notFound(let what): throw APIError.notFound(what)
            case .conflict(let detail): throw APIError.conflict(detail)
            case .refused(let detail): throw APIError.refused(detail)
            }
        } catch let error as ValidationError {
            throw APIError.invalid(error.message, param: error.field)
        } catch let error as OAuthLinkError {
            // No sign-in with this state: 404; one that cannot be finished any more, or an account
            // taken: 409; the person said no at the network: 403.
            let status: HTTPResponse.Status = switch error {
            case .unknownState: .notFound
            case .stateUsed, .stateExpired, .wrongNetwork, .identityTaken, .cardAlreadyLinked: .conflict
            case .denied, .otherBrowser: .forbidden
            case .tooManyPending: .tooManyRequests
            }
            throw APIError(status: status, type: status == .tooManyRequests ? .rateLimit : .invalidRequest, code: error.code,
                           message: error.description, param: error.concernsState ? "state" : nil)
        } catch let error as StoreError {
            switch error {
            case .conflict(let detail): throw APIError.conflict(detail)
            case .notFound(let detail): throw APIError(status: .notFound, code: "resource_missing", message: detail)
            default: throw error
            }
        } catch let error as SandboxError {
            switch error {
            case .unknownAccount, .unknownPost: throw APIError(status: .notFound, code: "resource_missing", message: error.description)
            case .handleTaken: throw APIError.conflict(error.description)
            case .notAuthor: throw APIError(status: .forbidden, code: "not_author", message: error.description)
            case .postDeleted: throw APIError.refused(error.description)
            case .invalidHandle: throw APIError.invalid(error.description, param: "handle")
            case .textTooLong: throw APIError.invalid(error.description, param: "text")
            }
        }
    }
}
