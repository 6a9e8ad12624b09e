import Crypto
import Foundation

/// The Account Activity API's two proofs, both HMAC-SHA256 keyed with the app's consumer secret:
/// the CRC challenge Hashcart answers (at registration and periodically; a failed one stops
/// delivery), and the `x-twitter-webhooks-signature` on every POST, checked in constant time.
public enum XWebhookSecurity {
    /// `{"response_token":"sha256=<base64(HMAC-SHA256(consumer secret, crc_token))>"}`'s value.
    public static func crcResponseToken(crcToken: String, consumerSecret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(crcToken.utf8), using: SymmetricKey(data: Data(consumerSecret.utf8)))
        return "sha256=" + Data(mac).base64EncodedString()
    }

    /// Whether `header` (`sha256=<base64>`) signs `body` with the consumer secret. Constant time
    /// in the signature's bytes; a missing, malformed or wrong header is `false`.
    public static func isValidSignature(_ header: String?, body: some DataProtocol, consumerSecret: String) -> Bool {
        guard let header, header.hasPrefix("sha256="), header.utf8.count <= 100,
            let given = Data(base64Encoded: String(header.dropFirst(7))), given.count == SHA256.byteCount
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data(body), using: SymmetricKey(data: Data(consumerSecret.utf8)))
    }
}
