import HashcartCore
import Hummingbird

/// A merchant user's API keys (create, shown once; revoke) and settlement statements, and the
/// CSV exports of what the merchant's pages list. Keys made on `/dashboard/test` are test keys
/// (`hc_test_…`), on `/dashboard/live` live keys: each mode's service makes its own.
struct AccountPages<Service: HashcartService> {
    let modes: [Mode]
    let service: Service

    func add(to group: RouterGroup<DashboardContext>) {
        group.get("api-keys") { request, context in
            let keys = try await service.apiKeys(merchantID: try context.merchantID(), limit: 100)
            return PageRenderer.shared.page("api_keys", title: "API keys", data: [
                "keys": keys.data.map { ["id": $0.id, "created": PageFormat.time($0.created), "revoked": $0.revoked] as [String: Any] },
                "has_keys": !keys.data.isEmpty, "prefix": context.mode.apiKeyPrefix,
            ], frame: frame(context, "api-keys", notice: request.uri.queryParameters.get("done") == "revoked" ? "Key revoked: it stops working at once." : nil))
        }
        group.post("api-keys") { _, context in
            let key = try await service.createAPIKey(merchantID: try context.merchantID())
            return PageRenderer.shared.page("api_key_secret", title: "New API key", data: ["id": key.id, "secret": key.secret ?? ""],
                                            frame: frame(context, "api-keys"))
        }
        group.post("api-keys/{id}/revoke") { _, context in
            _ = try await service.revokeAPIKey(merchantID: try context.merchantID(), keyID: try context.parameters.require("id"))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/api-keys?done=revoked")
        }
        group.get("settlements") { _, context in
            let list = try await service.settlements(merchantID: try context.merchantID(), limit: 100, startingAfter: nil)
            return PageRenderer.shared.page("settlements", title: "Settlements", data: [
                "batches": list.data.map { batch -> [String: Any] in
                    ["day": batch.day, "sales": PageFormat.money(batch.sales), "fees": PageFormat.money(batch.fees), "refunds": PageFormat.money(batch.refunds),
                     "credits": PageFormat.money(batch.statementCredits), "net": PageFormat.money(batch.net), "payout": PageFormat.money(batch.payout),
                     "state": batch.state.replacingOccurrences(of: "_", with: " ")]
                },
                "has_batches": !list.data.isEmpty,
            ], frame: frame(context, "settlements"))
        }
        group.get("settlements.csv") { _, context in
            let list = try await service.settlements(merchantID: try context.merchantID(), limit: 100, startingAfter: nil)
            return csv(([SettlementView.csvHeader] + list.data.map(\.csvRow)).joined(separator: "\n"), name: "settlements")
        }
        group.get("orders.csv") { _, context in
            let merchant = try context.merchantID()
            var lines = ["id,reference,offer,status,quantity,amount,tax,total,captured,refunded,carrier,tracking,created"]
            var after: String?
            // Every order, a page at a time, at most 100,000.
            for _ in 0..<1_000 {
                let page = try await service.orders(merchantID: merchant, offerID: nil, status: nil, limit: 100, startingAfter: after)
                for order in page.data {
                    lines.append([order.id, order.reference, order.offer, order.status, String(order.quantity), String(order.amount), String(order.tax),
                                  String(order.total), String(order.amountCaptured), String(order.amountRefunded), order.carrier ?? "", order.tracking ?? "",
                                  String(order.created)].map(CSVField.escape).joined(separator: ","))
                }
                guard page.hasMore, let last = page.data.last else { break }
                after = last.id
            }
            return csv(lines.joined(separator: "\n"), name: "orders")
        }
        group.get("offers.csv") { _, context in
            let list = try await service.offers(merchantID: try context.merchantID(), limit: 100, startingAfter: nil)
            let lines = ["id,title,hashtag,state,price,quantity,units_sold,created"] + list.data.map { offer in
                [offer.id, offer.title, offer.hashtag, offer.state, String(offer.price), offer.quantity.map { String($0) } ?? "", String(offer.unitsSold),
                 String(offer.created)].map(CSVField.escape).joined(separator: ",")
            }
            return csv(lines.joined(separator: "\n"), name: "offers")
        }
    }

    func frame(_ context: DashboardContext, _ section: String, notice: String? = nil) -> PageFrame {
        PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: section, notice: notice)
    }

    func csv(_ text: String, name: String) -> Response {
        var headers = PageRenderer.securityHeaders
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(name).csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

/// One CSV field (RFC 4180), safe to open in a spreadsheet: quoted when it holds a comma, quote or
/// line end, and text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at
/// its start) is prefixed with `'`. Titles and handles come from outside; a CSV must not run them.
enum CSVField {
    static func escape(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Int64(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
