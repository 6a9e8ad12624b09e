import Crypto
import Foundation
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore

/// Credentials: merchants' API keys and cardholders' tokens (made by the operator, shown once,
/// kept as SHA-256 hashes), and what a presented one acts as.
extension EngineService {
    public func merchant(forAPIKey key: String) async -> String? {
        guard key.hasPrefix(mode.apiKeyPrefix) else { return nil }
        return try? await store.credentialOwner(kind: .merchantAPIKey, secretHash: Self.hash(token: key))
    }

    public func cardholder(forToken token: String) async -> String? {
        guard token.hasPrefix(mode.cardholderTokenPrefix) else { return nil }
        return try? await store.credentialOwner(kind: .cardholderToken, secretHash: Self.hash(token: token))
    }

    /// A new secret: a prefix and 32 characters from the system's CSPRNG.
    public static func secret(prefix: String) -> String {
        let generator = RandomIDGenerator()
        return prefix + generator.next(prefix: "x").dropFirst(2) + generator.next(prefix: "x").dropFirst(2)
    }

    public func createAPIKey(merchantID: String) async throws -> SecretView {
        try await mapped {
            guard let id = MerchantID(validating: merchantID), try await store.read({ try $0.merchant(id) }) != nil else {
                throw APIError.notFound("merchant \(merchantID.prefix(64))")
            }
            let secret = Self.secret(prefix: mode.apiKeyPrefix)
            let keyID = RandomIDGenerator().next(prefix: "key")
            let now = engine.clock.now()
            try await AuditAction.recording("api_key.create", objectID: keyID, merchantID: id, at: now) {
                try await store.saveCredential(id: keyID, kind: .merchantAPIKey, ownerID: id.rawValue, secretHash: Self.hash(token: secret), at: now)
            }
            return SecretView(object: "api_key", id: keyID, owner: id.rawValue, secret: secret, created: now.millisecondsSinceEpoch / 1000)
        }
    }

    public func revokeAPIKey(merchantID: String, keyID: String) async throws -> SecretView {
        try await mapped {
            let now = engine.clock.now()
            guard try await AuditAction.recording("api_key.revoke", objectID: keyID, merchantID: MerchantID(merchantID), at: now, {
                try await store.revokeCredential(id: keyID, kind: .merchantAPIKey, ownerID: merchantID, at: now)
            }) else {
                throw APIError.notFound("API key \(keyID.prefix(64)) of merchant \(merchantID.prefix(64))")
            }
            return SecretView(object: "api_key", id: keyID, owner: merchantID, secret: nil, created: now.millisecondsSinceEpoch / 1000, revoked: true)
        }
    }

    public func createCardholderToken(cardholderID: String) async throws -> SecretView {
        try await mapped {
            guard let id = CardAccountID(validating: cardholderID), try await store.read({ try $0.cardAccount(id) }) != nil else {
                throw APIError.notFound("cardholder \(cardholderID.prefix(64))")
            }
            let secret = Self.secret(prefix: mode.cardholderTokenPrefix)
            let tokenID = RandomIDGenerator().next(prefix: "tok")
            let now = engine.clock.now()
            try await AuditAction.recording("cardholder_token.create", objectID: tokenID, at: now) {
                try await store.saveCredential(id: tokenID, kind: .cardholderToken, ownerID: id.rawValue, secretHash: Self.hash(token: secret), at: now)
            }
            return SecretView(object: "cardholder_token", id: tokenID, owner: id.rawValue, secret: secret, created: now.millisecondsSinceEpoch / 1000)
        }
    }
}
