import HashcartCore
import Hummingbird

/// A merchant user's pages: the overview of every offer over a time range (charts, the funnel,
/// net sales), offers, orders and webhooks. Every call passes the user's own merchant id to the
/// same service the API calls, so another merchant's ids answer "not found" here as there.
struct MerchantPages<Service: HashcartService> {
    let modes: [Mode]
    let service: Service

    static var ranges: [(key: String, label: String, seconds: Int64)] { MerchantPageTables.ranges }
    static var steps: [(metric: String, label: String)] { MerchantPageTables.steps }
}

/// The fixed tables of the merchant's pages.
enum MerchantPageTables {
    /// The ranges the overview offers, in seconds.
    static let ranges: [(key: String, label: String, seconds: Int64)] = [
        ("1h", "Last hour", 3_600), ("24h", "Last 24 hours", 86_400), ("7d", "Last 7 days", 7 * 86_400), ("30d", "Last 30 days", 30 * 86_400),
    ]

    /// The funnel's steps, in order, with their labels. Orders counts every order made; units sold
    /// leaves out the cancelled ones, so the cancelled count stands between them. Posts with the
    /// hashtag are the linked, the unlinked, the quotes (counted, never a purchase) and any deleted
    /// before Hashcart read them.
    static let steps: [(metric: String, label: String)] = [
        ("posts", "Posts with the hashtag"), ("unique_authors", "Unique authors"), ("linked_posts", "From linked cardholders"),
        ("unlinked_posts", "From people not linked"),
        ("quotes", "Quotes of the offer (not purchases)"), ("confirmations_sent", "Confirmation replies"), ("confirmed", "Confirmed"),
        ("expired", "Expired unconfirmed"), ("cancelled", "Cancelled before confirming"), ("orders", "Orders"),
        ("orders_cancelled", "Orders cancelled since"), ("units_sold", "Units sold, less cancelled"),
    ]
}

extension MerchantPages {

    func add(to group: RouterGroup<DashboardContext>) {
        group.get("offers") { request, context in try await offers(request, context) }
        group.post("offers") { _, context in try await createOffer(context) }
        group.get("offers/{id}") { request, context in try await offer(request, context) }
        group.get("offers/{id}/live") { request, context in try await live(request, context) }
        for (action, lifecycle) in [("pause", "paused"), ("resume", "published"), ("end", "ended")] {
            group.post("offers/{id}/\(action)") { _, context in
                let id = try context.parameters.require("id")
                _ = try await service.setOfferLifecycle(merchantID: try context.merchantID(), id: id, to: lifecycle)
                return PageRenderer.redirect("\(base(context))/offers/\(id.urlPathSegment)?done=\(action)")
            }
        }
        group.get("orders") { request, context in try await orders(request, context) }
        group.get("orders/{id}") { request, context in try await order(request, context) }
        group.post("orders/{id}/ship") { _, context in
            let id = try context.parameters.require("id")
            let body = ShipOrderBody(carrier: try context.form.required("carrier", label: "The carrier"),
                                     tracking: try context.form.required("tracking", label: "The tracking number"))
            _ = try await service.shipOrder(merchantID: try context.merchantID(), id: id, body)
            return PageRenderer.redirect("\(base(context))/orders/\(id.urlPathSegment)?done=shipped")
        }
        group.post("orders/{id}/cancel") { _, context in
            let id = try context.parameters.require("id")
            _ = try await service.cancelOrder(merchantID: try context.merchantID(), id: id)
            return PageRenderer.redirect("\(base(context))/orders/\(id.urlPathSegment)?done=cancelled")
        }
        group.post("orders/{id}/refund") { _, context in
            let id = try context.parameters.require("id")
            let typed = try context.form.required("amount", label: "The amount")
            guard let amount = PageFormat.parseAmount(typed), amount > 0 else {
                throw PageError.badForm("The amount must be in dollars and cents, as 12.50.")
            }
            _ = try await service.refundOrder(merchantID: try context.merchantID(), id: id, RefundBody(amount: amount, currency: nil))
            return PageRenderer.redirect("\(base(context))/orders/\(id.urlPathSegment)?done=refunded")
        }
    }

