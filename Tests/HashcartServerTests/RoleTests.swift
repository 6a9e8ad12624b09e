import Foundation
import HashcartApp
import HashcartCore
import HashcartServer
import Hummingbird
import HummingbirdTesting
import HashcartTestSupport
import Testing

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

/// Merchants, cardholders and the operator each see only what is theirs, over loopback.
@Suite(.onEveryBackend) struct RoleTests {
    static let offerBody = ##"{"title":"Kindle Fire HD","sku":"KFHD","price":14999,"hashtag":"#BuyKindleFireHD","quantity":5}"##

    /// Creates a merchant and its API key through the operator routes.
    func merchantKey(_ client: some TestClientProtocol, name: String) async throws -> (String, String) {
        let id = try await client.execute(uri: "/v1/merchants", method: .post, headers: admin, body: body(#"{"name":"\#(name)"}"#)) {
            try #require(try object($0)["id"] as? String)
        }
        let key = try await client.execute(uri: "/v1/merchants/\(id)/api_keys", method: .post, headers: admin) { response in
            #expect(response.status == .created)
            let secret = try #require(try object(response)["secret"] as? String)
            #expect(secret.hasPrefix("hc_test_"))
            return secret
        }
        return (id, key)
    }

    @Test func merchantsSeeOnlyTheirOwnOffers() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let (_, keyA) = try await merchantKey(client, name: "A")
            let (_, keyB) = try await merchantKey(client, name: "B")
            let offerID = try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(keyA), body: body(Self.offerBody)) { response in
                #expect(response.status == .created)
                let offer = try object(response)
                #expect(offer["state"] as? String == "live" && offer["price"] as? Int == 14999)
                #expect((offer["announcement"] as? String)?.contains("Post #BuyKindleFireHD to buy") == true)
                return try #require(offer["id"] as? String)
            }
            try await client.execute(uri: "/v1/offers/\(offerID)", method: .get, headers: bearer(keyA)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/offers/\(offerID)", method: .get, headers: bearer(keyB)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(keyB)) { response in
                let data = try object(response)["data"] as? [Any]
                #expect(data?.isEmpty == true)
            }
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(keyA)) { response in
                let data = try object(response)["data"] as? [Any]
                #expect(data?.count == 1)
            }
            // The same hashtag (any case) is taken while the offer has not ended.
            try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(keyB),
                                     body: body(Self.offerBody.replacingOccurrences(of: "#BuyKindleFireHD", with: "#buykindlefirehd"))) {
                try expectError($0, .conflict, code: "resource_conflict")
            }
            // Wrong kinds of credentials.
            for headers in [admin, bearer("hc_test_notakey"), bearer("hc_ch_whatever"), json] {
                try await client.execute(uri: "/v1/offers", method: .get, headers: headers) { try expectError($0, .unauthorized, code: "unauthorized") }
            }
            try await client.execute(uri: "/v1/merchants", method: .post, headers: bearer(keyA), body: body(#"{"name":"X"}"#)) {
                try expectError($0, .unauthorized, code: "unauthorized")
            }
            try await client.execute(uri: "/v1/merchants/mer_nope/api_keys", method: .post, headers: admin) {
                try expectError($0, .notFound, code: "resource_missing")
            }
            // A revoked key stops working at once; revoking twice, or someone else's key, is 404.
            let (merchantC, keyC) = try await merchantKey(client, name: "C")
            let keys = try await client.execute(uri: "/v1/merchants/\(merchantC)/api_keys", method: .post, headers: admin) {
                (try object($0)["id"] as? String, try object($0)["secret"] as? String)
            }
            let (secondKeyID, secondKey) = (try #require(keys.0), try #require(keys.1))
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(secondKey)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/merchants/\(merchantC)/api_keys/\(secondKeyID)", method: .delete, headers: bearer(keyC)) {
                try expectError($0, .unauthorized, code: "unauthorized")
            }
            try await client.execute(uri: "/v1/merchants/\(merchantC)/api_keys/\(secondKeyID)", method: .delete, headers: admin) {
                let revoked = try object($0)
                #expect(revoked["revoked"] as? Bool == true && revoked["secret"] == nil)
            }
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(secondKey)) { try expectError($0, .unauthorized, code: "unauthorized") }
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(keyC)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/merchants/\(merchantC)/api_keys/\(secondKeyID)", method: .delete, headers: admin) {
                try expectError($0, .notFound, code: "resource_missing")
            }
        }
    }

    @Test func garbageOffersAreRefused() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let (_, key) = try await merchantKey(client, name: "A")
            let cases: [(String, String)] = [
                (Self.offerBody.replacingOccurrences(of: "14999", with: "0"), "price"),
                (Self.offerBody.replacingOccurrences(of: "14999", with: "\"cheap\""), "price"),
                (Self.offerBody.replacingOccurrences(of: "#BuyKindleFireHD", with: "no tag here"), "hashtag"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"quantity\":0"), "quantity"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"tax_category\":\"luxury\""), "tax_category"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"tax_category\":\"Clothing\""), "tax_category"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"tax_category\":\"digital goods\""), "tax_category"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"capture_mode\":\"whenever\""), "capture_mode"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"eligible_states\":[\"NY\",\"ZZ\"]"), "eligible_states"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"eligible_states\":[]"), "eligible_states"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"confirmation_window_seconds\":5"), "confirmation_window_seconds"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"starts_at\":-5"), "starts_at"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"currency\":\"EUR\""), "currency"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"colour\":\"red\""), "colour"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"announce\":\"yes\""), "announce"),
                (Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"announce\":1"), "announce"),
            ]
            for (text, param) in cases {
                try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(key), body: body(text)) {
                    try expectError($0, .badRequest, code: $0.status == .badRequest && param == "colour" ? "parameter_unknown" : "parameter_invalid",
                                    param: param)
                }
            }
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(key)) { response in
                let data = try object(response)["data"] as? [Any]
                #expect(data?.isEmpty == true)
            }
            // Each category the tax table knows is taken and shown as written.
            for category in ["clothing", "groceries", "digital_goods"] {
                let text = Self.offerBody.replacingOccurrences(of: "\"quantity\":5", with: "\"tax_category\":\"\(category)\"")
                    .replacingOccurrences(of: "#BuyKindleFireHD", with: "#Buy\(category.replacingOccurrences(of: "_", with: ""))")
                try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(key), body: body(text)) { response in
                    #expect(response.status == .created)
                    let offer = try object(response)
                    #expect(offer["tax_category"] as? String == category)
                }
            }
        }
    }

    /// The whole product over HTTP, as the README plays it with curl: operator, merchant,
    /// cardholder linking by posting a code, a purchase by post and repost, the cardholder's view.
    @Test func linkAndBuyOverHTTP() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let (_, key) = try await merchantKey(client, name: "Gadgets")
            try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(key), body: body(Self.offerBody)) { #expect($0.status == .created) }
            let cardID = try await client.execute(
                uri: "/v1/cardholders", method: .post, headers: admin,
                body: body(#"{"credit_limit":500000,"billing_name":"Ada Lovelace","address":{"line1":"65 Broadway","city":"New York","state":"NY","postal_code":"10006"},"card_last4":"4242"}"#)
            ) { try #require(try object($0)["id"] as? String) }
            let token = try await client.execute(uri: "/v1/cardholders/\(cardID)/tokens", method: .post, headers: admin) {
                try #require(try object($0)["secret"] as? String)
            }
            let code = try await client.execute(uri: "/v1/links", method: .post, headers: bearer(token), body: body(#"{"network":"sandbox"}"#)) {
                #expect($0.status == .created)
                return try #require(try object($0)["code"] as? String)
            }
            try await client.execute(uri: "/v1/links", method: .post, headers: bearer(token), body: body(#"{"network":"myspace"}"#)) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "network")
            }
            // The merchant makes a trial account; its token acts as it, and so does the merchant's key.
            let (alice, aliceToken) = try await client.execute(uri: "/sandbox/accounts", method: .post, headers: bearer(key),
                                                               body: body(#"{"handle":"alice"}"#)) {
                (try #require(try object($0)["id"] as? String), try #require(try object($0)["token"] as? String))
            }
            // A cardholder token reads the sandbox but does not post.
            try await client.execute(uri: "/sandbox/posts", method: .post, headers: bearer(token), body: body(#"{"author_id":"\#(alice)","text":"hi"}"#)) {
                try expectError($0, .forbidden, code: "forbidden")
            }
            try await client.execute(uri: "/sandbox/posts", method: .post, headers: bearer(key), body: body(#"{"author_id":"\#(alice)","text":"linking \#(code)"}"#)) {
                #expect($0.status == .created)
            }
            try await world.settle()
            let linkID = try await client.execute(uri: "/v1/links", method: .get, headers: bearer(token)) { response in
                let links = try #require(try object(response)["data"] as? [[String: Any]])
                #expect(links.count == 1 && links.first?["user_id"] as? String == alice)
                return try #require(links.first?["id"] as? String)
            }
            // Risk: a fresh link cannot buy for an hour by default; this world allows it at once.
            let post = try await client.execute(uri: "/sandbox/posts", method: .post, headers: bearer(aliceToken), body: body(##"{"author_id":"\##(alice)","text":"#BuyKindleFireHD"}"##)) {
                try #require(try object($0)["id"] as? String)
            }
            try await world.settle()
            let reply = try await client.execute(uri: "/sandbox/posts?in_reply_to=\(post)", method: .get, headers: bearer(token)) { response in
                try #require((try object(response)["data"] as? [[String: Any]])?.first?["id"] as? String)
            }
            try await client.execute(uri: "/sandbox/posts/\(reply)/reposts", method: .post, headers: bearer(aliceToken), body: body(#"{"author_id":"\#(alice)"}"#)) {
                #expect($0.status == .created)
            }
            try await world.settle()
            try await client.execute(uri: "/v1/purchases", method: .get, headers: bearer(token)) { response in
                let purchases = try #require(try object(response)["data"] as? [[String: Any]])
                #expect(purchases.count == 1)
                #expect(purchases.first?["state"] as? String == "authorized" && purchases.first?["total"] as? Int == 15599)
            }
            try await client.execute(uri: "/v1/notifications", method: .get, headers: bearer(token)) { response in
                let notifications = try #require(try object(response)["data"] as? [[String: Any]])
                let receipt = try #require(notifications.first)
                #expect(receipt["kind"] as? String == "receipt")
                #expect((receipt["message"] as? String)?.contains("$155.99") == true)
            }
            // Another cardholder's token sees none of it.
            try await client.execute(uri: "/v1/purchases", method: .get, headers: bearer("hc_ch_stranger")) { try expectError($0, .unauthorized, code: "unauthorized") }
            try await client.execute(uri: "/v1/links/\(linkID)", method: .delete, headers: bearer(token)) { response in
                let active = try object(response)["active"] as? Bool
                #expect(active == false)
            }
            try await client.execute(uri: "/v1/links/\(linkID)", method: .delete, headers: bearer(token)) { try expectError($0, .notFound, code: "resource_missing") }
            try await client.execute(uri: "/v1/ledger/check", method: .get, headers: admin) { response in
                let ok = try object(response)["ok"] as? Bool
                #expect(ok == true)
            }
        }
    }
}
