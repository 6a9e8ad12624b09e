import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The operator's accounts over real HTTP: merchants and card accounts listed, read, a credit
/// limit moved, both closed. Only the operator of the mode reaches them; bad bodies change nothing.
@Suite(.onEveryBackend) struct AccountRouteTests {
    static let cardholder = #"{"credit_limit":50000,"billing_name":"Ada Lovelace","address":{"line1":"65 Broadway","city":"New York","state":"NY","postal_code":"10006"},"card_last4":"4242"}"#

    @Test func theOperatorMovesALimitAndClosesACardAccount() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let cardID = try await client.execute(uri: "/v1/cardholders", method: .post, headers: admin, body: body(Self.cardholder)) { response in
                #expect(response.status == .created)
                let card = try object(response)
                #expect(card["available_credit"] as? Int == 50_000)
                #expect(card.keys.contains("closed") && card["closed"] is NSNull)
                return try #require(card["id"] as? String)
            }
            try await client.execute(uri: "/v1/cardholders/\(cardID)", method: .get, headers: admin) { response in
                let card = try object(response)
                #expect(response.status == .ok && card["credit_limit"] as? Int == 50_000)
            }
            try await client.execute(uri: "/v1/cardholders?q=\(cardID.uppercased())&limit=5", method: .get, headers: admin) { response in
                let found = try object(response)["data"] as? [[String: Any]]
                #expect(found?.map { $0["id"] as? String } == [cardID], "the search ignores case")
            }

