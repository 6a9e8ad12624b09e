import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartServer
import Hummingbird
import HummingbirdTesting
import HashcartTestSupport
import Testing

/// Merchants fulfil orders over HTTP: list, ship (captures), refund (bounded), cancel; cardholders cancel.
@Suite(.onEveryBackend) struct OrderRouteTests {
    /// A merchant with an API key, a live offer, and `buyers` confirmed purchases (set up through the engine).
    func world(buyers: Int) async throws -> (ServerWorld, key: String, otherKey: String, orders: [OrderID], cards: [CardAccountID]) {
        let world = try await ServerWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets")
        let other = try await world.engine.createMerchant(name: "Other")
        let key = try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret!
        let otherKey = try await world.service.createAPIKey(merchantID: other.id.rawValue).secret!
        _ = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "KFHD", price: .usd(14999),
                                                    hashtag: "#BuyKindleFireHD", quantity: 10))
        var cards: [CardAccountID] = []
        for index in 0..<buyers {
            let card = try await world.engine.createCardAccount(
                creditLimit: .usd(500_000),
                billing: BillingAddress(name: "Buyer \(index)", line1: "\(index + 1) Main St", city: "Albany", state: .NY, postalCode: "12207"),
                cardLast4: "4242")
            let account = try world.sandbox.createAccount(handle: "buyer\(index)")
            try await world.engine.link(cardAccountID: card.id, identity: SocialIdentity(network: .sandbox, userID: account.id, handle: "@buyer\(index)"))
            let post = try world.sandbox.post(authorID: account.id, text: "#BuyKindleFireHD")
            try await world.settle()
            let reply = try #require(try world.sandbox.posts(authorID: world.sandbox.official.id, inReplyTo: post.id).first)
            try world.sandbox.repost(authorID: account.id, postID: reply.id)
            try await world.settle()
            cards.append(card.id)
        }
        let orders = try await world.store.read { try $0.orders() }.map(\.id)
        #expect(orders.count == buyers)
        return (world, key, otherKey, orders, cards)
    }

    @Test func shipRefundAndCancelOverHTTP() async throws {
        let (world, key, otherKey, orders, cards) = try await world(buyers: 3)
        try await world.app.test(.live) { client in
            try await client.execute(uri: "/v1/orders", method: .get, headers: bearer(key)) { response in
                let data = try object(response)["data"] as? [[String: Any]]
                #expect(data?.count == 3)
                let shipping = data?.first?["shipping"] as? [String: Any]
                #expect(shipping?["postal_code"] as? String == "12207")  // the merchant ships to the billing address
                #expect(data?.first?["card_last4"] == nil)  // and learns nothing else about the card
            }
            try await client.execute(uri: "/v1/orders", method: .get, headers: bearer(otherKey)) { response in
                let data = try object(response)["data"] as? [Any]
                #expect(data?.isEmpty == true)
            }
            try await client.execute(uri: "/v1/orders/\(orders[0])", method: .get, headers: bearer(otherKey)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
            try await client.execute(uri: "/v1/orders?status=lost", method: .get, headers: bearer(key)) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "status")
            }

            // Ship captures the hold; refunds are bounded by what was captured.
            try await client.execute(uri: "/v1/orders/\(orders[0])/ship", method: .post, headers: bearer(key),
                                     body: body(#"{"carrier":"UPS","tracking":"1Z999"}"#)) { response in
                let order = try object(response)
                #expect(order["status"] as? String == "shipped" && order["amount_captured"] as? Int == 15599)
            }
            try await client.execute(uri: "/v1/orders/\(orders[0])/ship", method: .post, headers: bearer(key), body: body(#"{"carrier":"UPS"}"#)) {
                try expectError($0, .badRequest, code: "parameter_missing", param: "tracking")
            }
            try await client.execute(uri: "/v1/orders/\(orders[0])/refunds", method: .post, headers: bearer(key), body: body(#"{"amount":5000}"#)) {
                let order = try object($0)
                #expect(order["amount_refunded"] as? Int == 5000 && order["status"] as? String == "shipped")
            }
            for amount in ["20000", "0", "-5", "\"all\""] {
                try await client.execute(uri: "/v1/orders/\(orders[0])/refunds", method: .post, headers: bearer(key), body: body(#"{"amount":\#(amount)}"#)) {
                    #expect($0.status == .badRequest || $0.status == .conflict, "refund of \(amount)")
                }
            }
            try await client.execute(uri: "/v1/orders/\(orders[0])/cancel", method: .post, headers: bearer(key)) {
                try expectError($0, .conflict, code: "request_refused")
            }
            // An unshipped order: the merchant cancels (void), the unit returns to stock.
            try await client.execute(uri: "/v1/orders/\(orders[1])/cancel", method: .post, headers: bearer(key)) {
                let o = try object($0)
                #expect(o["status"] as? String == "cancelled")
            }
            try await client.execute(uri: "/v1/orders/\(orders[1])/refunds", method: .post, headers: bearer(key), body: body(#"{"amount":1}"#)) {
                try expectError($0, .conflict, code: "request_refused")
            }
        }
        // The cardholder of the third order cancels it (orders are listed by id, not by buyer).
        let third = try #require(try await world.store.read { try $0.order(orders[2]) })
        let token = try await world.service.createCardholderToken(cardholderID: third.cardAccountID.rawValue).secret!
        let purchaseID = third.purchaseID
        try await world.app.test(.live) { client in
            try await client.execute(uri: "/v1/purchases/\(purchaseID)/cancel", method: .post, headers: bearer("hc_ch_wrong")) {
                try expectError($0, .unauthorized, code: "unauthorized")
            }
            let stranger = try #require(cards.first { $0 != third.cardAccountID })
            let strangerToken = try await world.service.createCardholderToken(cardholderID: stranger.rawValue).secret!
            try await client.execute(uri: "/v1/purchases/\(purchaseID)/cancel", method: .post, headers: bearer(strangerToken)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
            try await client.execute(uri: "/v1/purchases/\(purchaseID)/cancel", method: .post, headers: bearer(token)) {
                let o = try object($0)
                #expect(o["state"] as? String == "cancelled", "\(o)")
            }
        }
        let stock = try #require(try await world.store.read { try $0.offers() }.first)
        #expect(stock.soldUnits == 1)  // three sold, two cancelled
        #expect(try await world.store.read { try $0.audit() } == [])
    }

    @Test func pausedOffersDeclineAndEndedOffersStayEnded() async throws {
        let (world, key, otherKey, _, _) = try await world(buyers: 0)
        let offerID = try #require(try await world.store.read { try $0.offers() }.first?.id)
        try await world.app.test(.live) { client in
            try await client.execute(uri: "/v1/offers/\(offerID)/pause", method: .post, headers: bearer(otherKey)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
            try await client.execute(uri: "/v1/offers/\(offerID)/pause", method: .post, headers: bearer(key)) {
                let o = try object($0)
                #expect(o["state"] as? String == "paused")
            }
            try await client.execute(uri: "/v1/offers/\(offerID)/resume", method: .post, headers: bearer(key)) {
                let o = try object($0)
                #expect(o["state"] as? String == "live")
            }
            try await client.execute(uri: "/v1/offers/\(offerID)/end", method: .post, headers: bearer(key)) {
                let o = try object($0)
                #expect(o["state"] as? String == "ended")
            }
            try await client.execute(uri: "/v1/offers/\(offerID)/resume", method: .post, headers: bearer(key)) {
                try expectError($0, .conflict, code: "request_refused")
            }
        }
    }

    @Test func analyticsAsJSONAndCSV() async throws {
        let (world, key, otherKey, _, _) = try await world(buyers: 3)
        let offerID = try #require(try await world.store.read { try $0.offers() }.first?.id)
        try await world.app.test(.live) { client in
            try await client.execute(uri: "/v1/offers/\(offerID)/analytics", method: .get, headers: bearer(key)) { response in
                let analytics = try object(response)
                let totals = try #require(analytics["totals"] as? [String: Int])
                #expect(totals["posts"] == 3 && totals["linked_posts"] == 3 && totals["confirmations_sent"] == 3)
                #expect(totals["confirmed"] == 3 && totals["orders"] == 3 && totals["revenue"] == 3 * 14999 && totals["tax"] == 3 * 600)
                let conversion = try #require(analytics["conversion"] as? [String: Double])
                #expect(conversion["order_per_confirmed"] == 1)
                let series = try #require(analytics["series"] as? [[String: Int]])
                #expect(series.reduce(0) { $0 + ($1["posts"] ?? 0) } == 3)
                #expect(series.allSatisfy { ($0["minute"] ?? 1) % 60 == 0 })
            }
            var csvHeaders = bearer(key)
            csvHeaders[.accept] = "text/csv"
            try await client.execute(uri: "/v1/offers/\(offerID)/analytics", method: .get, headers: csvHeaders) { response in
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                let lines = String(buffer: response.body).split(separator: "\n")
                let header = try #require(lines.first).split(separator: ",").map(String.init)
                #expect(header.first == "minute" && header.contains("posts") && header.contains("orders"))
                let postsColumn = try #require(header.firstIndex(of: "posts"))
                #expect(lines.dropFirst().reduce(0) { $0 + (Int($1.split(separator: ",")[postsColumn]) ?? 0) } == 3)
            }
            try await client.execute(uri: "/v1/offers/\(offerID)/analytics", method: .get, headers: bearer(otherKey)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
        }
    }
}
