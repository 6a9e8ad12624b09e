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
        // Constant time: every byte is compared whatever the first difference.
        return presented.count == adminTokenHash.count && zip(presented, adminTokenHash).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
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

    public func ledgerCheck() async throws -> LedgerCheckView {
        try await mapped {
            LedgerCheckView(violations: try await store.read { try $0.audit() }.map {
                ViolationView(rule: $0.rule, subject: $0.subject, detail: $0.detail)
            })
        }
    }

    public func merchant(forAPIKey key: String) async -> String? {
        guard key.hasPrefix(mode.apiKeyPrefix) else { return nil }
        return try? await store.credentialOwner(kind: .merchantAPIKey, secretHash: Self.hash(token: key))
    }

    public func cardholder(forToken token: String) async -> String? {
        guard token.hasPrefix(mode.cardholderTokenPrefix) else { return nil }
        return try? await store.credentialOwner(kind: .cardholderToken, secretHash: Self.hash(token: token))
    }

    /// A new secret: a prefix and 32 characters from the system's CSPRNG.
    public static func secret(prefix: String) -> String {
        let generator = RandomIDGenerator()
        return prefix + generator.next(prefix: "x").dropFirst(2) + generator.next(prefix: "x").dropFirst(2)
    }

    public func createAPIKey(merchantID: String) async throws -> SecretView {
        try await mapped {
            guard let id = MerchantID(validating: merchantID), try await store.read({ try $0.merchant(id) }) != nil else {
                throw APIError.notFound("merchant \(merchantID.prefix(64))")
            }
            let secret = Self.secret(prefix: mode.apiKeyPrefix)
            let keyID = RandomIDGenerator().next(prefix: "key")
            let now = engine.clock.now()
            try await AuditAction.recording("api_key.create", objectID: keyID, merchantID: id, at: now) {
                try await store.saveCredential(id: keyID, kind: .merchantAPIKey, ownerID: id.rawValue, secretHash: Self.hash(token: secret), at: now)
            }
            return SecretView(object: "api_key", id: keyID, owner: id.rawValue, secret: secret, created: now.millisecondsSinceEpoch / 1000)
        }
    }

    public func revokeAPIKey(merchantID: String, keyID: String) async throws -> SecretView {
        try await mapped {
            let now = engine.clock.now()
            guard try await AuditAction.recording("api_key.revoke", objectID: keyID, merchantID: MerchantID(merchantID), at: now, {
                try await store.revokeCredential(id: keyID, kind: .merchantAPIKey, ownerID: merchantID, at: now)
            }) else {
                throw APIError.notFound("API key \(keyID.prefix(64)) of merchant \(merchantID.prefix(64))")
            }
            return SecretView(object: "api_key", id: keyID, owner: merchantID, secret: nil, created: now.millisecondsSinceEpoch / 1000, revoked: true)
        }
    }

    public func createCardholderToken(cardholderID: String) async throws -> SecretView {
        try await mapped {
            guard let id = CardAccountID(validating: cardholderID), try await store.read({ try $0.cardAccount(id) }) != nil else {
                throw APIError.notFound("cardholder \(cardholderID.prefix(64))")
            }
            let secret = Self.secret(prefix: mode.cardholderTokenPrefix)
            let tokenID = RandomIDGenerator().next(prefix: "tok")
            let now = engine.clock.now()
            try await AuditAction.recording("cardholder_token.create", objectID: tokenID, at: now) {
                try await store.saveCredential(id: tokenID, kind: .cardholderToken, ownerID: id.rawValue, secretHash: Self.hash(token: secret), at: now)
            }
            return SecretView(object: "cardholder_token", id: tokenID, owner: id.rawValue, secret: secret, created: now.millisecondsSinceEpoch / 1000)
        }
    }

    public func createOffer(merchantID: String, _ body: CreateOfferBody) async throws -> OfferView {
        let created = try await mapped {
            guard body.currency == nil || body.currency?.uppercased() == Currency.usd.rawValue else {
                throw APIError.invalid("Only USD offers are supported.", param: "currency")
            }
            var draft = OfferDraft(merchantID: MerchantID(merchantID), title: body.title, sku: body.sku, price: .usd(body.price ?? 0),
                                   hashtag: body.hashtag, quantity: body.quantity)
            try Self.applyKind(body, to: &draft)
            if let category = body.taxCategory {
                guard let parsed = TaxCategory(rawValue: category) else {
                    let names = TaxCategory.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError.invalid("`tax_category` must be one of \(names).", param: "tax_category")
                }
                draft.taxCategory = parsed
            }
            if let mode = body.captureMode {
                guard let parsed = CaptureMode(rawValue: mode) else {
                    throw APIError.invalid("`capture_mode` must be on_shipment or on_confirmation.", param: "capture_mode")
                }
                draft.captureMode = parsed
            }
            if let states = body.eligibleStates {
                guard states.count <= USState.allCases.count * 2 else { throw APIError.invalid("Too many `eligible_states`.", param: "eligible_states") }
                var parsed = Set<USState>()
                for code in states {
                    guard let state = USState(code: code) else {
                        throw APIError.invalid("`eligible_states` holds `\(code.prefix(8))`, not a US state code.", param: "eligible_states")
                    }
                    parsed.insert(state)
                }
                draft.eligibleStates = parsed
            }
            for (name, value) in [("starts_at", body.startsAt), ("ends_at", body.endsAt)] {
                if let value, !(0...32_503_680_000).contains(value) {
                    throw APIError.invalid("`\(name)` must be a Unix time in seconds.", param: name)
                }
            }
            draft.startsAt = body.startsAt.map(Instant.init(secondsSinceEpoch:))
            draft.endsAt = body.endsAt.map(Instant.init(secondsSinceEpoch:))
            if let limit = body.perCardholderLimit { draft.perCardholderLimit = limit }
            if let window = body.confirmationWindowSeconds { draft.confirmationWindowSeconds = window }
            if let announce = body.announce { draft.announce = announce }
            return view(try await engine.createOffer(draft))
        }
        await refreshConnectorInterest()
        return created
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

    /// Tells every network's connector about offer changes now rather than within a second, so
    /// that posts right after a new offer are not dropped at the edge.
    func refreshConnectorInterest() async {
        for engine in engines.values { try? await engine.refreshInterest(force: true) }
    }

    public func offers(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<OfferView> {
        try await mapped {
            let offers = try await store.read { reader in
                try reader.offers(merchantID: MerchantID(merchantID), limit: limit + 1, startingAfter: startingAfter.map(OfferID.init(rawValue:)))
            }
            return ListView(data: offers.prefix(limit).map(view), hasMore: offers.count > limit)
        }
    }

    public func offer(merchantID: String, id: String) async throws -> OfferView {
        try await mapped {
            view(try await ownOffer(merchantID: merchantID, id: id))
        }
    }

    /// Reads `kind` and, for a statement_credit offer, its terms into the draft. A purchase
    /// offer refuses the card-linked fields; a statement_credit offer the purchase-only ones.
    static func applyKind(_ body: CreateOfferBody, to draft: inout OfferDraft) throws {
        guard let kind = OfferType(rawValue: body.kind ?? OfferType.purchase.rawValue) else {
            throw APIError.invalid("`kind` must be purchase or statement_credit.", param: "kind")
        }
        draft.type = kind
        let creditFields: [(String, Bool)] = [("spend_threshold", body.spendThreshold != nil), ("credit_amount", body.creditAmount != nil),
                                              ("budget", body.budget != nil), ("acceptor_ids", body.acceptorIds != nil), ("mccs", body.mccs != nil)]
        switch kind {
        case .purchase:
            guard body.price != nil else { throw APIError.invalid("Missing required field `price`.", param: "price", code: "parameter_missing") }
            if let (field, _) = creditFields.first(where: \.1) {
                throw APIError.invalid("`\(field)` is for statement_credit offers only.", param: field)
            }
        case .statementCredit:
            for (field, present) in creditFields.prefix(4) where !present {
                throw APIError.invalid("A statement_credit offer needs `\(field)`.", param: field, code: "parameter_missing")
            }
            for (field, present) in [("quantity", body.quantity != nil), ("capture_mode", body.captureMode != nil),
                                     ("tax_category", body.taxCategory != nil)] where present {
                throw APIError.invalid("`\(field)` is for purchase offers only.", param: field)
            }
            let acceptors = body.acceptorIds ?? [], codes = body.mccs ?? []
            guard acceptors.count <= StatementCreditTerms.maximumAcceptors * 2, codes.count <= StatementCreditTerms.maximumCategoryCodes * 2 else {
                throw APIError.invalid("Too many `acceptor_ids` or `mccs`.", param: acceptors.count > 200 ? "acceptor_ids" : "mccs")
            }
            let terms = StatementCreditTerms(spendThreshold: .usd(body.spendThreshold ?? 0), credit: .usd(body.creditAmount ?? 0),
                                             acceptorIDs: Set(acceptors), merchantCategoryCodes: Set(codes), budget: .usd(body.budget ?? 0))
            if let price = body.price, price != terms.credit.minorUnits {
                throw APIError.invalid("A statement_credit offer's `price` is its `credit_amount`; leave it out.", param: "price")
            }
            draft.statementCredit = try terms.validated()
            draft.price = terms.credit
            draft.taxCategory = .exempt
        }
    }

    func view(_ offer: Offer) -> OfferView {
        var view = OfferView(id: offer.id.rawValue, merchant: offer.merchantID.rawValue, title: offer.title, sku: offer.sku, price: offer.price.minorUnits,
                  currency: offer.price.currency.rawValue, hashtag: offer.hashtag.description, taxCategory: offer.taxCategory.rawValue,
                  quantity: offer.quantity, perCardholderLimit: offer.perCardholderLimit,
                  startsAt: offer.startsAt.millisecondsSinceEpoch / 1000, endsAt: offer.endsAt.millisecondsSinceEpoch / 1000,
                  eligibleStates: offer.eligibleStates.map(\.rawValue).sorted(), captureMode: offer.captureMode.rawValue,
                  confirmationWindowSeconds: offer.confirmationWindowSeconds, state: offer.state(at: engine.clock.now()).rawValue,
                  unitsSold: offer.soldUnits, unitsReserved: offer.reservedUnits, announcement: offer.announcement,
                  created: offer.createdAt.millisecondsSinceEpoch / 1000, kind: offer.type.rawValue,
                  statementCredit: offer.statementCredit.map { terms in
                      StatementCreditTermsView(spendThreshold: terms.spendThreshold.minorUnits, creditAmount: terms.credit.minorUnits,
                                               budget: terms.budget.minorUnits, creditedTotal: offer.creditedTotal,
                                               acceptorIds: terms.acceptorIDs.sorted(), mccs: terms.merchantCategoryCodes.sorted())
                  })
        view.killSwitch = offer.killSwitch
        view.announce = offer.announce
        view.risk = OfferRiskView(dailySpendCap: offer.risk.dailySpendCap?.minorUnits, maxPurchasesPerHour: offer.risk.maximumPurchasesPerHour,
                                  minLinkAgeSeconds: offer.risk.minimumLinkAgeSeconds)
        return view
    }

    public func setOfferLifecycle(merchantID: String, id: String, to lifecycle: String) async throws -> OfferView {
        let changed = try await mapped {
            _ = try await ownOffer(merchantID: merchantID, id: id)
            guard let target = OfferLifecycle(rawValue: lifecycle) else { throw APIError.invalid("Unknown lifecycle \(lifecycle).") }
            return view(try await engine.setLifecycle(of: OfferID(id), to: target))
        }
        await refreshConnectorInterest()
        return changed
    }

    public func analytics(merchantID: String, offerID: String) async throws -> AnalyticsView {
        try await mapped {
            let offer = try await ownOffer(merchantID: merchantID, id: offerID)
            let (totals, series, times) = try await store.read { reader in
                (try reader.funnel(offer: offer.id), try reader.funnelSeries(offer: offer.id), try reader.timesToConfirm(offer: offer.id))
            }
            func rate(_ numerator: String, _ denominator: String) -> Double {
                guard let bottom = totals[denominator], bottom > 0 else { return 0 }
                return (Double(totals[numerator] ?? 0) / Double(bottom) * 10_000).rounded() / 10_000
            }
            let conversion = [
                "linked_per_post": rate(FunnelMetric.linkedPosts.rawValue, FunnelMetric.posts.rawValue),
                "confirmation_sent_per_linked": rate(FunnelMetric.confirmationsSent.rawValue, FunnelMetric.linkedPosts.rawValue),
                "confirmed_per_confirmation_sent": rate(FunnelMetric.confirmed.rawValue, FunnelMetric.confirmationsSent.rawValue),
                "order_per_confirmed": rate(FunnelMetric.orders.rawValue, FunnelMetric.confirmed.rawValue),
            ]
            func percentile(_ p: Int) -> Int64 { times.isEmpty ? 0 : times[min(times.count - 1, times.count * p / 100)] / 1000 }
            var minutes: [Int64: [String: Int64]] = [:]
            for entry in series { minutes[entry.minute, default: ["minute": entry.minute * 60]][entry.metric] = entry.value }
            return AnalyticsView(offer: offer.id.rawValue, totals: totals, conversion: conversion,
                                 timeToConfirmSeconds: ["p50": percentile(50), "p90": percentile(90), "count": Int64(times.count)],
                                 series: minutes.keys.sorted().map { minutes[$0]! })
        }
    }

    /// The widest range one request sums: a year and a day.
    static let maximumAnalyticsRangeSeconds: Int64 = 366 * 86_400

    public func merchantAnalytics(merchantID: String, from: String?, to: String?) async throws -> MerchantAnalyticsView {
        try await mapped {
            let now = engine.clock.now().millisecondsSinceEpoch / 1000
            func seconds(_ text: String?, _ param: String, default value: Int64) throws -> Int64 {
                guard let text else { return value }
                guard (1...12).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let parsed = Int64(text),
                      parsed <= 32_503_680_000 else {
                    throw APIError.invalid("`\(param)` must be a Unix time in seconds.", param: param)
                }
                return parsed
            }
            let end = try seconds(to, "to", default: now + 60)
            let start = try seconds(from, "from", default: max(0, end - 86_400))
            guard start < end else { throw APIError.invalid("`from` must be before `to`.", param: "from") }
            guard end - start <= Self.maximumAnalyticsRangeSeconds else {
                throw APIError.invalid("At most 366 days at once.", param: "from")
            }
            // Whole minutes: the counters are kept per minute.
            let (fromMinute, toMinute) = (start / 60, (end + 59) / 60)
            let merchant = MerchantID(merchantID)
            let rows = try await store.read { reader in
                try reader.funnelTotals(merchantID: merchant, fromMinute: fromMinute, toMinute: toMinute, limit: 100_000)
            }
            var byOffer: [OfferID: [String: Int64]] = [:]
            for row in rows { byOffer[row.offer, default: [:]][row.metric] = row.value }
            let ids = Array(byOffer.keys)
            let titles: [OfferID: String] = try await store.read { reader in
                var titles: [OfferID: String] = [:]
                for id in ids { titles[id] = try reader.offer(id)?.title }
                return titles
            }
            let offers = byOffer.keys.sorted { $0.rawValue < $1.rawValue }.map { id in
                MerchantAnalyticsView.OfferTotals(offer: id.rawValue, title: titles[id] ?? "", totals: byOffer[id]!)
            }
            return MerchantAnalyticsView(from: fromMinute * 60, to: toMinute * 60, offers: offers)
        }
    }

    /// One of the merchant's offers; another merchant's is "not found".
    func ownOffer(merchantID: String, id: String) async throws -> Offer {
        guard let offerID = OfferID(validating: id), let offer = try await store.read({ try $0.offer(offerID) }),
            offer.merchantID.rawValue == merchantID
        else { throw APIError.notFound("offer \(id.prefix(64))") }
        return offer
    }

    /// One of the merchant's orders; another merchant's is "not found".
    func ownOrder(merchantID: String, id: String) async throws -> Order {
        guard let orderID = OrderID(validating: id), let order = try await store.read({ try $0.order(orderID) }),
            order.merchantID.rawValue == merchantID
        else { throw APIError.notFound("order \(id.prefix(64))") }
        return order
    }

    /// The order as the merchant sees it, with its shipping address (the card's billing address).
    func view(_ order: Order) async throws -> OrderView {
        Self.view(order, card: try await store.read { try $0.cardAccount(order.cardAccountID) })
    }

    static func view(_ order: Order, card: CardAccount?) -> OrderView {
        let shipping = card.map { card in
            ShippingView(name: card.billing.name, line1: card.billing.line1, line2: card.billing.line2, city: card.billing.city,
                         state: card.billing.state.rawValue, postalCode: card.billing.postalCode)
        }
        return OrderView(id: order.id.rawValue, offer: order.offerID.rawValue, reference: order.reference, status: order.status.rawValue,
                         quantity: order.units, unitAmount: order.unitPrice.minorUnits, amount: order.amount.minorUnits, tax: order.tax.minorUnits, taxRatePpm: order.taxRatePartsPerMillion,
                         total: order.total.minorUnits, currency: order.total.currency.rawValue, amountCaptured: order.capturedAmount.minorUnits,
                         amountRefunded: order.refundedAmount.minorUnits, carrier: order.carrier, tracking: order.tracking,
                         shipping: shipping, created: order.createdAt.millisecondsSinceEpoch / 1000)
    }

    public func orders(merchantID: String, offerID: String?, status: String?, limit: Int, startingAfter: String?) async throws -> ListView<OrderView> {
        try await mapped {
            var statusFilter: OrderStatus?
            if let status {
                guard let parsed = OrderStatus(rawValue: status) else {
                    throw APIError.invalid("`status` must be created, shipped, cancelled or refunded.", param: "status")
                }
                statusFilter = parsed
            }
            // The page and its shipping addresses from one snapshot.
            let (orders, cards) = try await store.read { [statusFilter] reader in
                let orders = try reader.orders(merchantID: MerchantID(merchantID), offerID: offerID.map(OfferID.init(rawValue:)), status: statusFilter,
                                               limit: limit + 1, startingAfter: startingAfter.map(OrderID.init(rawValue:)))
                var cards: [CardAccountID: CardAccount] = [:]
                for order in orders.prefix(limit) where cards[order.cardAccountID] == nil {
                    cards[order.cardAccountID] = try reader.cardAccount(order.cardAccountID)
                }
                return (orders, cards)
            }
            return ListView(data: orders.prefix(limit).map { Self.view($0, card: cards[$0.cardAccountID]) }, hasMore: orders.count > limit)
        }
    }

    public func order(merchantID: String, id: String) async throws -> OrderView {
        try await mapped { try await view(try await ownOrder(merchantID: merchantID, id: id)) }
    }

    public func order(merchantID: String, reference: String) async throws -> OrderView? {
        try await mapped {
            // References are upper-case letters and digits: another spelling of one is the same.
            let spelled = reference.trimmingCharacters(in: .whitespaces).uppercased()
            guard (1...32).contains(spelled.utf8.count), spelled.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }) else {
                return nil
            }
            let merchant = MerchantID(merchantID)
            guard let order = try await store.read({ try $0.order(merchantID: merchant, reference: spelled) }) else { return nil }
            return try await view(order)
        }
    }

    public func shipOrder(merchantID: String, id: String, _ body: ShipOrderBody) async throws -> OrderView {
        try await mapped {
            let order = try await ownOrder(merchantID: merchantID, id: id)
            return try await view(try await engine.ship(orderID: order.id, carrier: body.carrier, tracking: body.tracking))
        }
    }

    public func cancelOrder(merchantID: String, id: String) async throws -> OrderView {
        try await mapped {
            let order = try await ownOrder(merchantID: merchantID, id: id)
            return try await view(try await engine.cancel(orderID: order.id, by: .merchantCancelled))
        }
    }

    public func refundOrder(merchantID: String, id: String, _ body: RefundBody) async throws -> OrderView {
        try await mapped {
            guard body.currency == nil || body.currency?.uppercased() == Currency.usd.rawValue else {
                throw APIError.invalid("Refunds are in USD.", param: "currency")
            }
            guard body.amount > 0 else { throw APIError.invalid("`amount` must be a positive number of minor units.", param: "amount") }
            let order = try await ownOrder(merchantID: merchantID, id: id)
            return try await view(try await engine.refund(orderID: order.id, amount: .usd(body.amount)))
        }
    }

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

    public func webhookDeliveries(merchantID: String, id: String, limit: Int) async throws -> ListView<WebhookDeliveryView> {
        try await mapped {
            guard let records = try await store.webhookDeliveryLog(endpointID: id, merchantID: MerchantID(merchantID), limit: limit + 1) else {
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
            let events = try await store.merchantEvents(merchantID: MerchantID(merchantID), limit: limit + 1, startingAfter: startingAfter)
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

    public func notifications(cardholderID: String, limit: Int) async throws -> ListView<NotificationView> {
        try await mapped {
            let all = try await store.read { try $0.notifications(cardAccountID: CardAccountID(cardholderID)) }
            let newest = all.reversed().prefix(limit + 1)
            return ListView(data: newest.prefix(limit).map {
                NotificationView(id: $0.id, kind: $0.kind, purchase: $0.purchaseID?.rawValue, message: $0.message,
                                 created: $0.createdAt.millisecondsSinceEpoch / 1000)
            }, hasMore: newest.count > limit)
        }
    }

    /// The issuer's card transactions (`POST /v1/card_transactions`): each PAN is fingerprinted
    /// here and dropped; a malformed transaction refuses the whole batch before anything changes.
    public func ingestCardTransactions(_ body: CardTransactionsBody) async throws -> ListView<CardTransactionResultView> {
        try await mapped {
            guard (1...Self.maximumCardTransactionsPerRequest).contains(body.transactions.count) else {
                throw APIError.invalid("`transactions` must hold 1 to \(Self.maximumCardTransactionsPerRequest) transactions.", param: "transactions")
            }
            var transactions: [CardTransaction] = []
            for (index, item) in body.transactions.enumerated() {
                func field(_ name: String) -> String { "transactions.\(index).\(name)" }
                guard let kind = CardTransactionKind(rawValue: item.kind) else {
                    throw APIError.invalid("`\(field("kind"))` must be purchase or reversal.", param: field("kind"))
                }
                guard item.currency == nil || item.currency?.uppercased() == Currency.usd.rawValue else {
                    throw APIError.invalid("Only USD card transactions are supported.", param: field("currency"))
                }
                guard (0...32_503_680_000).contains(item.occurredAt) else {
                    throw APIError.invalid("`\(field("occurred_at"))` must be a Unix time in seconds.", param: field("occurred_at"))
                }
                let pan: PrimaryAccountNumber
                do throws(ValidationError) { pan = try PrimaryAccountNumber(item.pan) } catch {
                    throw APIError.invalid("`\(field("pan"))` \(error.message).", param: field("pan"))
                }
                let transaction = CardTransaction(kind: kind, card: store.cardFingerprint(of: pan), amount: .usd(item.amount),
                                                  acceptorID: item.acceptorId, merchantCategoryCode: item.mcc, retrievalReference: item.rrn,
                                                  systemTrace: item.stan, occurredAt: Instant(secondsSinceEpoch: item.occurredAt))
                do throws(ValidationError) {
                    transactions.append(try transaction.validated(now: engine.clock.now()))
                } catch {
                    throw APIError.invalid("`\(field(error.field))` \(error.message).", param: field(error.field))
                }
            }
            let outcomes = try await engine.ingestCardTransactions(transactions)
            return ListView(data: zip(transactions, outcomes).map { CardTransactionResultView(id: $0.id.rawValue, outcome: $1.rawValue) },
                            hasMore: false)
        }
    }

    /// The most card transactions one `POST /v1/card_transactions` takes (its body is bounded too).
    public static let maximumCardTransactionsPerRequest = 200

    /// A cardholder's statement credits, newest first.
    public func statementCredits(cardholderID: String, limit: Int) async throws -> ListView<StatementCreditView> {
        try await mapped {
            let (credits, titles) = try await store.read { reader in
                let credits = try reader.statementCredits(cardAccountID: CardAccountID(cardholderID), limit: limit + 1)
                var titles: [OfferID: String] = [:]
                for id in Set(credits.map(\.offerID)) { titles[id] = try reader.offer(id)?.title }
                return (credits, titles)
            }
            return ListView(data: credits.prefix(limit).map { Self.view($0, title: titles[$0.offerID] ?? "") }, hasMore: credits.count > limit)
        }
    }

    static func view(_ credit: StatementCredit, title: String) -> StatementCreditView {
        StatementCreditView(id: credit.id.rawValue, offer: credit.offerID.rawValue, merchant: credit.merchantID.rawValue, title: title,
                            amount: credit.amount.minorUnits, currency: credit.amount.currency.rawValue, state: credit.state.rawValue,
                            created: credit.earnedAt.millisecondsSinceEpoch / 1000,
                            reversedAt: credit.reversedAt.map { $0.millisecondsSinceEpoch / 1000 })
    }

    public func cancelPurchase(cardholderID: String, id: String) async throws -> PurchaseView {
        try await mapped {
            guard let purchaseID = PurchaseID(validating: id) else { throw APIError.notFound("purchase \(id.prefix(64))") }
            try await engine.cancelPurchase(purchaseID, cardAccountID: CardAccountID(cardholderID))
            guard let purchase = try await store.read({ try $0.purchase(purchaseID) }) else { throw APIError.notFound("purchase \(id.prefix(64))") }
            return Self.view(purchase)
        }
    }

    static func view(_ p: Purchase) -> PurchaseView {
        PurchaseView(id: p.id.rawValue, offer: p.offerID.rawValue, reference: p.reference, state: p.state.rawValue,
                     declineReason: p.declineReason?.rawValue, declineMessage: p.declineReason?.cardholderMessage,
                     quantity: p.units, unitAmount: p.unitPrice.minorUnits, amount: p.amount.minorUnits, tax: p.tax.minorUnits, total: p.total.minorUnits,
                     currency: p.total.currency.rawValue, created: p.requestedAt.millisecondsSinceEpoch / 1000)
    }

    public func createLinkCode(cardholderID: String, _ body: CreateLinkBody) async throws -> LinkCodeView {
        try await mapped {
            guard let engine = engines[NetworkName(rawValue: body.network)] else {
                let names = engines.keys.map { "`\($0)`" }.sorted().joined(separator: ", ")
                throw APIError.invalid("This Hashcart links on \(names), not `\(body.network.prefix(32))`.", param: "network")
            }
            let code = try await engine.requestLinkCode(cardAccountID: CardAccountID(cardholderID))
            return LinkCodeView(code: code.code, network: code.network.rawValue, expiresAt: code.expiresAt.millisecondsSinceEpoch / 1000,
                                instructions: "Post \(code.code) from your \(code.network) account before it expires; Hashcart replies when it is linked.")
        }
    }

    public func startOAuthLink(cardholderID: String, _ body: CreateOAuthLinkBody, browserNonce: String?) async throws -> OAuthLinkView {
        try await mapped {
            let network = NetworkName(rawValue: body.network)
            guard let provider = oauthLinks[network] else {
                let names = oauthLinks.keys.map { "`\($0)`" }.sorted().joined(separator: ", ")
                throw APIError.invalid(names.isEmpty
                    ? "This Hashcart's \(mode) mode has no OAuth sign-in set up; link by code (POST /v1/links)."
                    : "OAuth sign-in links on \(names) here, not `\(body.network.prefix(32))`; link by code (POST /v1/links).", param: "network")
            }
            let state = OAuthState.make(mode: mode, random: PKCE.randomToken())
            let verifier = PKCE.randomToken() + PKCE.randomToken()
            let authorization = try await engine.beginOAuthLink(cardAccountID: CardAccountID(cardholderID), network: network,
                                                                stateHash: Self.stateHash(state), codeVerifier: verifier,
                                                                browserBindingHash: browserNonce.map(Self.stateHash))
            return OAuthLinkView(network: network.rawValue, authorizeUrl: provider.authorizationURL(state: state, codeVerifier: verifier),
                                 expiresAt: authorization.expiresAt.millisecondsSinceEpoch / 1000)
        }
    }

    public func finishOAuthLink(network: String, state: String, code: String?, error: String?, browserNonce: String?) async throws -> LinkView {
        try await mapped {
            // No sign-in can have started here for a network this mode has no OAuth app on.
            guard let provider = oauthLinks[NetworkName(rawValue: network)] else { throw OAuthLinkError.unknownState }
            guard OAuthState.mode(of: state) == mode else { throw OAuthLinkError.unknownState }
            func isVisibleASCII(_ value: String, upTo limit: Int) -> Bool {
                (1...limit).contains(value.utf8.count) && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
            }
            // A read first: a forged or replayed state (anyone can send one) never takes the writer.
            let stateHash = Self.stateHash(state)
            guard let seen = try await store.read({ try $0.oauthAuthorization(stateHash: stateHash) }) else { throw OAuthLinkError.unknownState }
            guard seen.usedAt == nil else { throw OAuthLinkError.stateUsed }
            // Started from a page: only the browser holding its cookie finishes it (checked before
            // the state is taken, so a link sent to someone else does not spend it either).
            if let binding = seen.browserBindingHash {
                let presented = browserNonce.map(Self.stateHash) ?? ""
                guard presented.utf8.count == binding.utf8.count,
                      zip(presented.utf8, binding.utf8).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
                else { throw OAuthLinkError.otherBrowser }
            }
            // Then the state is taken, whatever came with it: a sign-in is used once.
            let authorization = try await engine.claimOAuthLink(stateHash: stateHash, callbackNetwork: provider.network)
            if let error {
                let reason = isVisibleASCII(error, upTo: 64) ? error : "an unreadable error"
                throw OAuthLinkError.denied(network: provider.network, reason: reason)
            }
            guard let code, isVisibleASCII(code, upTo: 2_048) else {
                throw APIError.invalid("The network sent no usable `code`; start linking again.", param: "code")
            }
            let identity: SocialIdentity
            do {
                identity = try await provider.identity(code: code, codeVerifier: authorization.codeVerifier)
            } catch let failure as ConnectorError {
                throw failure.isRetryable
                    ? APIError(status: .badGateway, type: .api, code: "network_unavailable",
                               message: "\(provider.network) did not answer the sign-in (\(failure.message.prefix(200))); start linking again.")
                    : APIError(status: .badRequest, code: "oauth_exchange_failed",
                               message: "\(provider.network) refused the sign-in (\(failure.message.prefix(200))); start linking again.")
            }
            return Self.view(try await engine.completeOAuthLink(authorization, identity: identity))
        }
    }

    /// Hex SHA-256 of an OAuth state: the store keeps only this.
    static func stateHash(_ state: String) -> String {
        SHA256.hash(data: Data(state.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public func links(cardholderID: String) async throws -> ListView<LinkView> {
        try await mapped {
            ListView(data: try await store.read { try $0.links(cardAccountID: CardAccountID(cardholderID)) }.map(Self.view), hasMore: false)
        }
    }

    public func deleteLink(cardholderID: String, id: String) async throws -> LinkView {
        try await mapped {
            guard let link = try await store.read({ try $0.link(LinkID(id)) }), link.cardAccountID.rawValue == cardholderID, link.isActive else {
                throw APIError.notFound("link \(id.prefix(64))")
            }
            try await engine.unlink(cardAccountID: link.cardAccountID, network: link.identity.network)
            var ended = Self.view(link)
            ended.active = false
            return ended
        }
    }

    static func view(_ link: Link) -> LinkView {
        LinkView(id: link.id.rawValue, network: link.identity.network.rawValue, userId: link.identity.userID, handle: link.identity.handle,
                 created: link.createdAt.millisecondsSinceEpoch / 1000, active: link.isActive)
    }

    public func purchases(cardholderID: String, limit: Int, startingAfter: String?) async throws -> ListView<PurchaseView> {
        try await mapped {
            let (purchases, shipped) = try await store.read { reader in
                let purchases = try reader.purchases(cardAccountID: CardAccountID(cardholderID), limit: limit + 1,
                                                     startingAfter: startingAfter.map(PurchaseID.init(rawValue:)))
                let shipped = Set(try purchases.prefix(limit).filter { $0.state == .captured || $0.state == .authorized }.compactMap { purchase in
                    try reader.order(Order.id(for: purchase.id)).flatMap { $0.status == .shipped ? purchase.id : nil }
                })
                return (purchases, shipped)
            }
            return ListView(data: purchases.prefix(limit).map { purchase in
                var view = Self.view(purchase)
                view.shipped = shipped.contains(purchase.id)
                return view
            }, hasMore: purchases.count > limit)
        }
    }

    /// The sandbox network, or 404 in live mode (which has none; the router never sends it there).
    func sandboxNetwork() throws -> SandboxNetwork {
        guard let sandbox else { throw APIError.notFound("sandbox network (live mode has none)") }
        return sandbox
    }

    public func sandboxAccount(forToken token: String) async -> String? {
        guard token.hasPrefix(Mode.sandboxTokenPrefix), let sandbox else { return nil }
        return try? sandbox.account(tokenHash: Self.hash(token: token))?.id
    }

    public func createSandboxAccount(_ body: CreateSandboxAccountBody, createdBy principal: Principal) async throws -> SandboxAccountView {
        try await mapped {
            let sandbox = try sandboxNetwork()
            switch principal {
            case .operator, .merchant: break
            case .cardholder, .sandboxAccount:
                throw APIError(status: .forbidden, type: .invalidRequest, code: "forbidden",
                               message: "Sandbox accounts are created by the operator or a merchant (test mode).")
            }
            let token = Self.secret(prefix: Mode.sandboxTokenPrefix)
            let account = try sandbox.createAccount(handle: body.handle, tokenHash: Self.hash(token: token), creator: principal.scope)
            return SandboxAccountView(id: account.id, handle: account.handle, token: token)
        }
    }

    /// The sandbox account `principal` acts as for a post, a repost or a delete, as `author_id`
    /// names it: a sandbox token acts as its own account only; the operator as any account but the
    /// official one; a merchant as an account it created. Everything else is refused.
    func sandboxActor(_ principal: Principal, named authorID: String, sandbox: SandboxNetwork) throws -> String {
        let forbidden = { (message: String) in APIError(status: .forbidden, type: .invalidRequest, code: "forbidden", message: message) }
        guard !authorID.isEmpty, authorID.count <= 64 else {
            throw APIError.invalid("`author_id` must be the id of the account to act as (1 to 64 characters).", param: "author_id")
        }
        switch principal {
        case .sandboxAccount(let own):
            guard authorID == own else { throw forbidden("A sandbox token acts only as its own account.") }
            return own
        case .operator, .merchant:
            guard authorID != sandbox.official.id else {
                throw forbidden("The official account posts only through Hashcart.")
            }
            guard try sandbox.account(id: authorID) != nil else { throw SandboxError.unknownAccount(authorID) }
            if case .merchant = principal, try sandbox.creator(ofAccount: authorID) != principal.scope {
                throw forbidden("A merchant acts only as the sandbox accounts it created.")
            }
            return authorID
        case .cardholder:
            throw forbidden("A cardholder token reads the sandbox; posting needs the account's own token.")
        }
    }

    public func createSandboxPost(_ body: CreateSandboxPostBody, by principal: Principal) async throws -> SandboxPostView {
        try await mapped {
            let sandbox = try sandboxNetwork()
            guard body.inReplyTo == nil || body.quoteOf == nil else {
                throw APIError.invalid("A post is a reply or a quote, not both.", param: "quote_of")
            }
            let author = try sandboxActor(principal, named: body.authorId, sandbox: sandbox)
            return Self.view(try sandbox.post(authorID: author, text: body.text, inReplyTo: body.inReplyTo, quoting: body.quoteOf))
        }
    }

    public func repost(postID: String, _ body: CreateRepostBody, by principal: Principal) async throws -> SandboxPostView {
        try await mapped {
            let sandbox = try sandboxNetwork()
            let author = try sandboxActor(principal, named: body.authorId, sandbox: sandbox)
            return Self.view(try sandbox.repost(authorID: author, postID: postID))
        }
    }

    public func deleteSandboxPost(postID: String, authorID: String, by principal: Principal) async throws -> SandboxPostView {
        try await mapped {
            let sandbox = try sandboxNetwork()
            let author = try sandboxActor(principal, named: authorID, sandbox: sandbox)
            try sandbox.delete(authorID: author, postID: postID)
            guard let post = try sandbox.post(id: postID) else { throw APIError.notFound("sandbox post \(postID)") }
            return Self.view(post)
        }
    }

    public func sandboxPosts(authorID: String?, inReplyTo: String?, afterPostID: String?, limit: Int) async throws -> ListView<SandboxPostView> {
        try await mapped {
            let posts = try sandboxNetwork().posts(authorID: authorID, inReplyTo: inReplyTo, afterPostID: afterPostID, limit: limit + 1)
            return ListView(data: posts.prefix(limit).map(Self.view), hasMore: posts.count > limit)
        }
    }

    static func view(_ post: SandboxPost) -> SandboxPostView {
        SandboxPostView(id: post.id, authorId: post.authorID, authorHandle: post.authorHandle, kind: post.kind.rawValue, text: post.text,
                        referencedPostId: post.referencedPostID, deleted: post.deleted, created: post.createdAt.millisecondsSinceEpoch / 1000)
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
