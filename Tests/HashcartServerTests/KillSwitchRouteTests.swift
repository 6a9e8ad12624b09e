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

/// The issuer's kill switches over real HTTP: the operator stops every purchase in the mode (with
/// a reason) or one offer; merchants and cardholders cannot; bad bodies change nothing.
@Suite(.onEveryBackend) struct KillSwitchRouteTests {
    @Test func theOperatorStopsEverythingOrOneOfferAndNobodyElseCan() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            try await client.execute(uri: "/v1/kill_switch", method: .get, headers: admin) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["on"] as? Bool == false && body["changed"] as? Int == 0 && body["object"] as? String == "kill_switch")
            }
            for (bad, param) in [(#"{"on":true}"#, "reason"), (#"{"on":"yes","reason":"x"}"#, "on"), (#"{"on":true,"reason":""}"#, "reason"),
                                 (#"{"on":true,"reason":"x","everything":true}"#, "everything"),
                                 (#"{"on":true,"reason":"\#(String(repeating: "r", count: 201))"}"#, "reason"), (#"{"on":true,"reason":"a\u0007b"}"#, "reason")] {
                try await client.execute(uri: "/v1/kill_switch", method: .post, headers: admin, body: body(bad)) { response in
                    #expect(response.status == .badRequest, "\(bad): \(String(buffer: response.body))")
                    let error = try object(response)["error"] as? [String: Any]
                    #expect(error?["param"] as? String == param, "\(bad): \(String(buffer: response.body))")
                }
            }
            #expect(try await world.store.read { try $0.issuerKillSwitch() } == nil, "a refused body changes nothing")
            try await client.execute(uri: "/v1/kill_switch", method: .post, headers: admin, body: body(#"{"on":true,"reason":"incident 42"}"#)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let state = try object(response)
                #expect(state["on"] as? Bool == true && state["reason"] as? String == "incident 42" && (state["changed"] as? Int ?? 0) > 0)
            }
            #expect(try await world.store.read { try $0.issuerKillSwitch() }?.on == true)

            let merchantID = try await client.execute(uri: "/v1/merchants", method: .post, headers: admin, body: body(#"{"name":"Shop"}"#)) {
                try #require(try object($0)["id"] as? String)
            }
            let key = try await client.execute(uri: "/v1/merchants/\(merchantID)/api_keys", method: .post, headers: admin) {
                try #require(try object($0)["secret"] as? String)
            }
            let offerID = try await client.execute(uri: "/v1/offers", method: .post, headers: bearer(key),
                                                   body: body(##"{"title":"Kindle","sku":"K1","price":14999,"hashtag":"#BuyKindle","quantity":5}"##)) { response in
                #expect(try object(response)["kill_switch"] as? Bool == false)
                return try #require(try object(response)["id"] as? String)
            }
            try await client.execute(uri: "/v1/offers/\(offerID)/kill_switch", method: .post, headers: admin, body: body(#"{"on":true}"#)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let stopped = try object(response)["kill_switch"] as? Bool
                #expect(stopped == true)
            }
            try await client.execute(uri: "/v1/offers/\(offerID)", method: .get, headers: bearer(key)) { response in
                let stopped = try object(response)["kill_switch"] as? Bool
                #expect(stopped == true, "the merchant sees its offer stopped")
            }
            try await client.execute(uri: "/v1/offers/off_nope/kill_switch", method: .post, headers: admin, body: body(#"{"on":true}"#)) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/offers/\(offerID)/kill_switch", method: .post, headers: admin, body: body(#"{"on":true,"reason":"x"}"#)) {
                #expect($0.status == .badRequest)
            }
            // A merchant can neither stop nor restart anything.
            for (uri, text) in [("/v1/kill_switch", #"{"on":false,"reason":"mine"}"#), ("/v1/offers/\(offerID)/kill_switch", #"{"on":false}"#)] {
                try await client.execute(uri: uri, method: .post, headers: bearer(key), body: body(text)) { response in
                    #expect([.unauthorized, .forbidden].contains(response.status), "\(uri): \(response.status)")
                }
            }
            #expect(try await world.store.read { try $0.issuerKillSwitch() }?.on == true)
            #expect(try await world.store.read { try $0.offer(OfferID(offerID)) }?.killSwitch == true)
        }
    }

    /// Risk limits over the API: the defaults until set, a partial update keeps the rest, bounds
    /// refused with the field named and nothing changed, and the engine declines by the new limits.
    @Test func riskLimitsAreSetOverTheAPIAndTheEngineUsesThem() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let defaults = try await client.execute(uri: "/v1/risk", method: .get, headers: admin) { response in
                let body = try object(response)
                #expect(body["source"] as? String == "default" && body["changed"] as? Int == 0)
                return body
            }
            for (bad, param) in [(#"{"daily_spend_cap":0}"#, "daily_spend_cap"), (#"{"daily_spend_cap":100000001}"#, "daily_spend_cap"),
                                 (#"{"max_purchases_per_hour":0}"#, "max_purchases_per_hour"), (#"{"max_purchases_per_hour":1001}"#, "max_purchases_per_hour"),
                                 (#"{"min_link_age_seconds":-1}"#, "min_link_age_seconds"), (#"{"min_link_age_seconds":2592001}"#, "min_link_age_seconds"),
                                 (#"{"min_link_age_seconds":"soon"}"#, "min_link_age_seconds"), (#"{"velocity":3}"#, "velocity")] {
                try await client.execute(uri: "/v1/risk", method: .post, headers: admin, body: body(bad)) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                    let error = try object(response)["error"] as? [String: Any]
                    #expect(error?["param"] as? String == param, "\(bad): \(String(buffer: response.body))")
                }
            }
            #expect(try await world.store.read { try $0.issuerRiskPolicy() } == nil, "refused bodies change nothing")
            try await client.execute(uri: "/v1/risk", method: .post, headers: admin, body: body(#"{"min_link_age_seconds":604800}"#)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let body = try object(response)
                #expect(body["source"] as? String == "api" && body["min_link_age_seconds"] as? Int == 604_800)
                #expect(body["daily_spend_cap"] as? Int == defaults["daily_spend_cap"] as? Int, "a field left out keeps its value")
            }
        }
        // A link a day old is now too young to buy.
        let merchant = try await world.engine.createMerchant(name: "Shop")
        _ = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle", sku: "K1", price: .usd(14_999),
                                                          hashtag: "#BuyKindle", quantity: 5))
        let (_, _, post) = try await world.linkedBuyerPosts("I want it #BuyKindle")
        let purchaseID = Purchase.id(network: .sandbox, postID: post.id)
        let purchase = try #require(try await world.store.read { try $0.purchase(purchaseID) })
        #expect(purchase.declineReason == .linkTooNew)
    }

    /// One offer's own limits: only the operator sets them, bounds refused with the field named and
    /// nothing changed, the offer shows them, and the engine declines that offer's purchases by them
    /// while another offer follows the issuer's.
    @Test func anOffersOwnRiskLimitsOverTheAPI() async throws {
        let world = try await ServerWorld()
        let merchant = try await world.engine.createMerchant(name: "Shop")
        let strict = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle", sku: "K1", price: .usd(14_999),
                                                                   hashtag: "#BuyKindle", quantity: 5))
        _ = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Tee", sku: "T1", price: .usd(2_500),
                                                          hashtag: "#BuyTee", quantity: 5))
        let key = try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret!
        let uri = "/v1/offers/\(strict.id)/risk"
        try await world.app.test(.live) { client in
            for (bad, param) in [(#"{"daily_spend_cap":0}"#, "daily_spend_cap"), (#"{"daily_spend_cap":100000001}"#, "daily_spend_cap"),
                                 (#"{"max_purchases_per_hour":0}"#, "max_purchases_per_hour"),
                                 (#"{"min_link_age_seconds":-1}"#, "min_link_age_seconds"), (#"{"min_link_age_seconds":2592001}"#, "min_link_age_seconds"),
                                 (#"{"min_link_age_seconds":"soon"}"#, "min_link_age_seconds"), (#"{"per_offer":1}"#, "per_offer")] {
                try await client.execute(uri: uri, method: .post, headers: admin, body: body(bad)) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                    let error = try object(response)["error"] as? [String: Any]
                    #expect(error?["param"] as? String == param, "\(bad): \(String(buffer: response.body))")
                }
            }
            #expect(try await world.store.read { try $0.offer(strict.id) }?.risk.isEmpty == true, "refused bodies change nothing")
            try await client.execute(uri: uri, method: .post, headers: bearer(key), body: body(#"{"min_link_age_seconds":0}"#)) { response in
                #expect([.unauthorized, .forbidden].contains(response.status), "a merchant cannot loosen its own offer's limits")
            }
            try await client.execute(uri: "/v1/offers/off_nope/risk", method: .post, headers: admin, body: body("{}")) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: uri, method: .post, headers: admin, body: body(#"{"min_link_age_seconds":604800}"#)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let risk = try object(response)["risk"] as? [String: Any]
                #expect(risk?["min_link_age_seconds"] as? Int == 604_800 && risk?["daily_spend_cap"] == nil)
            }
            try await client.execute(uri: "/v1/offers/\(strict.id)", method: .get, headers: bearer(key)) { response in
                let risk = try object(response)["risk"] as? [String: Any]
                #expect(risk?["min_link_age_seconds"] as? Int == 604_800)
            }
        }
        // A link a day old buys the tee, but is too young for the Kindle.
        let (_, account, kindlePost) = try await world.linkedBuyerPosts("I want it #BuyKindle")
        let kindle = try #require(try await world.store.read { try $0.purchase(Purchase.id(network: .sandbox, postID: kindlePost.id)) })
        #expect(kindle.declineReason == .linkTooNew)
        let teePost = try world.sandbox.post(authorID: account.id, text: "and #BuyTee")
        try await world.settle()
        let tee = try #require(try await world.store.read { try $0.purchase(Purchase.id(network: .sandbox, postID: teePost.id)) })
        #expect(tee.state == .awaitingConfirmation, "\(tee)")
        // An empty body gives the offer back to the issuer's limits.
        try await world.app.test(.live) { client in
            try await client.execute(uri: uri, method: .post, headers: admin, body: body("{}")) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(try await world.store.read { try $0.offer(strict.id) }?.risk.isEmpty == true)
    }
}
