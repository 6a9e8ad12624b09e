import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore
import HashcartTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Settlement over real HTTP: the operator gives a merchant its payout account (never shown
/// back but for its last four), a merchant reads its own settlement statements as JSON and CSV
/// and nobody else's, the operator reads the sales-tax liability per state. Bad bodies and
/// queries are a 400 naming the field, and change nothing.
@Suite(.onEveryBackend) struct SettlementRouteTests {
    static let account = #"{"routing_number":"021000021","account_number":"000123456789","account_type":"checking"}"#

    static func csv(_ headers: HTTPFields) -> HTTPFields {
        var headers = headers
        headers[.accept] = "text/csv"
        return headers
    }

    /// The one error shape, with this status and (when given) this param.
    static func expect(_ response: TestResponse, _ status: HTTPResponse.Status, param: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(response.status == status, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
        let error = try #require(try object(response)["error"] as? [String: Any], sourceLocation: sourceLocation)
        #expect((error["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        if let param { #expect(error["param"] as? String == param, "\(error)", sourceLocation: sourceLocation) }
    }

    @Test func payoutAccountsStatementsAndTheTaxReportOverHTTP() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let merchantID = try await client.execute(uri: "/v1/merchants", method: .post, headers: admin,
                                                      body: body(#"{"name":"Kindle Store","payout_account":\#(Self.account)}"#)) { response in
                #expect(response.status == .created, "\(String(buffer: response.body))")
                let text = String(buffer: response.body)
                #expect(!text.contains("000123456789") && !text.contains("123456789"), "the account number is never returned: \(text)")
                let payout = try #require(try object(response)["payout_account"] as? [String: Any])
                #expect(payout["last4"] as? String == "6789" && payout["routing_number"] as? String == "021000021" && payout["account_type"] as? String == "checking")
                return try #require(try object(response)["id"] as? String)
            }
            let other = try await client.execute(uri: "/v1/merchants", method: .post, headers: admin, body: body(#"{"name":"Other"}"#)) { response in
                #expect(try object(response)["payout_account"] is NSNull, "no payout account yet is null")
                return try #require(try object(response)["id"] as? String)
            }
            // Bad payout accounts: 400 naming the field, and no merchant is created.
            let before = try await world.store.read { try $0.count("merchants") }
            for (bad, param) in [
                (#"{"routing_number":"021000022","account_number":"000123456789"}"#, "payout_account.routing_number"),
                (#"{"routing_number":"021000021","account_number":"12"}"#, "payout_account.account_number"),
                (#"{"routing_number":"021000021","account_number":"0001234 56789"}"#, "payout_account.account_number"),
                (#"{"routing_number":"021000021","account_number":"000123456789","account_type":"brokerage"}"#, "payout_account.account_type"),
                (#"{"routing_number":"021000021","account_number":"000123456789","iban":"DE89"}"#, "payout_account.iban"),
                (#"{"routing_number":21000021,"account_number":"000123456789"}"#, "payout_account.routing_number"),
            ] {
                try await client.execute(uri: "/v1/merchants", method: .post, headers: admin, body: body(#"{"name":"Bad","payout_account":\#(bad)}"#)) { response in
                    try Self.expect(response, .badRequest, param: param)
                }
            }
            #expect(try await world.store.read { try $0.count("merchants") } == before)
            // Set later by the operator; a merchant's key cannot.
            try await client.execute(uri: "/v1/merchants/\(other)/payout_account", method: .post, headers: admin,
                                     body: body(#"{"routing_number":"011401533","account_number":"5555","account_type":"savings"}"#)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let payout = try object(response)["payout_account"] as? [String: Any]
                #expect(payout?["last4"] as? String == "5555")
            }
            try await client.execute(uri: "/v1/merchants/mer_nope/payout_account", method: .post, headers: admin, body: body(Self.account)) {
                try Self.expect($0, .notFound)
            }
            let key = try await client.execute(uri: "/v1/merchants/\(merchantID)/api_keys", method: .post, headers: admin) {
                try #require(try object($0)["secret"] as? String)
            }
            let otherKey = try await client.execute(uri: "/v1/merchants/\(other)/api_keys", method: .post, headers: admin) {
                try #require(try object($0)["secret"] as? String)
            }
            try await client.execute(uri: "/v1/merchants/\(other)/payout_account", method: .post, headers: bearer(key), body: body(Self.account)) { response in
                #expect([.unauthorized, .forbidden].contains(response.status))
            }

            // A sale, shipped and partly refunded, settled for its day.
            let merchant = MerchantID(merchantID)
            _ = try await world.engine.createOffer(OfferDraft(merchantID: merchant, title: "Kindle Fire HD", sku: "KFHD", price: .usd(14_999),
                                                              hashtag: "#BuyKindleFireHD", quantity: 5))
            let (_, buyer, post) = try await world.linkedBuyerPosts("I want it #BuyKindleFireHD")
            let request = try #require(try world.sandbox.posts(authorID: world.sandbox.official.id, inReplyTo: post.id).last)
            world.clock.advance(seconds: 60)
            try world.sandbox.repost(authorID: buyer.id, postID: request.id)
            try await world.settle()
            let order = try #require(try await world.store.read { try $0.orders(limit: 10) }.first)
            _ = try await world.engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z1")
            _ = try await world.engine.refund(orderID: order.id, amount: .usd(1_000))
            let day = SettlementDay(containing: world.clock.now())
            let batch = try #require(try await Settlement(store: world.store).close(through: day, now: day.end.adding(seconds: 600)).batches.first)

            try await client.execute(uri: "/v1/settlements", method: .get, headers: bearer(key)) { response in
                #expect(response.status == .ok)
                let data = try #require(try object(response)["data"] as? [[String: Any]])
                #expect(data.count == 1 && data[0]["id"] as? String == batch.id.rawValue && data[0]["payout"] as? Int == Int(batch.payout))
                #expect(data[0]["sales"] as? Int == 14_999 && data[0]["state"] as? String == "awaiting_payout" && data[0]["day"] as? String == day.description)
                #expect((data[0]["refunds"] as? Int ?? 0) < 0 && (data[0]["fees"] as? Int ?? 0) < 0)
            }
            try await client.execute(uri: "/v1/settlements", method: .get, headers: Self.csv(bearer(key))) { response in
                let lines = String(buffer: response.body).split(separator: "\n")
                #expect(lines.first == Substring(SettlementView.csvHeader) && lines.count == 2 && lines[1].hasPrefix(batch.id.rawValue + ","))
            }
            try await client.execute(uri: "/v1/settlements/\(batch.id.rawValue)", method: .get, headers: bearer(key)) { #expect($0.status == .ok) }
            // Another merchant sees none of it.
            try await client.execute(uri: "/v1/settlements/\(batch.id.rawValue)", method: .get, headers: bearer(otherKey)) { try Self.expect($0, .notFound) }
            try await client.execute(uri: "/v1/settlements", method: .get, headers: bearer(otherKey)) { response in
                let data = try object(response)["data"] as? [Any]
                #expect(data?.isEmpty == true)
            }
            try await client.execute(uri: "/v1/settlements?starting_after=\(batch.id.rawValue)", method: .get, headers: bearer(otherKey)) {
                try Self.expect($0, .badRequest, param: "starting_after")
            }

            // The issuer's sales tax: NY's tax on the sale less the refund's tax part.
            try await client.execute(uri: "/v1/reports/sales_tax?from=\(day)&to=\(day)", method: .get, headers: admin) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let report = try object(response)
                let states = try #require(report["states"] as? [[String: Any]])
                #expect(states.count == 1 && states[0]["state"] as? String == "NY")
                #expect(states[0]["collected"] as? Int == Int(order.tax.minorUnits) && (states[0]["refunded"] as? Int ?? 0) > 0)
                #expect(report["total_net"] as? Int == states[0]["net"] as? Int)
            }
            try await client.execute(uri: "/v1/reports/sales_tax?from=\(day)&to=\(day)", method: .get, headers: Self.csv(admin)) { response in
                #expect(String(buffer: response.body).hasPrefix("state,collected,refunded,net,transfers\nNY,"))
            }
            for (query, param) in [("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-12-02&to=2026-12-01", "from"),
                                   ("from=2024-01-01&to=2026-01-01", "from")] {
                try await client.execute(uri: "/v1/reports/sales_tax?\(query)", method: .get, headers: admin) { response in
                    try Self.expect(response, .badRequest, param: param)
                }
            }
            try await client.execute(uri: "/v1/reports/sales_tax", method: .get, headers: bearer(key)) { response in #expect([.unauthorized, .forbidden].contains(response.status)) }
        }
    }
}
