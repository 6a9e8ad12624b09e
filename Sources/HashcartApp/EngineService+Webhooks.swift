import Crypto
import Foundation
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore

/// Webhooks (merchant: its own only): endpoints, their secrets and delivery log, events and their
/// redelivery, and the payload a delivery carries.
extension EngineService {
    public func createWebhookEndpoint(merchantID: String, _ body: CreateWebhookEndpointBody) async throws -> WebhookEndpointView {
        try await mapped {
            do {
                _ = try webhookPolicy.check(url: body.url)
            } catch let error as WebhookURLError {
                throw APIError.invalid(error.message, param: "url")
            }
            let secret = Self.secret(prefix: "whsec_")
            let (endpointID, now) = (RandomIDGenerator().next(prefix: "we"), engine.clock.now())
            let endpoint = try await AuditAction.recording("webhook_endpoint.create", objectID: endpointID, merchantID: MerchantID(merchantID),
                                                           detail: String(body.url.prefix(200)), at: now) {
                try await store.createWebhookEndpoint(id: endpointID, merchantID: MerchantID(merchantID), url: body.url, secret: secret, at: now)
            }
            return WebhookEndpointView(id: endpoint.id, url: endpoint.url, secret: secret, created: endpoint.createdAt.millisecondsSinceEpoch / 1000)
        }
    }

    static func view(_ status: WebhookEndpointStatus, secret: String? = nil, now: Instant) -> WebhookEndpointView {
        WebhookEndpointView(id: status.endpoint.id, url: status.endpoint.url, secret: secret, created: status.endpoint.createdAt.millisecondsSinceEpoch / 1000,
                            status: status.isDisabled ? "disabled" : "enabled",
                            previousSecretExpiresAt: status.previousSecretExpiresAt.flatMap { $0 > now ? $0.millisecondsSinceEpoch / 1000 : nil })
    }

    public func webhookEndpoints(merchantID: String) async throws -> ListView<WebhookEndpointView> {
        try await mapped {
            let now = engine.clock.now()
            return ListView(data: try await store.webhookEndpoints(merchantID: MerchantID(merchantID)).map { Self.view($0, now: now) }, hasMore: false)
        }
    }

    public func setWebhookEndpointDisabled(merchantID: String, id: String, disabled: Bool) async throws -> WebhookEndpointView {
        try await mapped {
            let now = engine.clock.now()
            guard let status = try await AuditAction.recording(disabled ? "webhook_endpoint.disable" : "webhook_endpoint.enable", objectID: id,
                                                               merchantID: MerchantID(merchantID), at: now, {
                try await store.setWebhookEndpointDisabled(id: id, merchantID: MerchantID(merchantID), disabled: disabled, at: now)
            }) else {
                throw APIError.notFound("webhook endpoint \(id.prefix(64))")
            }
            return Self.view(status, now: now)
        }
    }

    /// The longest an old secret may keep signing after a rotation: a week.
    static let maximumPreviousSecretSeconds: Int64 = 7 * 86_400

    public func rotateWebhookSecret(merchantID: String, id: String, _ body: RotateWebhookSecretBody) async throws -> WebhookEndpointView {
        try await mapped {
            let seconds = body.expirePreviousAfterSeconds ?? 86_400
            guard (0...Self.maximumPreviousSecretSeconds).contains(seconds) else {
                throw APIError.invalid("`expire_previous_after_seconds` must be 0 to \(Self.maximumPreviousSecretSeconds) (a week).",
                                       param: "expire_previous_after_seconds")
            }
            let now = engine.clock.now()
            let secret = Self.secret(prefix: "whsec_")
            guard let status = try await AuditAction.recording("webhook_endpoint.rotate_secret", objectID: id, merchantID: MerchantID(merchantID),
                                                               detail: "previous secret signs for \(seconds) s", at: now, {
                try await store.rotateWebhookSecret(id: id, merchantID: MerchantID(merchantID), newSecret: secret,
                                                    previousExpiresAt: now.adding(seconds: seconds), at: now)
            }) else {
                throw APIError.notFound("webhook endpoint \(id.prefix(64))")
            }
            return Self.view(status, secret: secret, now: now)
        }
    }

