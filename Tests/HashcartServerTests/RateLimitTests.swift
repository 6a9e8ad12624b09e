import Foundation
import HashcartServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HashcartTestSupport
import Testing

@Suite(.onEveryBackend) struct RateLimitTests {
    /// A credential past its burst gets 429 with Retry-After; another credential is not affected.
    @Test func aBusyCredentialIsSlowedDownAlone() async throws {
        let world = try await ServerWorld()
        let app = Application(router: HashcartRouter.build(service: world.service, rateLimit: RateLimit(requestsPerSecond: 0.01, burst: 3)))
        try await app.test(.live) { client in
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/ledger/check", method: .get, headers: admin) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/v1/ledger/check", method: .get, headers: admin) { response in
                let error = try expectError(response, .tooManyRequests, code: "rate_limited")
                #expect(error["type"] as? String == "rate_limit_error")
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
            }
            // Someone else (wrong token, but a credential of its own) still gets an answer.
            try await client.execute(uri: "/v1/ledger/check", method: .get, headers: bearer("other-token-xxxxxxxxxx")) {
                try expectError($0, .unauthorized, code: "unauthorized")
            }
            // No credential (health, the sandbox) is not limited here.
            for _ in 0..<5 {
                try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            }
        }
    }
}