            // Garbage is refused with the field named, and nothing changes.
            for (bad, param) in [(#"{}"#, "credit_limit"), (#"{"credit_limit":-1}"#, "credit_limit"), (#"{"credit_limit":"800"}"#, "credit_limit"),
                                 (#"{"credit_limit":100000001}"#, "credit_limit"), (#"{"credit_limit":1.5}"#, "credit_limit"),
                                 (#"{"credit_limit":80000,"currency":"EUR"}"#, "currency")] {
                try await client.execute(uri: "/v1/cardholders/\(cardID)", method: .post, headers: admin, body: body(bad)) { response in
                    #expect(response.status == .badRequest, "\(bad): \(String(buffer: response.body))")
                    let error = try object(response)["error"] as? [String: Any]
                    #expect(error?["param"] as? String == param, "\(bad): \(String(buffer: response.body))")
                }
            }
            #expect(try await world.store.read { try $0.cardAccount(CardAccountID(cardID)) }?.creditLimit == .usd(50_000))

            try await client.execute(uri: "/v1/cardholders/\(cardID)", method: .post, headers: admin, body: body(#"{"credit_limit":80000}"#)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let card = try object(response)
                #expect(card["credit_limit"] as? Int == 80_000 && card["available_credit"] as? Int == 80_000)
            }

            for (bad, param) in [(#"{}"#, "reason"), (#"{"reason":""}"#, "reason"), (#"{"reason":"a\u0000b"}"#, "reason"),
                                 (#"{"reason":"\#(String(repeating: "r", count: 201))"}"#, "reason"), (#"{"reason":"x","now":true}"#, "now")] {
                try await client.execute(uri: "/v1/cardholders/\(cardID)/close", method: .post, headers: admin, body: body(bad)) { response in
                    #expect(response.status == .badRequest, "\(bad): \(String(buffer: response.body))")
                    let error = try object(response)["error"] as? [String: Any]
                    #expect(error?["param"] as? String == param, "\(bad): \(String(buffer: response.body))")
                }
            }
            #expect(try await world.store.read { try $0.cardAccount(CardAccountID(cardID)) }?.closedAt == nil)

            try await client.execute(uri: "/v1/cardholders/\(cardID)/close", method: .post, headers: admin, body: body(#"{"reason":"reported stolen"}"#)) { response in
                let closed = try object(response)["closed"] as? Int
                #expect(response.status == .ok && (closed ?? 0) > 0, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/v1/cardholders/\(cardID)", method: .post, headers: admin, body: body(#"{"credit_limit":1000}"#)) { response in
                #expect(response.status == .conflict, "a closed account's limit is frozen: \(String(buffer: response.body))")
            }
            for uri in ["/v1/cardholders/card_nobody", "/v1/cardholders/%00"] {
                try await client.execute(uri: uri, method: .get, headers: admin) { #expect($0.status == .notFound, "\(uri)") }
            }
            try await client.execute(uri: "/v1/cardholders/card_nobody/close", method: .post, headers: admin, body: body(#"{"reason":"x"}"#)) {
                #expect($0.status == .notFound)
            }
            let actions = try await world.store.read { try $0.auditLog(merchantID: nil, limit: 50, before: nil) }.map(\.entry.action)
            #expect(actions.contains("cardholder.credit_limit") && actions.contains("cardholder.close"), "\(actions)")
        }
    }

    @Test func theOperatorClosesAMerchantWhoseKeyThenStartsNoOffer() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let merchantID = try await client.execute(uri: "/v1/merchants", method: .post, headers: admin, body: body(#"{"name":"Shop"}"#)) {
                try #require(try object($0)["id"] as? String)
            }
            let key = try await client.execute(uri: "/v1/merchants/\(merchantID)/api_keys", method: .post, headers: admin) {
                try #require(try object($0)["secret"] as? String)
            }
            let offerID = try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(key),
                                                   body: body(##"{"title":"Kindle","sku":"K1","price":14999,"hashtag":"#BuyKindle","quantity":5}"##)) {
                try #require(try object($0)["id"] as? String)
            }
            try await client.execute(uri: "/v1/merchants/\(merchantID)/api_keys", method: .get, headers: admin) { response in
                let keys = try object(response)["data"] as? [[String: Any]]
                #expect(keys?.count == 1 && (keys?.first?["secret"] == nil || keys?.first?["secret"] is NSNull) && keys?.first?["revoked"] as? Bool == false, "\(String(buffer: response.body))")
                #expect(!String(buffer: response.body).contains(key), "a secret is never listed")
            }
            try await client.execute(uri: "/v1/merchants/mer_nobody/api_keys", method: .get, headers: admin) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/merchants?q=SHOP", method: .get, headers: admin) { response in
                let found = try object(response)["data"] as? [[String: Any]]
                #expect(found?.map { $0["id"] as? String } == [merchantID])
            }
            try await client.execute(uri: "/v1/merchants?q=\(String(repeating: "x", count: 65))", method: .get, headers: admin) { response in
                #expect(response.status == .badRequest)
            }
            // Neither a merchant nor a cardholder reaches the operator's accounts.
            for (uri, method) in [("/v1/merchants", HTTPRequest.Method.get), ("/v1/merchants/\(merchantID)", .get),
                                  ("/v1/merchants/\(merchantID)/close", .post), ("/v1/cardholders", .get)] {
                try await client.execute(uri: uri, method: method, headers: bearer(key), body: body(#"{"reason":"mine"}"#)) { response in
                    #expect([.unauthorized, .forbidden].contains(response.status), "\(uri): \(response.status)")
                }
            }
            try await client.execute(uri: "/v1/merchants/\(merchantID)", method: .get, headers: admin) { response in
                let merchant = try object(response)
                #expect(merchant["closed"] is NSNull)
            }

            try await client.execute(uri: "/v1/merchants/\(merchantID)/close", method: .post, headers: admin, body: body(#"{"reason":"stopped trading"}"#)) { response in
                let closed = try object(response)["closed"] as? Int
                #expect(response.status == .ok && (closed ?? 0) > 0, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/v1/offers/\(offerID)", method: .get, headers: bearer(key)) { response in
                let state = try object(response)["state"] as? String
                #expect(state == "ended", "the merchant sees its offer ended")
            }
            try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(key),
                                     body: body(##"{"title":"Tablet","sku":"T1","price":9999,"hashtag":"#BuyTablet","quantity":5}"##)) { response in
                #expect(response.status == .conflict, "\(String(buffer: response.body))")
                #expect(String(buffer: response.body).contains("closed"))
            }
            let lines = try await world.store.read { try $0.auditLog(merchantID: MerchantID(merchantID), limit: 50, before: nil) }
            #expect(lines.contains { $0.entry.action == "merchant.close" && $0.entry.detail.contains("stopped trading (1 offer ended)") })
        }
    }
}