    public func webhookDeliveries(merchantID: String, id: String, limit: Int, startingAfter: String?) async throws -> ListView<WebhookDeliveryView> {
        try await mapped {
            let after: Identifier<MerchantEvent>? = try queryID(startingAfter, param: "starting_after")
            guard let records = try await store.webhookDeliveryLog(endpointID: id, merchantID: MerchantID(merchantID), limit: limit + 1,
                                                                   startingAfter: after?.rawValue) else {
                throw APIError.notFound("webhook endpoint \(id.prefix(64))")
            }
            func seconds(_ instant: Instant?) -> Int64? { instant.map { $0.millisecondsSinceEpoch / 1000 } }
            return ListView(data: records.prefix(limit).map { record in
                WebhookDeliveryView(event: record.eventID, type: record.type, status: record.state, attempts: record.attempts,
                                    lastResponseStatus: record.lastStatus, lastError: record.lastError, delivered: seconds(record.deliveredAt),
                                    created: record.createdAt.millisecondsSinceEpoch / 1000, nextAttempt: seconds(record.nextAttemptAt))
            }, hasMore: records.count > limit)
        }
    }

    public func sendTestWebhook(merchantID: String, id: String) async throws -> EventView {
        try await mapped {
            let now = engine.clock.now()
            let eventID = RandomIDGenerator().next(prefix: "evt_test")
            guard try await store.addTestWebhookEvent(endpointID: id, merchantID: MerchantID(merchantID), eventID: eventID, at: now) else {
                throw APIError.notFound("enabled webhook endpoint \(id.prefix(64))")
            }
            return EventView(id: eventID, type: MerchantEventType.webhookEndpointTest.rawValue, subject: id, created: now.millisecondsSinceEpoch / 1000,
                             delivery: "pending", deliveryAttempts: 0)
        }
    }

    public func events(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<EventView> {
        try await mapped {
            let after: Identifier<MerchantEvent>? = try queryID(startingAfter, param: "starting_after")
            let events = try await store.merchantEvents(merchantID: MerchantID(merchantID), limit: limit + 1, startingAfter: after?.rawValue)
            return ListView(data: events.prefix(limit).map(Self.view), hasMore: events.count > limit)
        }
    }

    public func redeliverEvent(merchantID: String, id: String) async throws -> EventView {
        try await mapped {
            guard try await store.redeliverWebhook(eventID: id, merchantID: MerchantID(merchantID), now: engine.clock.now()),
                let status = try await store.merchantEvents(merchantID: MerchantID(merchantID), limit: 1_000, startingAfter: nil).first(where: { $0.event.id == id })
            else { throw APIError.notFound("event \(id.prefix(64))") }
            return Self.view(status)
        }
    }

    static func view(_ status: MerchantEventStatus) -> EventView {
        EventView(id: status.event.id, type: status.event.type.rawValue, subject: status.event.objectID,
                  created: status.event.createdAt.millisecondsSinceEpoch / 1000, delivery: status.delivery, deliveryAttempts: status.attempts)
    }

    /// The JSON body of a webhook: `{"id", "object": "event", "type", "created", "data": {"object": …}}`,
    /// with the order (and its shipping address) or the offer as it is at delivery time.
    public func webhookPayload(for event: MerchantEvent) async throws -> Data {
        let encoder = HashcartRouter.makeEncoder(livemode: mode.isLive)
        let object: Data
        switch event.type {
        case .orderCreated, .orderShipped, .orderCancelled, .orderRefunded:
            guard let order = try await store.read({ try $0.order(OrderID(event.objectID)) }) else { throw StoreError.notFound("order \(event.objectID)") }
            object = try encoder.encode(try await view(order))
        case .offerSoldOut, .offerEnded:
            guard let offer = try await store.read({ try $0.offer(OfferID(event.objectID)) }) else { throw StoreError.notFound("offer \(event.objectID)") }
            object = try encoder.encode(view(offer))
        case .statementCreditEarned, .statementCreditReversed, .statementCreditClawbackRefused:
            let (credit, offer) = try await store.read { reader in
                let credit = try reader.statementCredit(StatementCreditID(event.objectID))
                return (credit, try credit.flatMap { try reader.offer($0.offerID) })
            }
            guard let credit, let offer else { throw StoreError.notFound("statement credit \(event.objectID)") }
            object = try encoder.encode(Self.view(credit, title: offer.title))
        case .webhookEndpointTest:
            guard let endpoint = try await store.webhookEndpoints(merchantID: event.merchantID).first(where: { $0.endpoint.id == event.objectID }) else {
                throw StoreError.notFound("webhook endpoint \(event.objectID)")
            }
            object = try encoder.encode(Self.view(endpoint, now: engine.clock.now()))
        }
        let head = "{\"created\":\(event.createdAt.millisecondsSinceEpoch / 1000),\"data\":{\"object\":"
        var body = Data(head.utf8)
        body.append(object)
        body.append(Data("},\"id\":\"\(event.id)\",\"livemode\":\(mode.isLive),\"object\":\"event\",\"type\":\"\(event.type.rawValue)\"}".utf8))
        return body
    }
}
