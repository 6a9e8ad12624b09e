import HashcartCore
import HashcartStore
import Testing

/// A card number is kept only as its fingerprint under the store's key.
@Suite struct CardFingerprintTests {
    static let key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

    @Test func theFingerprintIsHMACSHA256UnderAnHKDFDerivedKey() throws {
        // Computed with Python's hmac and hashlib (RFC 5869 HKDF, empty salt), not with swift-crypto.
        let cipher = try AddressCipher(encodedKey: Self.key)
        #expect(cipher.fingerprint(of: try PrimaryAccountNumber("4111111111111111")).hex
                == "42a03d55181d43b43a1a5241388cc39cf23fba4584d9e0f53717b53ff0019ea1")
    }

    @Test func theSameCardHasOneFingerprintPerStoreAndAnotherUnderAnotherKey() throws {
        let cipher = try AddressCipher(encodedKey: Self.key)
        let other = try AddressCipher(encodedKey: AddressCipher.generateEncodedKey())
        let printed = try PrimaryAccountNumber("4111 1111 1111 1111")
        let plain = try PrimaryAccountNumber("4111-1111-1111-1111")
        #expect(cipher.fingerprint(of: printed) == cipher.fingerprint(of: plain))
        #expect(cipher.fingerprint(of: plain) != other.fingerprint(of: plain))
        #expect(cipher.fingerprint(of: plain) != cipher.fingerprint(of: try PrimaryAccountNumber("4242424242424242")))
        #expect(!cipher.fingerprint(of: plain).hex.contains("1111"))
    }
}