    func base(_ context: DashboardContext) -> String { "/dashboard/\(context.mode.rawValue)" }

    func frame(_ context: DashboardContext, section: String, notice: String? = nil, live: Bool = false) -> PageFrame {
        PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: section, notice: notice, liveScript: live)
    }

    /// The range of `?range=` (24 hours unless one of ``ranges``), ending at the next whole minute.
    func range(_ request: Request, now: Int64) -> (key: String, from: Int64, to: Int64) {
        let key = request.uri.queryParameters.get("range") ?? "24h"
        let chosen = Self.ranges.first { $0.key == key } ?? Self.ranges[1]
        let to = (now / 60 + 1) * 60
        return (chosen.key, to - chosen.seconds, to)
    }

    // MARK: Overview

    func overview(_ request: Request, _ context: DashboardContext) async throws -> Response {
        let merchant = try context.merchantID()
        let now = service.dashboard.now()
        let (key, from, to) = range(request, now: now)
        let analytics = try await service.merchantAnalytics(merchantID: merchant, from: String(from), to: String(to))
        let chart = try await service.funnelChart(merchantID: merchant, offerID: nil, from: from, to: to, buckets: 60,
                                                  metrics: ["posts", "confirmed", "orders"])
        var data = funnelData(totals: analytics.totals, sales: analytics.sales)
        data["ranges"] = Self.ranges.map { ["key": $0.key, "label": $0.label, "current": $0.key == key] as [String: Any] }
        data["range_label"] = Self.ranges.first { $0.key == key }?.label ?? ""
        data["chart"] = chartSVG(chart, summary: "Posts, confirmations and orders over the \(data["range_label"] ?? "")")
        data["offers"] = analytics.offers.map { offer -> [String: Any] in
            let sales = NetSales(totals: offer.totals)
            return ["id": offer.offer, "title": offer.title, "posts": PageFormat.count(offer.totals["posts"] ?? 0),
                    "orders": PageFormat.count(offer.totals["orders"] ?? 0), "net": PageFormat.money(sales.net)]
        }
        data["has_offers"] = !analytics.offers.isEmpty
        return PageRenderer.shared.page("merchant_overview", title: "Overview", data: data, frame: frame(context, section: "overview"))
    }

    /// The funnel, conversions, declines and sales as the overview and an offer's page show them.
    func funnelData(totals: [String: Int64], sales: [String: Int64]) -> [String: Any] {
        let steps = Self.steps.map { step -> [String: Any] in
            ["metric": step.metric, "label": step.label, "value": PageFormat.count(totals[step.metric] ?? 0)]
        }
        func share(_ part: String, _ whole: String) -> String { PageFormat.percent(totals[part] ?? 0, of: totals[whole] ?? 0) }
        let conversions: [[String: Any]] = [
            ["label": "Linked of all posts", "value": share("linked_posts", "posts")],
            ["label": "Replied to of linked", "value": share("confirmations_sent", "linked_posts")],
            ["label": "Confirmed of replied to", "value": share("confirmed", "confirmations_sent")],
            ["label": "Orders of confirmed", "value": share("orders", "confirmed")],
        ]
        let declines = totals.filter { $0.key.hasPrefix("declined.") && $0.value != 0 }.sorted { $0.key < $1.key }.map {
            ["reason": String($0.key.dropFirst("declined.".count)).replacingOccurrences(of: "_", with: " "), "count": PageFormat.count($0.value)]
        }
        return [
            "steps": steps, "conversions": conversions, "declines": declines, "has_declines": !declines.isEmpty,
            "gross": PageFormat.money(sales["gross"] ?? 0), "voided": PageFormat.money(sales["voided"] ?? 0),
            "refunded": PageFormat.money(sales["refunded"] ?? 0), "net": PageFormat.money(sales["net"] ?? 0),
            "tax": PageFormat.money(totals["tax"] ?? 0),
        ]
    }

    func chartSVG(_ chart: FunnelChartView, summary: String) -> String {
        let names = [("posts", "Posts", "s1"), ("confirmed", "Confirmed", "s2"), ("orders", "Orders", "s3")]
        return SVGChart(series: names.map { SVGChart.Series(name: $0.1, cssClass: $0.2, values: chart.values[$0.0] ?? []) },
                        from: chart.from, bucketSeconds: chart.bucketSeconds, summary: summary).render()
    }

    // MARK: Offers

    func offers(_ request: Request, _ context: DashboardContext) async throws -> Response {
        let merchant = try context.merchantID()
        let after = request.uri.queryParameters.get("after").map { String($0) }
        let list = try await service.offers(merchantID: merchant, limit: 50, startingAfter: after)
        var data: [String: Any] = [
            "offers": list.data.map(offerRow), "has_offers": !list.data.isEmpty,
            "tax_categories": TaxCategory.allCases.map { ["value": $0.rawValue, "label": $0.rawValue.replacingOccurrences(of: "_", with: " ")] },
        ]
        if list.hasMore, let last = list.data.last { data["next"] = "\(base(context))/offers?after=\(last.id.urlQueryValue)" }
        return PageRenderer.shared.page("offers", title: "Offers", data: data, frame: frame(context, section: "offers", notice: notice(request)))
    }

    func offerRow(_ offer: OfferView) -> [String: Any] {
        ["id": offer.id, "title": offer.title, "hashtag": offer.hashtag, "state": offer.state, "price": PageFormat.money(offer.price, offer.currency),
         "sold": PageFormat.count(offer.unitsSold), "quantity": offer.quantity.map(PageFormat.count) ?? "unlimited", "kind": offer.kind]
    }

    func createOffer(_ context: DashboardContext) async throws -> Response {
        let form = context.form
        guard let price = PageFormat.parseAmount(try form.required("price", label: "The price")), price > 0 else {
            throw PageError.badForm("The price must be in dollars and cents, as 49.99.")
        }
        func count(_ name: String, _ label: String) throws -> Int64? {
            guard let text = form.text(name) else { return nil }
            guard text.count <= 9, text.allSatisfy(\.isASCIIDigit), let value = Int64(text) else {
                throw PageError.badForm("\(label) must be a whole number.")
            }
            return value
        }
        var hashtag = try form.required("hashtag", label: "The hashtag")
        if !hashtag.hasPrefix("#") { hashtag = "#" + hashtag }
        let hours = try count("hours", "The length in hours") ?? 24
        let now = service.dashboard.now()
        let body = CreateOfferBody(kind: nil, title: try form.required("title", label: "The title"), sku: try form.required("sku", label: "The SKU"),
                                   price: price, currency: "USD", hashtag: hashtag, taxCategory: form.text("tax_category"),
                                   quantity: try count("quantity", "The quantity"), perCardholderLimit: try count("per_cardholder_limit", "The limit per cardholder"),
                                   startsAt: now, endsAt: now + max(1, min(hours, 24 * 90)) * 3_600,
                                   announce: form["announce"] == "yes")
        let offer = try await service.createOffer(merchantID: try context.merchantID(), body)
        return PageRenderer.redirect("\(base(context))/offers/\(offer.id.urlPathSegment)?done=created")
    }

    func offer(_ request: Request, _ context: DashboardContext) async throws -> Response {
        let merchant = try context.merchantID()
        let id = try context.parameters.require("id")
        let offer = try await service.offer(merchantID: merchant, id: id)
        let totals = try await service.offerFunnel(merchantID: merchant, offerID: id)
        let (key, from, to) = range(request, now: service.dashboard.now())
        let chart = try await service.funnelChart(merchantID: merchant, offerID: id, from: from, to: to, buckets: 60, metrics: ["posts", "confirmed", "orders"])
        var data = funnelData(totals: totals, sales: NetSales(totals: totals).dictionary)
        data["offer"] = offerRow(offer)
        data["chart"] = chartSVG(chart, summary: "Posts, confirmations and orders of this offer")
        data["ranges"] = Self.ranges.map { ["key": $0.key, "label": $0.label, "current": $0.key == key] as [String: Any] }
        data["can_pause"] = ["live", "scheduled", "sold_out"].contains(offer.state)
        data["can_resume"] = offer.state == "paused"
        data["can_end"] = offer.state != "ended"
        data["live_url"] = "\(base(context))/offers/\(offer.id.urlPathSegment)/live?range=\(key)"
        // Time to confirm, from the per-bucket counters (never by reading each purchase).
        if let half = ConfirmationTime.percentileBucket(50, of: totals), let most = ConfirmationTime.percentileBucket(90, of: totals) {
            data["has_time_to_confirm"] = true
            data["time_to_confirm"] = [["label": "Half confirmed within", "value": ConfirmationTime.label(half)],
                                       ["label": "Nine in ten within", "value": ConfirmationTime.label(most)]]
            data["time_to_confirm_chart"] = SVGBarChart(bars: ConfirmationTime.metrics.map { (ConfirmationTime.label($0), totals[$0] ?? 0) },
                                                        summary: "How long cardholders took to confirm").render()
        }
        if let credit = offer.statementCredit {
            data["statement_credit"] = [
                "threshold": PageFormat.money(credit.spendThreshold), "credit": PageFormat.money(credit.creditAmount),
                "budget": PageFormat.money(credit.budget), "budget_left": PageFormat.money(credit.budgetLeft),
                "credited": PageFormat.money(credit.creditedTotal), "loads": PageFormat.count(totals["loads"] ?? 0),
                "qualifying": PageFormat.count(totals["qualifying_transactions"] ?? 0),
                "earned": PageFormat.count(totals["credits_earned"] ?? 0), "reversed": PageFormat.count(totals["credits_reversed"] ?? 0),
                "acceptors": credit.acceptorIds.joined(separator: ", "),
            ]
        }
        return PageRenderer.shared.page("offer", title: offer.title, data: data, frame: frame(context, section: "offers", notice: notice(request), live: true))
    }

    /// `GET /offers/{id}/live?range=…`: the offer's funnel as server-sent events, one `funnel` event
    /// every two seconds, and its chart over the page's range redrawn (a `chart` event holding the
    /// SVG) at once and every ten seconds, for at most ten minutes (the page's script reconnects).
    func live(_ request: Request, _ context: DashboardContext) async throws -> Response {
        let merchant = try context.merchantID()
        let id = try context.parameters.require("id")
        _ = try await service.offer(merchantID: merchant, id: id)
        var headers = PageRenderer.securityHeaders
        headers[.contentType] = "text/event-stream"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            for tick in 0..<300 {
                // The counters only (one small read), whatever the number of orders.
                guard let totals = try? await service.offerFunnel(merchantID: merchant, offerID: id) else { break }
                var fields = Self.steps.map { "\"\($0.metric)\":\"\(PageFormat.count(totals[$0.metric] ?? 0))\"" }
                fields.append("\"net\":\"\(PageFormat.money(NetSales(totals: totals).net))\"")
                try await writer.write(ByteBuffer(string: "event: funnel\ndata: {\(fields.joined(separator: ","))}\n\n"))
                if tick % 5 == 0 {
                    // The window slides with the clock, as a reload of the page would draw it.
                    let (_, from, to) = range(request, now: service.dashboard.now())
                    if let chart = try? await service.funnelChart(merchantID: merchant, offerID: id, from: from, to: to, buckets: 60,
                                                                  metrics: ["posts", "confirmed", "orders"]),
                       let json = try? JSONEncoder().encode(["svg": chartSVG(chart, summary: "Posts, confirmations and orders of this offer")])
                    {
                        try await writer.write(ByteBuffer(string: "event: chart\ndata: \(String(decoding: json, as: UTF8.self))\n\n"))
                    }
                }
                try await Task.sleep(for: .seconds(2))
            }
            try await writer.finish(nil)
        })
    }

    // MARK: Orders

    func orders(_ request: Request, _ context: DashboardContext) async throws -> Response {
        let merchant = try context.merchantID()
        let query = request.uri.queryParameters
        let status = query.get("status").flatMap { $0.isEmpty ? nil : String($0) }
        let offer = query.get("offer").flatMap { $0.isEmpty ? nil : String($0) }
        let reference = query.get("reference").map { String($0.prefix(64)).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        var rows: [OrderView]
        var next: String?
        if let reference {
            // A reference names one order, among all of the merchant's.
            rows = try await service.order(merchantID: merchant, reference: reference).map { [$0] } ?? []
        } else {
            let list = try await service.orders(merchantID: merchant, offerID: offer, status: status, limit: 50,
                                                startingAfter: query.get("after").map { String($0) })
            rows = list.data
            if list.hasMore, let last = list.data.last {
                next = "\(base(context))/orders?after=\(last.id.urlQueryValue)&status=\((status ?? "").urlQueryValue)&offer=\((offer ?? "").urlQueryValue)"
            }
        }
        let statuses = [""] + OrderStatus.allCases.map(\.rawValue)
        var data: [String: Any] = [
            "orders": rows.map(orderRow), "has_orders": !rows.isEmpty, "reference": reference ?? "", "offer": offer ?? "",
            "statuses": statuses.map { ["value": $0, "label": $0.isEmpty ? "any status" : $0.replacingOccurrences(of: "_", with: " "), "current": $0 == (status ?? "")] as [String: Any] },
        ]
        if let next { data["next"] = next }
        return PageRenderer.shared.page("orders", title: "Orders", data: data, frame: frame(context, section: "orders", notice: notice(request)))
    }

    func orderRow(_ order: OrderView) -> [String: Any] {
        ["id": order.id, "reference": order.reference, "offer": order.offer, "status": order.status.replacingOccurrences(of: "_", with: " "),
         "quantity": PageFormat.count(order.quantity), "total": PageFormat.money(order.total, order.currency),
         "captured": PageFormat.money(order.amountCaptured, order.currency), "refunded": PageFormat.money(order.amountRefunded, order.currency),
         "created": PageFormat.time(order.created)]
    }

    func order(_ request: Request, _ context: DashboardContext) async throws -> Response {
        let order = try await service.order(merchantID: try context.merchantID(), id: try context.parameters.require("id"))
        var data = orderRow(order)
        if let carrier = order.carrier {
            data["carrier"] = carrier
            data["tracking"] = order.tracking ?? ""
        }
        data["can_ship"] = order.status == OrderStatus.created.rawValue
        data["can_cancel"] = order.status == OrderStatus.created.rawValue
        data["can_refund"] = order.amountCaptured > order.amountRefunded
        data["refundable"] = PageFormat.money(order.amountCaptured - order.amountRefunded, order.currency)
        if let shipping = order.shipping {
            data["shipping"] = ["name": shipping.name,
                                "address": [shipping.line1, shipping.line2, shipping.city, shipping.state, shipping.postalCode].compactMap { $0 }.joined(separator: ", ")]
        }
        return PageRenderer.shared.page("order", title: "Order \(order.reference)", data: data,
                                        frame: frame(context, section: "orders", notice: notice(request)))
    }

    /// What `?done=` says after a form: fixed sentences only (a link cannot make the page say anything else).
    func notice(_ request: Request) -> String? {
        switch request.uri.queryParameters.get("done") {
        case "created": "Offer created."
        case "pause": "Offer paused: new posts are not taken until you resume it."
        case "resume": "Offer resumed."
        case "end": "Offer ended."
        case "shipped": "Order marked shipped; the cardholder is told."
        case "cancelled": "Order cancelled; anything captured is refunded."
        case "refunded": "Refund made; the cardholder is told."
        default: nil
        }
    }
}

extension String {
    /// The string as one path segment (ids are plain, but a page never trusts that).
    var urlPathSegment: String { addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? "" }
    /// The string as a query value.
    var urlQueryValue: String { addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? "" }
}

import Foundation
