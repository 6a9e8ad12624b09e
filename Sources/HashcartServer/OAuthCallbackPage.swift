import Foundation
import HTTPTypes
import Hummingbird

/// What a person's browser shows when a network sends them back from an OAuth sign-in (with
/// `Accept: text/html`): one short page saying whether the account was linked. Everything in it
/// that a network or a person wrote (the handle, the error) is escaped; the page loads nothing,
/// cannot be framed, and is not cached. The URL carries the code and state, so no page sends a Referer.
enum OAuthCallbackPage {
    /// Headers every callback answer carries, JSON or HTML.
    static let headers: HTTPFields = [
        .cacheControl: "no-store", HTTPField.Name("Referrer-Policy")!: "no-referrer",
        .contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
    ]

    static func linked(_ link: LinkView) -> Response {
        page(status: .ok, title: "Account linked",
             body: "Your \(escape(link.network)) account \(escape(link.handle)) is now linked to your card. You can close this page.")
    }

    static func failed(_ error: APIError) -> Response {
        page(status: error.status, title: "Nothing was linked", body: escape(error.message))
    }

    static func page(status: HTTPResponse.Status, title: String, body: String) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Hashcart</title></head>
            <body><main><h1>\(escape(title))</h1><p>\(body)</p></main></body></html>

            """
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String { HTMLText.escape(text) }
}
