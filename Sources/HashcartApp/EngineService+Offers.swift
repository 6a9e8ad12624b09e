import Foundation
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore

/// Offers (merchant: its own only): creating, listing, pausing, resuming and ending them, and
/// their analytics and funnel.
extension EngineService {
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

    /// Tells every network's connector about offer changes now rather than within a second, so
    /// that posts right after a new offer are not dropped at the edge.
    func refreshConnectorInterest() async {
        for engine in engines.values { try? await engine.refreshInterest(force: true) }
    }

    public func offers(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<OfferView> {
        try await mapped {
            let after: OfferID? = try queryID(startingAfter, param: "starting_after")
            let offers = try await store.read { reader in
                try reader.offers(merchantID: MerchantID(merchantID), limit: limit + 1, startingAfter: after)
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
}
