import HashcartCore
import HTTPTypes
import Hummingbird
import Mustache

/// Renders the dashboard's pages from the Mustache templates compiled into the binary
/// (`Resources/dashboard`, scripts/embed-resources.sh). Every `{{value}}` is HTML-escaped (quotes
/// included, so attributes are safe too); the only unescaped insertions (`{{{…}}}`) are the
/// page body a template rendered and charts drawn from numbers.
struct PageRenderer: Sendable {
    let library: MustacheLibrary

    static let shared = PageRenderer()

    init() {
        var library = MustacheLibrary()
        for (name, text) in EmbeddedDashboardAssets.templates {
            do {
                try library.register(text, named: name)
            } catch {
                preconditionFailure("the dashboard template \(name) does not parse: \(error)")
            }
        }
        self.library = library
    }

    func render(_ template: String, _ data: [String: Any]) -> String {
        guard let text = library.render(data, withTemplate: template) else { preconditionFailure("no dashboard template \(template)") }
        return text
    }

    /// The headers of every page: no script but our own file, no framing, no caching, no referrer.
    static let securityHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return headers
    }()

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A redirect after a form (303: the browser then GETs `location`).
    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// A whole page: the layout around `template` rendered with `data`.
    func page(_ template: String, title: String, data: [String: Any] = [:], frame: PageFrame, status: HTTPResponse.Status = .ok) -> Response {
        let body = render(template, data.merging(frame.common) { mine, _ in mine })
        var layout = frame.layout
        layout["title"] = title
        layout["body"] = body
        return Self.html(render("layout", layout), status: status)
    }
}

/// What the layout around every page shows: the mode (always), the switch to the other mode,
/// who is signed in and their sections.
struct PageFrame {
    var mode: Mode
    var otherModes: [Mode]
    var principal: DashboardPrincipal?
    var section: String = ""
    var notice: String?
    var error: String?
    var liveScript = false

    var base: String { "/dashboard/\(mode.rawValue)" }

    /// Values every page template may use.
    var common: [String: Any] {
        ["base": base, "csrf": principal?.csrfToken ?? "", "mode": mode.rawValue]
    }

    var layout: [String: Any] {
        var values: [String: Any] = common
        values["is_test"] = mode == .test
        values["mode_label"] = mode == .test ? "Test mode" : "Live mode"
        if let other = otherModes.first(where: { $0 != mode }) {
            values["switch_url"] = "/dashboard/\(other.rawValue)"
            values["switch_label"] = other == .test ? "test mode" : "live mode"
        }
        if let principal {
            values["signed_in"] = true
            values["email"] = principal.email
            values["role_label"] = principal.role.rawValue
            values["nav"] = Self.sections(principal.role).map { item in
                ["href": base + item.path, "label": item.label, "current": item.key == section] as [String: Any]
            }
        }
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        values["live_script"] = liveScript
        return values
    }

    static func sections(_ role: DashboardRole) -> [(key: String, path: String, label: String)] {
        switch role {
        case .merchant:
            [("overview", "", "Overview"), ("offers", "/offers", "Offers"), ("orders", "/orders", "Orders"),
             ("webhooks", "/webhooks", "Webhooks"), ("api-keys", "/api-keys", "API keys"), ("settlements", "/settlements", "Settlements"),
             ("activity", "/activity", "Activity"), ("account", "/account", "Account")]
        case .operator:
            [("overview", "", "Console"), ("merchants", "/merchants", "Merchants"), ("cardholders", "/cardholders", "Cardholders"),
             ("users", "/users", "Users"), ("audit", "/audit", "Audit log"), ("account", "/account", "Account")]
        case .cardholder:
            [("overview", "", "Purchases"), ("account", "/account", "Account")]
        }
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
