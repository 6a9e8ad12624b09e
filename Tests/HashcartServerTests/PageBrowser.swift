import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A browser's part for in-memory page tests: keeps the cookies the pages set (as a browser
/// would, by name), sends them back, and reads a page's CSRF token out of its forms.
final class PageBrowser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    /// The last response's `Set-Cookie` lines, as sent.
    var lastSetCookies: [String] = []

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    struct Page {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var html: String
        var location: String? { headers[.location] }

        /// The value of the first `csrf_token` field of the page's forms.
        var csrf: String? {
            guard let range = html.range(of: #"name="csrf_token" value="([^"]*)""#, options: .regularExpression) else { return nil }
            let match = html[range]
            return match.split(separator: "\"").dropFirst(3).first.map(String.init)
        }
    }

    @discardableResult
    func get(_ path: String, headers extra: HTTPFields = [:]) async throws -> Page {
        try await send(path, method: .get, headers: extra, body: nil)
    }

    /// Posts a form (urlencoded), with the cookies held.
    @discardableResult
    func post(_ path: String, _ fields: [(String, String)], headers extra: HTTPFields = [:]) async throws -> Page {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let encoded = fields.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(path, method: .post, headers: headers, body: ByteBuffer(string: encoded))
    }

    func send(_ path: String, method: HTTPRequest.Method, headers extra: HTTPFields, body: ByteBuffer?) async throws -> Page {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { [self] response in
            lastSetCookies = response.headers[values: .setCookie]
            for line in lastSetCookies {
                let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let (name, value) = (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
                if line.contains("Max-Age=0") || value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
            }
            return Page(status: response.status, headers: response.headers, html: String(buffer: response.body))
        }
    }

    /// Signs in to `mode` with the sign-in form as a person would; returns the answer to the form.
    @discardableResult
    func signIn(_ email: String, _ password: String, mode: String = "test") async throws -> Page {
        let form = try await get("/dashboard/\(mode)/sign-in")
        return try await post("/dashboard/\(mode)/sign-in", [("csrf_token", form.csrf ?? ""), ("email", email), ("password", password)])
    }
}
