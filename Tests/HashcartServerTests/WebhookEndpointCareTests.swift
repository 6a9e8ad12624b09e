import Foundation
import HashcartApp
import HashcartCore
import HashcartServer
import HashcartStore
import HashcartTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// What a merchant does with its endpoints: list them, send one a test, rotate its secret (the old
/// one signs beside the new until it expires), disable and enable it; another merchant's endpoint
/// and garbage are refused and change nothing.
@Suite(.onEveryBackend) struct WebhookEndpointCareTests {
    @Test func listTestRotateDisableAndEnable() async throws {
        let first = WebhookReceiver(), second = WebhookReceiver()
        let tasks = [try await first.start(), try await second.start()]
        defer { tasks.forEach { $0.cancel() } }
        let world = try await ServerWorld()
        let deliverer = WebhookDeliverer(service: world.service, logger: Logger(label: "test"))
        let merchant = try await world.engine.createMerchant(name: "Gadgets")
        let key = try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret!
        let other = try await world.engine.createMerchant(name: "Other")
        let otherKey = try await world.service.createAPIKey(merchantID: other.id.rawValue).secret!

        try await world.app.test(.live) { client in
            func create(_ url: String) async throws -> (String, String) {
                try await client.execute(uri: "/v1/webhook_endpoints", method: .post, headers: bearer(key), body: body(#"{"url":"\#(url)"}"#)) {
                    let endpoint = try object($0)
                    return (try #require(endpoint["id"] as? String), try #require(endpoint["secret"] as? String))
                }
            }
            let (a, oldSecret) = try await create(first.url)
            let (b, _) = try await create(second.url)
            try await client.execute(uri: "/v1/webhook_endpoints", method: .get, headers: bearer(key)) { response in
                let listed = try object(response)["data"] as? [[String: Any]] ?? []
                #expect(Set(listed.compactMap { $0["id"] as? String }) == [a, b])  // oldest first; these two were made in the same instant
                #expect(listed.allSatisfy { $0["status"] as? String == "enabled" && $0["secret"] == nil })
            }

            // A test goes to that endpoint only, its object the endpoint.
            try await client.execute(uri: "/v1/webhook_endpoints/\(a)/test", method: .post, headers: bearer(key)) { response in
                #expect(response.status == .created)
                let event = try object(response)
                #expect(event["type"] as? String == "webhook_endpoint.test")
            }
            #expect(try await deliverer.round() == 1)
            let test = try #require(first.received.withLock { $0.first })
            #expect(second.received.withLock { $0.isEmpty })
            let payload = try #require(try JSONSerialization.jsonObject(with: test.body) as? [String: Any])
            #expect(payload["type"] as? String == "webhook_endpoint.test")
            #expect(((payload["data"] as? [String: Any])?["object"] as? [String: Any])?["id"] as? String == a)
            #expect(verify(signature: test.signature, body: test.body, secret: oldSecret))

            // Rotated: the new secret once; both sign until the old expires, then the new alone.
            let newSecret = try await client.execute(uri: "/v1/webhook_endpoints/\(a)/rotate_secret", method: .post, headers: bearer(key),
                                                     body: body(#"{"expire_previous_after_seconds":3600}"#)) { response in
                let endpoint = try object(response)
                #expect(endpoint["previous_secret_expires_at"] as? Int == Int(world.clock.now().millisecondsSinceEpoch / 1000) + 3600)
                return try #require(endpoint["secret"] as? String)
            }
            #expect(newSecret != oldSecret && newSecret.hasPrefix("whsec_"))
            _ = try await client.execute(uri: "/v1/webhook_endpoints/\(a)/test", method: .post, headers: bearer(key)) { $0.status }
            #expect(try await deliverer.round() == 1)
            let during = try #require(first.received.withLock { $0.last })
            #expect(during.signature.components(separatedBy: ",v1=").count == 3)
            #expect(verify(signature: during.signature, body: during.body, secret: newSecret))
            #expect(verify(signature: during.signature, body: during.body, secret: oldSecret))
            #expect(try await runVerifySnippet(secret: newSecret, signature: during.signature, body: during.body) == 0)
            #expect(try await runVerifySnippet(secret: oldSecret, signature: during.signature, body: during.body) == 0)
            world.clock.advance(seconds: 3601)
            _ = try await client.execute(uri: "/v1/webhook_endpoints/\(a)/test", method: .post, headers: bearer(key)) { $0.status }
            #expect(try await deliverer.round() == 1)
            let after = try #require(first.received.withLock { $0.last })
            #expect(verify(signature: after.signature, body: after.body, secret: newSecret))
            #expect(!verify(signature: after.signature, body: after.body, secret: oldSecret))

            // Disabled: no test, nothing delivered; enabled again: the next event is.
            try await client.execute(uri: "/v1/webhook_endpoints/\(b)/disable", method: .post, headers: bearer(key)) { response in
                let endpoint = try object(response)
                #expect(endpoint["status"] as? String == "disabled")
            }
            try await client.execute(uri: "/v1/webhook_endpoints/\(b)/test", method: .post, headers: bearer(key)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
            try await client.execute(uri: "/v1/webhook_endpoints/\(b)/enable", method: .post, headers: bearer(key)) { response in
                let endpoint = try object(response)
                #expect(endpoint["status"] as? String == "enabled")
            }
            _ = try await client.execute(uri: "/v1/webhook_endpoints/\(b)/test", method: .post, headers: bearer(key)) { $0.status }
            #expect(try await deliverer.round() == 1)
            #expect(second.received.withLock { $0.count } == 1)

            // Another merchant's endpoint is no endpoint; garbage bodies name the field; nothing changed.
            for path in ["disable", "enable", "rotate_secret", "test"] {
                try await client.execute(uri: "/v1/webhook_endpoints/\(a)/\(path)", method: .post, headers: bearer(otherKey)) {
                    try expectError($0, .notFound, code: "resource_missing")
                }
            }
            for text in [#"{"expire_previous_after_seconds":-1}"#, #"{"expire_previous_after_seconds":604801}"#,
                         #"{"expire_previous_after_seconds":"soon"}"#, #"{"expire_previous_after":60}"#, "[]"] {
                try await client.execute(uri: "/v1/webhook_endpoints/\(a)/rotate_secret", method: .post, headers: bearer(key), body: body(text)) {
                    #expect($0.status == .badRequest, "\(text)")
                }
            }
            try await client.execute(uri: "/v1/webhook_endpoints", method: .get, headers: bearer(otherKey)) { response in
                let listed = try object(response)["data"] as? [Any]
                #expect(listed?.isEmpty == true)
            }
            // The refused rotations rotated nothing: the last secret still signs alone.
            _ = try await client.execute(uri: "/v1/webhook_endpoints/\(a)/test", method: .post, headers: bearer(key)) { $0.status }
            #expect(try await deliverer.round() == 1)
            let last = try #require(first.received.withLock { $0.last })
            #expect(verify(signature: last.signature, body: last.body, secret: newSecret))
            #expect(last.signature.components(separatedBy: ",v1=").count == 2)

            // The delivery log: newest first, the receiver's status, a failure and its next try.
            first.status.withLock { $0 = .serviceUnavailable }
            _ = try await client.execute(uri: "/v1/webhook_endpoints/\(a)/test", method: .post, headers: bearer(key)) { $0.status }
            #expect(try await deliverer.round() == 1)
            try await client.execute(uri: "/v1/webhook_endpoints/\(a)/deliveries?limit=3", method: .get, headers: bearer(key)) { response in
                let log = try object(response)
                let entries = log["data"] as? [[String: Any]] ?? []
                #expect(entries.count == 3 && log["has_more"] as? Bool == true)
                #expect(entries.allSatisfy { $0["type"] as? String == "webhook_endpoint.test" && $0["object"] as? String == "webhook_delivery" })
                let failing = entries.first { $0["status"] as? String == "pending" }
                #expect(failing?["last_response_status"] as? Int == 503 && failing?["next_attempt"] as? Int != nil, "\(entries)")
                #expect(entries.filter { $0["status"] as? String == "delivered" }.allSatisfy { $0["last_response_status"] as? Int == 200 && $0["delivered"] != nil })
            }
            // Paged one at a time by starting_after: every delivery once, in the order of the whole log.
            let whole = try await client.execute(uri: "/v1/webhook_endpoints/\(a)/deliveries?limit=100", method: .get, headers: bearer(key)) {
                ((try object($0)["data"] as? [[String: Any]]) ?? []).compactMap { $0["event"] as? String }
            }
            #expect(whole.count >= 4 && Set(whole).count == whole.count, "\(whole)")
            var paged: [String] = []
            var cursor = ""
            for _ in 0..<(whole.count + 2) {
                let (events, more) = try await client.execute(uri: "/v1/webhook_endpoints/\(a)/deliveries?limit=1\(cursor)", method: .get,
                                                              headers: bearer(key)) { response in
                    let page = try object(response)
                    return (((page["data"] as? [[String: Any]]) ?? []).compactMap { $0["event"] as? String }, page["has_more"] as? Bool ?? false)
                }
                paged += events
                guard more, let last = events.last else { break }
                cursor = "&starting_after=\(last)"
            }
            #expect(paged == whole)
            // An id from no log of this endpoint is an empty page; garbage is a clear 400 naming the parameter.
            try await client.execute(uri: "/v1/webhook_endpoints/\(a)/deliveries?starting_after=evt_nothing", method: .get, headers: bearer(key)) {
                let page = try object($0)
                #expect((page["data"] as? [Any])?.isEmpty == true && page["has_more"] as? Bool == false)
            }
            for garbage in ["", "%00", "a%20b", String(repeating: "e", count: 201), "%E2%80%AE"] {
                try await client.execute(uri: "/v1/webhook_endpoints/\(a)/deliveries?starting_after=\(garbage)", method: .get, headers: bearer(key)) {
                    try expectError($0, .badRequest, code: "parameter_invalid", param: "starting_after")
                }
            }
            try await client.execute(uri: "/v1/webhook_endpoints/\(a)/deliveries", method: .get, headers: bearer(otherKey)) {
                try expectError($0, .notFound, code: "resource_missing")
            }
            try await client.execute(uri: "/v1/webhook_endpoints/\(a)/deliveries?limit=abc", method: .get, headers: bearer(key)) {
                #expect($0.status == .badRequest)
            }
        }
    }

    @Test func atMostSixteenEnabledEndpoints() async throws {
        let world = try await ServerWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets")
        let key = try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret!
        try await world.app.test(.live) { client in
            func create(_ index: Int) async throws -> (HTTPResponse.Status, String?) {
                try await client.execute(uri: "/v1/webhook_endpoints", method: .post, headers: bearer(key),
                                         body: body(#"{"url":"http://127.0.0.1:9/hook\#(index)"}"#)) {
                    ($0.status, try object($0)["id"] as? String)
                }
            }
            var ids: [String] = []
            for index in 0..<StoreLimits.maximumEndpointsPerMerchant {
                let (status, id) = try await create(index)
                #expect(status == .created)
                ids.append(try #require(id))
            }
            #expect(try await create(99).0 == .conflict)
            // A disabled endpoint makes room; enabling it again would go past the limit.
            _ = try await client.execute(uri: "/v1/webhook_endpoints/\(ids[0])/disable", method: .post, headers: bearer(key)) { $0.status }
            #expect(try await create(100).0 == .created)
            try await client.execute(uri: "/v1/webhook_endpoints/\(ids[0])/enable", method: .post, headers: bearer(key)) {
                try expectError($0, .conflict, code: "resource_conflict")
            }
            try await client.execute(uri: "/v1/webhook_endpoints", method: .get, headers: bearer(key)) { response in
                let listed = try object(response)["data"] as? [[String: Any]] ?? []
                #expect(listed.count == StoreLimits.maximumEndpointsPerMerchant + 1)
                #expect(listed.filter { $0["status"] as? String == "enabled" }.count == StoreLimits.maximumEndpointsPerMerchant)
            }
        }
    }
}
