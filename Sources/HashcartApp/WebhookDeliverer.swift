import AsyncHTTPClient
import Crypto
import Foundation
import HashcartCore
import HashcartStore
import Logging
import NIOCore
import ServiceLifecycle

/// Delivers merchant events to their webhook endpoints, at least once, across restarts.
///
/// Each POST carries `Hashcart-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
/// and `Hashcart-Event-Id`. A 2xx answer delivers; anything else (or no answer within 10 s) is
/// retried with exponential backoff and jitter (10 s, 20 s, 40 s … capped at 6 h) until the event is
/// 3 days old, then marked failed (a merchant can ask for it again). At most 8 deliveries at once,
/// 100 per round.
///
/// With several instances on one database, each delivery is claimed by one deliverer for
/// ``leaseMilliseconds``; a crashed instance's claims run out and another instance takes them over.
public struct WebhookDeliverer: Service {
    let store: any WebhookDeliveryStore
    let clock: any WallClock
    /// The JSON body of an event (the event with its object, as the API shows it).
    let payload: @Sendable (MerchantEvent) async throws -> Data
    let transport: any WebhookTransport
    let logger: Logger
    /// How long a claimed delivery stays with this deliverer (longer than a round can take).
    public let leaseMilliseconds: Int64
    /// Most deliveries in flight at once.
    public let maximumConcurrentDeliveries: Int

    public static let deliveriesPerRound = 100
    public static let requestTimeoutSeconds: Int64 = 10
    public static let retryForMilliseconds: Int64 = 3 * 86_400_000

    /// The deliverer of `hashcart serve`: the service's store and payloads, over HTTP, 8 at once.
    /// Its transport checks every attempt with the service's policy (live mode: https only, never
    /// a private address).
    public init(service: EngineService, logger: Logger, leaseMilliseconds: Int64 = 180_000) {
        self.init(store: service.store, clock: service.engine.clock, payload: { try await service.webhookPayload(for: $0) },
                  transport: HTTPClientWebhookTransport(policy: service.webhookPolicy), logger: logger, leaseMilliseconds: leaseMilliseconds)
    }

    /// A deliverer over any store and transport (the simulator delivers to simulated merchants, one at a time).
    public init(store: any WebhookDeliveryStore, clock: any WallClock, payload: @escaping @Sendable (MerchantEvent) async throws -> Data,
                transport: any WebhookTransport, logger: Logger, leaseMilliseconds: Int64 = 180_000, maximumConcurrentDeliveries: Int = 8) {
        precondition(leaseMilliseconds >= 1_000 && leaseMilliseconds <= 3_600_000, "a lease lasts between 1 s and 1 h")
        precondition((1...64).contains(maximumConcurrentDeliveries), "between 1 and 64 deliveries at once")
        self.store = store
        self.clock = clock
        self.payload = payload
        self.transport = transport
        self.logger = logger
        self.leaseMilliseconds = leaseMilliseconds
        self.maximumConcurrentDeliveries = maximumConcurrentDeliveries
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let delivered = (try? await round()) ?? 0
            if delivered == 0 { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// One round: schedule new events, then deliver what is due. Returns the attempts made.
    @discardableResult
    public func round() async throws -> Int {
        let now = clock.now()
        try await store.scheduleWebhookDeliveries(now: now)
        let due = try await store.claimDueWebhookDeliveries(now: now, limit: Self.deliveriesPerRound, leaseMilliseconds: leaseMilliseconds)
        guard !due.isEmpty else { return 0 }
        if maximumConcurrentDeliveries == 1 {
            for delivery in due { try await deliver(delivery) }
            return due.count
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for delivery in due {
                if running == maximumConcurrentDeliveries {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await self.deliver(delivery) }
                running += 1
            }
            try await group.waitForAll()
        }
        return due.count
    }

    /// Sends one delivery and records the attempt. Throws only when the attempt could not be
    /// recorded (the store is down): the lease then runs out and the delivery is sent again.
    func deliver(_ delivery: WebhookDelivery) async throws {
        var status: Int?
        var failure: String?
        do {
            let body = try await payload(delivery.event)
            let timestamp = clock.now().millisecondsSinceEpoch / 1000
            let headers = [("Content-Type", "application/json"), ("User-Agent", "Hashcart-Webhooks/1"),
                           ("Hashcart-Event-Id", delivery.event.id),
                           ("Hashcart-Signature", Self.signature(secret: delivery.secret, timestamp: timestamp, body: body,
                                                                 previous: delivery.previousSecretExpiresAt.map { $0 > clock.now() } == true ? delivery.previousSecret : nil))]
            status = try await transport.post(url: delivery.endpoint.url, headers: headers, body: body, timeoutSeconds: Self.requestTimeoutSeconds)
        } catch {
            failure = "\(error)"
        }
        if let code = status, (300..<400).contains(code) {
            failure = "redirect refused (\(code)): webhooks never follow redirects"
        }
        let now = clock.now()
        let delivered = status.map { (200..<300).contains($0) } ?? false
        var next: Instant?
        if !delivered {
            let delay = Self.retryDelayMilliseconds(afterAttempt: delivery.attempts + 1, key: delivery.event.id + delivery.endpoint.id)
            let retryUntil = delivery.event.createdAt.adding(milliseconds: Self.retryForMilliseconds)
            if now.adding(milliseconds: delay) <= retryUntil { next = now.adding(milliseconds: delay) }
            logger.info("webhook not delivered", metadata: ["event": "\(delivery.event.id)", "endpoint": "\(delivery.endpoint.id)",
                                                              "status": "\(status.map(String.init) ?? "none")", "retry": "\(next != nil)"])
        }
        do {
            try await store.recordWebhookAttempt(eventID: delivery.event.id, endpointID: delivery.endpoint.id, delivered: delivered, status: status,
                                           error: failure ?? (delivered ? nil : "status \(status ?? 0)"), nextAttemptAt: next, now: now)
        } catch {
            logger.error("could not record a webhook attempt", metadata: ["error": "\(error)"])
            throw error
        }
    }

    /// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: what a merchant verifies.
    /// After a rotation, while the old secret still signs, a second `v1` follows, made with it: a
    /// receiver accepts the delivery if any `v1` matches the secret it holds.
    public static func signature(secret: String, timestamp: Int64, body: Data, previous: String? = nil) -> String {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        func mac(_ key: String) -> String {
            HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(key.utf8))).map { String(format: "%02x", $0) }.joined()
        }
        return "t=\(timestamp),v1=" + mac(secret) + (previous.map { ",v1=" + mac($0) } ?? "")
    }

