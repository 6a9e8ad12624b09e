import Foundation
import HashcartApp
import HashcartCore
import HashcartServer
import HashcartStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HashcartTestSupport
import Testing

@Suite(.onEveryBackend) struct IdempotencyKeyTests {
    func with(_ headers: HTTPFields, key: String) -> HTTPFields {
        var headers = headers
        headers[HTTPField.Name("Idempotency-Key")!] = key
        return headers
    }

    @Test func aRetryReplaysTheFirstResponseAndChangesNothing() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let first = try await client.execute(uri: "/v1/merchants", method: .post, headers: with(admin, key: "k-1"), body: body(#"{"name":"Shop"}"#)) {
                #expect($0.status == .created)
                return try object($0)["id"] as? String
            }
            try await client.execute(uri: "/v1/merchants", method: .post, headers: with(admin, key: "k-1"), body: body(#"{"name":"Shop"}"#)) { response in
                #expect(response.status == .created)
                #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                let again = try object(response)["id"] as? String
                #expect(again == first)
            }
            // The same fields in another order, other spacing: the same request, replayed.
            try await client.execute(uri: "/v1/merchants", method: .post, headers: with(admin, key: "k-order"),
                                     body: body(#"{"name":"Ordered","discount_rate_bps":300}"#)) { #expect($0.status == .created) }
            try await client.execute(uri: "/v1/merchants", method: .post, headers: with(admin, key: "k-order"),
                                     body: body(#"{ "discount_rate_bps": 300, "name": "Ordered" }"#)) {
                #expect($0.status == .created)
                #expect($0.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            }
            // Same key, different request: refused.
            try await client.execute(uri: "/v1/merchants", method: .post, headers: with(admin, key: "k-1"), body: body(#"{"name":"Other"}"#)) {
                try expectError($0, .unprocessableContent, code: "idempotency_key_reused")
            }
            // A request the API refused is replayed refused; the same key cannot be "fixed".
            try await client.execute(uri: "/v1/merchants", method: .post, headers: with(admin, key: "k-2"), body: body(#"{"name":""}"#)) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "name")
            }
            try await client.execute(uri: "/v1/merchants", method: .post, headers: with(admin, key: "k-2"), body: body(#"{"name":""}"#)) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "name")
            }
            // Authentication comes first: the same key without a credential is 401, never the replay.
            try await client.execute(uri: "/v1/merchants", method: .post, headers: with(json, key: "k-1"), body: body(#"{"name":"Shop"}"#)) {
                #expect($0.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
                try expectError($0, .unauthorized, code: "unauthorized")
            }
            // Malformed keys.
            for key in [String(repeating: "k", count: 256), "tab\there"] {
                try await client.execute(uri: "/v1/merchants", method: .post, headers: with(admin, key: key), body: body(#"{"name":"Shop"}"#)) {
                    try expectError($0, .badRequest, code: "idempotency_key_invalid")
                }
            }
        }
        #expect(try await world.store.read { try $0.count("merchants") } == 2)
        #expect(try world.sandbox.posts(limit: 10).isEmpty)
    }

    @Test func anUnfinishedFirstRequestIsInFlightThenAbandoned() async throws {
        let world = try await ServerWorld()
        let now = Instant(secondsSinceEpoch: 1_790_000_000)
        let scope: [UInt8] = [1, 2, 3]
        #expect(try await world.store.claimIdempotency(scope: scope, key: "k", requestHash: [9], now: now) == .claimed)
        #expect(try await world.store.claimIdempotency(scope: scope, key: "k", requestHash: [9], now: now.adding(seconds: 5)) == .inFlight)
        #expect(try await world.store.claimIdempotency(scope: scope, key: "k", requestHash: [8], now: now.adding(seconds: 5)) == .mismatch)
        // A crash mid-request: after a minute the key can be claimed again.
        #expect(try await world.store.claimIdempotency(scope: scope, key: "k", requestHash: [9], now: now.adding(seconds: 61)) == .claimed)
        try await world.store.finishIdempotency(scope: scope, key: "k", status: 201, body: Data("{}".utf8))
        #expect(try await world.store.claimIdempotency(scope: scope, key: "k", requestHash: [9], now: now.adding(seconds: 62))
                == .replay(status: 201, body: Data("{}".utf8)))
        // Kept 48 hours, then forgotten.
        #expect(try await world.store.claimIdempotency(scope: scope, key: "k", requestHash: [9], now: now.adding(seconds: 49 * 3600)) == .claimed)
    }
}
