import Foundation
import HashcartConnectors
import HashcartCore
import Testing

/// The wire pieces of OAuth linking that must match the specifications byte for byte.
@Suite struct OAuthWireTests {
    @Test("PKCE S256 gives RFC 7636's own example challenge")
    func pkceMatchesTheRFC() {
        #expect(PKCE.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    @Test("verifiers and states are 43 base64url characters, never the same twice")
    func randomTokens() {
        let tokens = (0..<200).map { _ in PKCE.randomToken() }
        #expect(Set(tokens).count == 200)
        #expect(tokens.allSatisfy { $0.count == 43 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") } })
    }

    @Test("a state names its mode; anything else is no state", arguments: [
        ("live_" + String(repeating: "a", count: 43), Mode.live), ("test_" + String(repeating: "Z", count: 43), .test),
        ("live_short", nil), ("", nil), ("LIVE_" + String(repeating: "a", count: 43), nil), ("prod_" + String(repeating: "a", count: 43), nil),
        ("live_" + String(repeating: "a", count: 124), nil), ("live_" + String(repeating: "a", count: 40) + "<b>", nil),
        ("live_" + String(repeating: "a", count: 40) + "é", nil), ("live_" + String(repeating: "a", count: 40) + "\u{0}", nil),
    ] as [(String, Mode?)])
    func stateModes(state: String, mode: Mode?) {
        #expect(OAuthState.mode(of: state) == mode)
    }
}