    /// 10 s × 2^(attempt−1), capped at 6 h, plus up to 20 % jitter derived from the key (deterministic).
    public static func retryDelayMilliseconds(afterAttempt attempt: Int64, key: String) -> Int64 {
        let base = min(Int64(10_000) << min(max(attempt - 1, 0), 20), 6 * 3_600_000)
        var hasher = FNV1a()
        hasher.combine(key)
        hasher.combine(UInt8(truncatingIfNeeded: attempt))
        return base + Int64(hasher.value % UInt64(base / 5 + 1))
    }
}

/// How a webhook reaches the merchant: HTTP in production, a simulated merchant in `hashcart sim`.
public protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url`; returns the HTTP status, or throws when no answer came within `timeoutSeconds`.
    func post(url: String, headers: [(String, String)], body: Data, timeoutSeconds: Int64) async throws -> Int
}

/// Webhooks over AsyncHTTPClient, never turned inward.
///
/// Before every attempt the URL is checked again by ``WebhookAddressPolicy`` and its host
/// resolved; if any address is refused, nothing is sent. The connection then goes to the address
/// that was checked (AsyncHTTPClient's `dnsOverride`: no second lookup, while TLS still verifies
/// the certificate against the host name), redirects are never followed (a 3xx is a failed
/// attempt), and at most 64 KiB of the answer is read and then thrown away: the delivery log
/// keeps the status, never what a host answered.
public struct HTTPClientWebhookTransport: WebhookTransport {
    let policy: WebhookAddressPolicy
    let eventLoopGroup: any EventLoopGroup
    let resolve: @Sendable (String, Int) async throws(WebhookURLError) -> [NetworkAddress]

    public init(policy: WebhookAddressPolicy = WebhookAddressPolicy(), eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup,
                resolve: @escaping @Sendable (String, Int) async throws(WebhookURLError) -> [NetworkAddress] = { host, port throws(WebhookURLError) in
                    try await WebhookAddressPolicy.resolve(host: host, port: port)
                }) {
        self.policy = policy
        self.eventLoopGroup = eventLoopGroup
        self.resolve = resolve
    }

    public func post(url: String, headers: [(String, String)], body: Data, timeoutSeconds: Int64) async throws -> Int {
        let (target, address) = try await policy.destination(url: url, resolve: resolve)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(5), read: .seconds(timeoutSeconds)))
        configuration.dnsOverride = [target.host: address.description]
        configuration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .seconds(timeoutSeconds))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            try await client.shutdown()
            return Int(response.status.code)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
