import Foundation
import HashcartApp
import HashcartCore
import HashcartServer
import HashcartStore
import HashcartTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// Card-linked offers over real HTTP: the operator opens a card with its PAN (kept only as a
/// fingerprint), the merchant creates a statement_credit offer, a post loads it, the issuer's
/// transactions arrive as JSON, and the cardholder sees the credit. Every bad body is a 400 naming
/// its field, and changes nothing.
@Suite(.onEveryBackend) struct CardLinkedRouteTests {
    static let cardholderBody = #"{"credit_limit":500000,"billing_name":"Ada Lovelace","address":{"line1":"65 Broadway","city":"New York","state":"NY","postal_code":"10006"},"pan":"4111 1111 1111 1111"}"#
    static let offerBody = ##"{"kind":"statement_credit","title":"Zappos $20 back","sku":"ZAP-CREDIT","hashtag":"#ZapposCredit","spend_threshold":7500,"credit_amount":2000,"budget":100000,"acceptor_ids":["ZAPPOS-0001"],"mccs":["5661"]}"##

    static func transactions(_ items: String) -> ByteBuffer { body(#"{"transactions":[\#(items)]}"#) }
    static func purchase(rrn: String = "000000000001", stan: String = "000001", amount: Int = 8000, at: Int64 = 1_790_000_100,
                         pan: String = "4111111111111111") -> String {
        #"{"kind":"purchase","pan":"\#(pan)","amount":\#(amount),"acceptor_id":"ZAPPOS-0001","mcc":"5661","rrn":"\#(rrn)","stan":"\#(stan)","occurred_at":\#(at)}"#
    }

    @Test func aCardLinkedOfferFromCardToCreditOverHTTP() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let merchantID = try await client.execute(uri: "/v1/merchants", method: .post, headers: admin, body: body(#"{"name":"Zappos"}"#)) {
                try #require(try object($0)["id"] as? String)
            }
            let key = try await client.execute(uri: "/v1/merchants/\(merchantID)/api_keys", method: .post, headers: admin) {
                try #require(try object($0)["secret"] as? String)
            }
            let cardID = try await client.execute(uri: "/v1/cardholders", method: .post, headers: admin, body: body(Self.cardholderBody)) { response in
                #expect(response.status == .created)
                let text = String(buffer: response.body)
                #expect(!text.contains("4111") && !text.contains("1111 1111"), "the PAN is never returned: \(text)")
                let card = try object(response)
                #expect(card["pan_on_file"] as? Bool == true)
                return try #require(card["id"] as? String)
            }
            // The same card again, in another spelling, is a conflict.
            try await client.execute(uri: "/v1/cardholders", method: .post, headers: admin,
                                     body: body(Self.cardholderBody.replacingOccurrences(of: "4111 1111 1111 1111", with: "4111-1111-1111-1111"))) {
                try expectError($0, .conflict, code: "resource_conflict")
            }
            let token = try await client.execute(uri: "/v1/cardholders/\(cardID)/tokens", method: .post, headers: admin) {
                try #require(try object($0)["secret"] as? String)
            }
            let offerID = try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(key), body: body(Self.offerBody)) { response in
                #expect(response.status == .created, "\(String(buffer: response.body))")
                let offer = try object(response)
                #expect(offer["kind"] as? String == "statement_credit" && offer["price"] as? Int == 2000)
                let terms = try #require(offer["statement_credit"] as? [String: Any])
                #expect(terms["budget_left"] as? Int == 100_000 && terms["acceptor_ids"] as? [String] == ["ZAPPOS-0001"])
                #expect((offer["announcement"] as? String)?.contains("Post #ZapposCredit to load it") == true)
                return try #require(offer["id"] as? String)
            }
            let (aliceID, alice) = try await client.execute(uri: "/sandbox/accounts", method: .post, headers: admin, body: body(#"{"handle":"alice"}"#)) {
                (try #require(try object($0)["id"] as? String), try #require(try object($0)["token"] as? String))
            }
            try await world.engine.link(cardAccountID: CardAccountID(cardID), identity: SocialIdentity(network: .sandbox, userID: aliceID, handle: "@alice"),
                                        at: world.clock.now().adding(seconds: -86_400))
            try await client.execute(uri: "/sandbox/posts", method: .post, headers: bearer(alice),
                                     body: body(##"{"author_id":"\##(aliceID)","text":"Loading #ZapposCredit"}"##)) { #expect($0.status == .created) }
            try await world.settle()
            world.clock.advance(seconds: 200)
            // The cardholder sees the offer loaded (what a card transaction can still earn); a merchant's key cannot list it.
            try await client.execute(uri: "/v1/loaded_offers", method: .get, headers: bearer(token)) { response in
                let data = try #require(try object(response)["data"] as? [[String: Any]])
                #expect(data.count == 1 && data[0]["offer"] as? String == offerID && data[0]["spend_threshold"] as? Int == 7_500
                        && data[0]["credit_amount"] as? Int == 2_000 && data[0]["object"] as? String == "loaded_offer", "\(data)")
            }
            try await client.execute(uri: "/v1/loaded_offers", method: .get, headers: bearer(key)) {
                #expect($0.status == .unauthorized || $0.status == .forbidden)
            }

            try await client.execute(uri: "/v1/card_transactions", method: .post, headers: admin, body: Self.transactions(Self.purchase())) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let data = try #require(try object(response)["data"] as? [[String: Any]])
                #expect(data.map { $0["outcome"] as? String } == ["credited"])
            }
            // Sent again (a processor's retry): a duplicate.
            try await client.execute(uri: "/v1/card_transactions", method: .post, headers: admin, body: Self.transactions(Self.purchase())) { response in
                let data = try #require(try object(response)["data"] as? [[String: Any]])
                #expect(data.map { $0["outcome"] as? String } == ["duplicate"])
            }
            try await client.execute(uri: "/v1/statement_credits", method: .get, headers: bearer(token)) { response in
                let data = try #require(try object(response)["data"] as? [[String: Any]])
                #expect(data.count == 1 && data[0]["amount"] as? Int == 2000 && data[0]["state"] as? String == "earned")
                #expect(data[0]["title"] as? String == "Zappos $20 back" && data[0]["offer"] as? String == offerID)
            }
            try await client.execute(uri: "/v1/offers/\(offerID)/analytics", method: .get, headers: bearer(key)) { response in
                let totals = try #require(try object(response)["totals"] as? [String: Int])
                #expect(totals["loads"] == 1 && totals["credits_earned"] == 1 && totals["credit_total"] == 2000 && totals["qualifying_transactions"] == 1)
            }
            try await client.execute(uri: "/v1/offers/\(offerID)", method: .get, headers: bearer(key)) { response in
                let terms = try #require(try object(response)["statement_credit"] as? [String: Any])
                #expect(terms["credited_total"] as? Int == 2000 && terms["budget_left"] as? Int == 98_000)
            }
            // Only the operator reports card transactions.
            try await client.execute(uri: "/v1/card_transactions", method: .post, headers: bearer(key), body: Self.transactions(Self.purchase())) {
                #expect($0.status == .unauthorized || $0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/ledger/check", method: .get, headers: admin) { response in
                let check = try object(response)
                #expect(check["ok"] as? Bool == true, "\(check)")
            }
        }
    }

    @Test func garbageCardholdersOffersAndTransactionsGetClearErrorsAndChangeNothing() async throws {
        let world = try await ServerWorld()
        let merchant = try await world.engine.createMerchant(name: "Zappos")
        let key = try #require(try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret)
        let before = try await world.counts()
        try await world.app.test(.live) { client in
            let address = #""credit_limit":500000,"billing_name":"Ada","address":{"line1":"1 Main","city":"Albany","state":"NY","postal_code":"12207"}"#
            let cardholders: [(String, String)] = [
                (#"{\#(address),"pan":"4111111111111112"}"#, "pan"),  // fails Luhn
                (#"{\#(address),"pan":"411111111111"}"#, "pan"),  // 12 digits, fails Luhn
                (#"{\#(address),"pan":"4111 1111 1111 111１"}"#, "pan"),  // a full-width digit
                (#"{\#(address),"pan":"4111.1111.1111.1111"}"#, "pan"),
                (#"{\#(address),"pan":"41111111111111111111111"}"#, "pan"),
                (#"{\#(address),"pan":4111111111111111}"#, "pan"),  // a number, not a string
                (#"{\#(address),"pan":"4111111111111111","card_last4":"4242"}"#, "card_last4"),
                (#"{\#(address)}"#, "card_last4"),  // neither
            ]
            for (text, param) in cardholders {
                try await client.execute(uri: "/v1/cardholders", method: .post, headers: admin, body: body(text)) { response in
                    #expect(response.status == .badRequest, "\(text)")
                    let error = try #require(try object(response)["error"] as? [String: Any])
                    #expect(error["param"] as? String == param, "\(text): \(error)")
                    #expect(!(error["message"] as? String ?? "").contains("4111111111111111"), "the PAN is not echoed in errors")
                }
            }
            let offers: [(String, String)] = [
                (Self.offerBody.replacingOccurrences(of: #""budget":100000"#, with: #""budget":1000"#), "budget"),
                (Self.offerBody.replacingOccurrences(of: #""credit_amount":2000"#, with: #""credit_amount":9000"#), "credit_amount"),
                (Self.offerBody.replacingOccurrences(of: #""acceptor_ids":["ZAPPOS-0001"]"#, with: #""acceptor_ids":["<b>x</b>"]"#), "acceptor_ids"),
                (Self.offerBody.replacingOccurrences(of: #""acceptor_ids":["ZAPPOS-0001"]"#, with: #""acceptor_ids":[]"#), "acceptor_ids"),
                (Self.offerBody.replacingOccurrences(of: #""mccs":["5661"]"#, with: #""mccs":["56611"]"#), "mccs"),
                (Self.offerBody.replacingOccurrences(of: #","budget":100000"#, with: ""), "budget"),
                (Self.offerBody.replacingOccurrences(of: #""kind":"statement_credit""#, with: #""kind":"loyalty""#), "kind"),
                (Self.offerBody.replacingOccurrences(of: #""kind":"statement_credit""#, with: #""kind":"statement_credit","quantity":5"#), "quantity"),
                (Self.offerBody.replacingOccurrences(of: #""kind":"statement_credit""#, with: #""kind":"statement_credit","price":1"#), "price"),
                (Self.offerBody.replacingOccurrences(of: #""kind":"statement_credit""#, with: #""kind":"purchase","price":1000"#), "spend_threshold"),
                (##"{"title":"Kindle","sku":"K","hashtag":"#BuyKindle"}"##, "price"),
            ]
            for (text, param) in offers {
                try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(key), body: body(text)) { response in
                    #expect(response.status == .badRequest, "\(text)")
                    let error = try #require(try object(response)["error"] as? [String: Any])
                    #expect(error["param"] as? String == param, "\(text): \(error)")
                }
            }
            let transactions: [(String, String)] = [
                (Self.purchase(pan: "4111111111111112"), "transactions.0.pan"),
                (Self.purchase(stan: "12345"), "transactions.0.stan"),
                (Self.purchase(stan: "12345a"), "transactions.0.stan"),
                (Self.purchase(rrn: "0000000000001"), "transactions.0.rrn"),
                (Self.purchase(rrn: "RRN 1"), "transactions.0.rrn"),
                (Self.purchase(amount: 0), "transactions.0.amount"),
                (Self.purchase(amount: -2000), "transactions.0.amount"),
                (Self.purchase(at: 1_790_000_000 + 3 * 86_400), "transactions.0.occurred_at"),
                (Self.purchase(at: -1), "transactions.0.occurred_at"),
                (Self.purchase().replacingOccurrences(of: #""kind":"purchase""#, with: #""kind":"refund""#), "transactions.0.kind"),
                (Self.purchase().replacingOccurrences(of: #""mcc":"5661""#, with: #""mcc":null"#), "transactions.0.mcc"),
                (Self.purchase().replacingOccurrences(of: #""mcc":"5661""#, with: #""cvv":"123""#), "transactions.0.cvv"),
                (Self.purchase() + "," + Self.purchase(stan: "x"), "transactions.1.stan"),
                ("42", "transactions.0"),
            ]
            for (items, param) in transactions {
                try await client.execute(uri: "/v1/card_transactions", method: .post, headers: admin, body: Self.transactions(items)) { response in
                    #expect(response.status == .badRequest, "\(items)")
                    let error = try #require(try object(response)["error"] as? [String: Any])
                    #expect(error["param"] as? String == param, "\(items): \(error)")
                    #expect(!String(buffer: response.body).contains("4111111111111"), "the PAN is not echoed in errors")
                }
            }
            try await client.execute(uri: "/v1/card_transactions", method: .post, headers: admin, body: body(#"{"transactions":[]}"#)) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "transactions")
            }
            let many = Array(repeating: Self.purchase(), count: EngineService.maximumCardTransactionsPerRequest + 1).joined(separator: ",")
            try await client.execute(uri: "/v1/card_transactions", method: .post, headers: admin, body: Self.transactions(many)) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "transactions")
            }
        }
        #expect(try await world.counts() == before)
        #expect(try await world.store.read { try $0.count("card_transactions") } == 0)
        #expect(try await world.store.read { try $0.offers() }.isEmpty)
    }
}
