import Crypto
import Foundation
import HashcartCore

/// Seals the private part of a card account (billing name and address, card's last four digits)
/// with AES-256-GCM. The row id is authenticated data, so a sealed value moved to another row
/// does not open; a wrong key never returns garbage, it fails authentication.
public struct AddressCipher: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// - Parameter encodedKey: 32 bytes as base64 or as hex. `nil` or empty is a clear error.
    public init(encodedKey: String?) throws(StoreError) {
        guard let encodedKey = encodedKey?.trimmingCharacters(in: .whitespacesAndNewlines), !encodedKey.isEmpty else {
            throw .missingEncryptionKey
        }
        var bytes: [UInt8]?
        if encodedKey.count == 64, encodedKey.allSatisfy(\.isHexDigit) {
            var result: [UInt8] = []
            var index = encodedKey.startIndex
            while index < encodedKey.endIndex {
                let next = encodedKey.index(index, offsetBy: 2)
                result.append(UInt8(encodedKey[index..<next], radix: 16)!)
                index = next
            }
            bytes = result
        } else if let data = Data(base64Encoded: encodedKey) {
            bytes = Array(data)
        }
        guard let bytes else { throw .malformedEncryptionKey("neither base64 nor 64 hex digits") }
        guard bytes.count == 32 else { throw .malformedEncryptionKey("decodes to \(bytes.count) bytes, not 32") }
        keyBytes = bytes
    }

    /// A fresh random key, base64-encoded, for `hashcart demo` and tests.
    public static func generateEncodedKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    public func seal(_ plaintext: Data, context: String) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8))
        return box.combined!
    }

    public func open(_ sealed: Data, context: String) throws(StoreError) -> Data {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        } catch {
            throw .wrongEncryptionKey
        }
    }

    /// A card number's fingerprint: HMAC-SHA256 of its digits under a key derived from the store's
    /// key by HKDF (its own key, never the sealing key itself). The same card always has the same
    /// fingerprint in one store, and another in a store with another key (test mode's).
    public func fingerprint(of pan: PrimaryAccountNumber) -> CardFingerprint {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("hashcart card fingerprint v1".utf8), outputByteCount: 32)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(pan.digits.utf8), using: derived)
        let hex = mac.map { byte in String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
        return CardFingerprint(hex: hex)!
    }

    /// The associated data that binds a sealed idempotent response to its scope and key, so a
    /// sealed response cannot be moved to another caller's key.
    static func idempotencyContext(scope: [UInt8], key: String) -> String {
        "idempotency:" + scope.map { String($0, radix: 16) }.joined(separator: ".") + ":" + key
    }

    // The private fields are joined by U+001F: validated text never holds control characters.
    static let separator: Character = "\u{1F}"

    func sealPrivate(of account: CardAccount) throws -> Data {
        let b = account.billing
        let fields = [b.name, b.line1, b.line2 ?? "", b.city, b.state.rawValue, b.postalCode, account.cardLast4]
        return try seal(Data(fields.joined(separator: String(Self.separator)).utf8), context: "card:" + account.id.rawValue)
    }

    func openPrivate(_ sealed: Data, id: CardAccountID) throws(StoreError) -> (BillingAddress, String) {
        let plaintext = try open(sealed, context: "card:" + id.rawValue)
        let fields = String(decoding: plaintext, as: UTF8.self).split(separator: Self.separator, omittingEmptySubsequences: false)
        guard fields.count == 7, let state = USState(rawValue: String(fields[4])) else {
            throw .corruptRecord(table: "card_accounts", id: id.rawValue, detail: "billing fields do not parse")
        }
        let address = BillingAddress(name: String(fields[0]), line1: String(fields[1]), line2: fields[2].isEmpty ? nil : String(fields[2]),
                                     city: String(fields[3]), state: state, postalCode: String(fields[5]))
        return (address, String(fields[6]))
    }
}
