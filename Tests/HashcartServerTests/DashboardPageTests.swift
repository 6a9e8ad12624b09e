import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The dashboard's pages on the in-memory router: sign-in, sessions and CSRF, what each role
/// sees, and that nothing from outside is ever markup or crosses merchants.
@Suite(.onEveryBackend) struct DashboardPageTests {
    static let password = "correct horse battery"

    /// A merchant with a dashboard user, made through the operator API.
    static func merchantUser(_ world: ServerWorld, name: String = "Gadgets", email: String = "ann@gadgets.example") async throws -> Merchant {
        let merchant = try await world.engine.createMerchant(name: name)
        _ = try await world.service.dashboard.createUser(CreateDashboardUserBody(email: email, role: "merchant", merchantID: merchant.id.rawValue,
                                                                                 password: password))
        return merchant
    }

    @Test func signingInSetsAStrictSessionCookieAndShowsTheMode() async throws {
        let world = try await ServerWorld()
        _ = try await Self.merchantUser(world)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            // Not signed in: every page sends to the sign-in, which says the mode.
            let home = try await browser.get("/dashboard/test")
            #expect(home.status == .seeOther && home.location == "/dashboard/test/sign-in")
            let form = try await browser.get("/dashboard/test/sign-in")
            #expect(form.status == .ok && form.html.contains("Test mode") && form.csrf != nil)
            let csp = try #require(form.headers[.contentSecurityPolicy])
            #expect(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))

            // A wrong password, and an unknown email, get the same answer and no session.
            for (email, password) in [("ann@gadgets.example", "wrong password!!"), ("nobody@gadgets.example", Self.password)] {
                let refused = try await browser.signIn(email, password)
                #expect(refused.status == .unauthorized && refused.html.contains("do not match"))
                #expect(browser.cookies["hc_test_session"] == nil)
            }
            // Another spelling of the same address is the same user.
            let signedIn = try await browser.signIn("  Ann@GADGETS.example ", Self.password)
            #expect(signedIn.status == .seeOther && signedIn.location == "/dashboard/test")
            let cookie = try #require(browser.lastSetCookies.first { $0.hasPrefix("hc_test_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/dashboard/test"))
            #expect(!cookie.contains("Secure"))  // plain HTTP here; behind TLS, below
            let overview = try await browser.get("/dashboard/test")
            #expect(overview.status == .ok && overview.html.contains("<h1>Overview</h1>") && overview.html.contains("<svg class=\"chart\""))
            #expect(overview.html.contains("Test mode") && overview.html.contains("ann@gadgets.example"))

            // Behind a TLS proxy the cookie is Secure.
            let secure = PageBrowser(client)
            let page = try await secure.get("/dashboard/test/sign-in")
            try await secure.post("/dashboard/test/sign-in", [("csrf_token", page.csrf ?? ""), ("email", "ann@gadgets.example"), ("password", Self.password)],
                                  headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(secure.lastSetCookies.first { $0.hasPrefix("hc_test_session=") }?.contains("Secure") == true)
        }
    }

    @Test func aFormWithoutTheSessionsTokenIsRefusedAndChangesNothing() async throws {
        let world = try await ServerWorld()
        let merchant = try await Self.merchantUser(world)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", Self.password)
            let offersPage = try await browser.get("/dashboard/test/offers")
            let csrf = try #require(offersPage.csrf)
            let fields = [("title", "Kindle Fire HD"), ("sku", "KFHD"), ("price", "149.99"), ("hashtag", "#BuyKindleFireHD"), ("quantity", "5")]
            for token in [nil, "", String(csrf.dropLast()) + "x", csrf + csrf] {
                let refused = try await browser.post("/dashboard/test/offers", (token.map { [("csrf_token", $0)] } ?? []) + fields)
                #expect(refused.status == .forbidden && refused.html.contains("Nothing was changed"))
            }
            // The sign-in form needs its own token too (a page elsewhere cannot sign a browser in).
            let forged = try await PageBrowser(client).post("/dashboard/test/sign-in", [("email", "ann@gadgets.example"), ("password", Self.password)])
            #expect(forged.status == .forbidden)
            #expect(try await world.store.read { try $0.offers(merchantID: merchant.id, limit: 10, startingAfter: nil) }.isEmpty)

            let created = try await browser.post("/dashboard/test/offers", [("csrf_token", csrf)] + fields)
            #expect(created.status == .seeOther && created.location?.hasSuffix("?done=created") == true)
            let offers = try await world.store.read { try $0.offers(merchantID: merchant.id, limit: 10, startingAfter: nil) }
            #expect(offers.map(\.title) == ["Kindle Fire HD"] && offers.first?.price == .usd(14_999) && offers.first?.quantity == 5)
            let shown = try await browser.get(try #require(created.location))
            #expect(shown.status == .ok && shown.html.contains("Offer created.") && shown.html.contains("#BuyKindleFireHD"))
        }
    }

    @Test func garbageFormsGetAClearMessageAndChangeNothing() async throws {
        let world = try await ServerWorld()
        let merchant = try await Self.merchantUser(world)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", Self.password)
            let csrf = try #require(try await browser.get("/dashboard/test/offers").csrf)
            let base = [("csrf_token", csrf), ("title", "T"), ("sku", "S"), ("hashtag", "#BuySomething")]
            let cases: [([(String, String)], HTTPResponse.Status, String)] = [
                (base, .badRequest, "The price is required."),
                (base + [("price", "12.345")], .badRequest, "dollars and cents"),
                (base + [("price", "-5")], .badRequest, "dollars and cents"),
                (base + [("price", "1e9")], .badRequest, "dollars and cents"),
                (base + [("price", "10"), ("quantity", "ten")], .badRequest, "whole number"),
                (base + [("price", "10"), ("title", "again")], .badRequest, "sent twice"),
                (base + [("price", "10"), ("tax_category", "<script>")], .badRequest, "tax_category"),
            ]
            for (fields, status, message) in cases {
                let page = try await browser.post("/dashboard/test/offers", fields)
                #expect(page.status == status && page.html.contains(message), "\(fields): \(page.status) \(page.html.prefix(2_000))")
                #expect(!page.html.contains("<script>"))
            }
            // Not a form at all, and an oversize one.
            let json = try await browser.send("/dashboard/test/offers", method: .post, headers: [.contentType: "application/json"],
                                              body: ByteBuffer(string: #"{"csrf_token":"\#(csrf)"}"#))
            #expect(json.status == .badRequest)
            let huge = try await browser.post("/dashboard/test/offers", [("csrf_token", csrf), ("title", String(repeating: "a", count: 20_000))])
            #expect(huge.status == .contentTooLarge)
            #expect(try await world.store.read { try $0.offers(merchantID: merchant.id, limit: 10, startingAfter: nil) }.isEmpty)
        }
    }

    @Test func aMerchantUserSeesOnlyTheirMerchant() async throws {
        let world = try await ServerWorld()
        _ = try await Self.merchantUser(world)
        let other = try await world.engine.createMerchant(name: "Other")
        let theirs = try await world.engine.createOffer(OfferDraft(merchantID: other.id, title: "Theirs", sku: "T", price: .usd(1_000),
                                                                   hashtag: "#BuyTheirs", quantity: 5))
        _ = try await world.linkedBuyerBuys("#BuyTheirs", handle: "bea")
        let order = try #require(try await world.store.read { try $0.orders() }.first)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", Self.password)
            let csrf = try #require(try await browser.get("/dashboard/test/account").csrf)
            for path in ["/dashboard/test/offers/\(theirs.id)", "/dashboard/test/orders/\(order.id)", "/dashboard/test/offers/\(theirs.id)/live"] {
                let page = try await browser.get(path)
                #expect(page.status == .notFound && !page.html.contains("Theirs"), "\(path)")
            }
            for (path, fields) in [("/dashboard/test/orders/\(order.id)/refund", [("amount", "1.00")]), ("/dashboard/test/orders/\(order.id)/cancel", []),
                                   ("/dashboard/test/offers/\(theirs.id)/end", []), ("/dashboard/test/kill-switch", [("on", "true"), ("reason", "x")])] {
                let page = try await browser.post(path, [("csrf_token", csrf)] + fields)
                #expect(page.status == .notFound, "\(path)")
            }
            let after = try #require(try await world.store.read { try $0.order(order.id) })
            #expect(after.refundedAmount == .zero && after.status == order.status)
            #expect(try await world.store.read { try $0.offer(theirs.id) }?.lifecycle == .published)
            #expect(try await world.store.read { try $0.issuerKillSwitch() }?.on != true)
            let orders = try await browser.get("/dashboard/test/orders")
            #expect(orders.status == .ok && !orders.html.contains(order.reference))
        }
    }

    @Test func textFromOutsideIsNeverMarkup() async throws {
        let world = try await ServerWorld()
        let merchant = try await Self.merchantUser(world)
        let title = #"<img src=x onerror="alert(1)">Kindle"#
        let offer = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: title, sku: "K", price: .usd(1_000),
                                                                  hashtag: "#BuyKindle", quantity: 5))
        _ = try await world.linkedBuyerPosts("#BuyKindle", handle: "evil")
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", Self.password)
            for path in ["/dashboard/test", "/dashboard/test/offers", "/dashboard/test/offers/\(offer.id)"] {
                let page = try await browser.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(!page.html.contains("<img") && !page.html.contains("onerror=\""), "\(path)")
                #expect(page.html.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Kindle"), "\(path)")
            }
        }
    }

    @Test func signingOutEverywhereEndsEverySession() async throws {
        let world = try await ServerWorld()
        _ = try await Self.merchantUser(world)
        try await world.app.test(.router) { client in
            let laptop = PageBrowser(client), phone = PageBrowser(client)
            try await laptop.signIn("ann@gadgets.example", Self.password)
            try await phone.signIn("ann@gadgets.example", Self.password)
            #expect(try await phone.get("/dashboard/test").status == .ok)
            let csrf = try #require(try await laptop.get("/dashboard/test/account").csrf)
            // The phone's form carries the phone's token: the laptop's is not accepted there.
            #expect(try await phone.post("/dashboard/test/sign-out-everywhere", [("csrf_token", csrf)]).status == .forbidden)
            let out = try await laptop.post("/dashboard/test/sign-out-everywhere", [("csrf_token", csrf)])
            #expect(out.status == .seeOther && out.location == "/dashboard/test/sign-in" && laptop.cookies["hc_test_session"] == nil)
            #expect(try await phone.get("/dashboard/test").location == "/dashboard/test/sign-in")
            #expect(try await laptop.get("/dashboard/test").location == "/dashboard/test/sign-in")
        }
    }

    @Test func signInIsThrottledPerEmail() async throws {
        let world = try await ServerWorld()
        _ = try await Self.merchantUser(world)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 { statuses.append(try await browser.signIn("ann@gadgets.example", "not the password").status) }
            #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized } && statuses.last == .tooManyRequests)
            // Throttled, even the right password waits: nothing tells a guesser it was right.
            let right = try await browser.signIn("ANN@gadgets.example", Self.password)
            #expect(right.status == .tooManyRequests && right.headers[.retryAfter] != nil && browser.cookies["hc_test_session"] == nil)
        }
    }

    @Test func dashboardUsersAreCheckedWhenCreated() async throws {
        let world = try await ServerWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets")
        let admin: HTTPFields = [.authorization: "Bearer \(ServerWorld.adminToken)", .contentType: "application/json"]
        try await world.app.test(.router) { client in
            let bad: [(String, HTTPResponse.Status, String?)] = [
                (#"{"email":"not an email","role":"operator","password":"long enough password"}"#, .badRequest, "email"),
                (#"{"email":"a@b","role":"operator","password":"long enough password"}"#, .badRequest, "email"),
                // Look-alikes and invisible characters: a Cyrillic а, a zero-width space, a full-width @.
                ("{\"email\":\"\u{0430}nn@gadgets.example\",\"role\":\"operator\",\"password\":\"long enough password\"}", .badRequest, "email"),
                ("{\"email\":\"ann\u{200B}@gadgets.example\",\"role\":\"operator\",\"password\":\"long enough password\"}", .badRequest, "email"),
                ("{\"email\":\"ann\u{FF20}gadgets.example\",\"role\":\"operator\",\"password\":\"long enough password\"}", .badRequest, "email"),
                (#"{"email":"ann@gadgets.example","role":"operator","password":"short"}"#, .badRequest, "password"),
                (#"{"email":"ann@gadgets.example","role":"operator","password":"aaaaaaaaaaaaaaaa"}"#, .badRequest, "password"),
                (#"{"email":"ann@gadgets.example","role":"root","password":"long enough password"}"#, .badRequest, "role"),
                (#"{"email":"ann@gadgets.example","role":"merchant","password":"long enough password"}"#, .badRequest, "merchant_id"),
                (#"{"email":"ann@gadgets.example","role":"merchant","merchant_id":"m_nope","password":"long enough password"}"#, .notFound, nil),
                (#"{"email":"ann@gadgets.example","role":"operator","merchant_id":"\#(merchant.id)","password":"long enough password"}"#, .badRequest, "merchant_id"),
                (#"{"email":"ann@gadgets.example","role":"operator","password":"\#(String(repeating: "é", count: 40))"}"#, .badRequest, "password"),
                (#"{"email":"ann@gadgets.example","role":"operator","colour":"red"}"#, .badRequest, "colour"),
            ]
            for (json, status, param) in bad {
                try await client.execute(uri: "/v1/dashboard_users", method: .post, headers: admin, body: body(json)) { response in
                    let error = try #require(try object(response)["error"] as? [String: Any], "\(json)")
                    #expect(response.status == status && error["param"] as? String == param, "\(json): \(String(buffer: response.body))")
                }
            }
            #expect(try await world.service.dashboard.users(merchantID: nil, limit: 10).data.isEmpty)
            // Made with a generated password, shown once; the same email in another spelling is taken.
            try await client.execute(uri: "/v1/dashboard_users", method: .post, headers: admin,
                                     body: body(#"{"email":"Ann@Gadgets.example","role":"merchant","merchant_id":"\#(merchant.id)"}"#)) { response in
                let user = try object(response)
                #expect(response.status == .created && user["email"] as? String == "ann@gadgets.example")
                #expect((user["password"] as? String)?.count == 23 && user["merchant"] as? String == merchant.id.rawValue)
            }
            try await client.execute(uri: "/v1/dashboard_users", method: .post, headers: admin,
                                     body: body(#"{"email":" ANN@gadgets.EXAMPLE","role":"operator","password":"long enough password"}"#)) { response in
                try expectError(response, .conflict, code: "email_taken", param: "email")
            }
            // A merchant's key cannot make users.
            let key = try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret!
            try await client.execute(uri: "/v1/dashboard_users", method: .post, headers: bearer(key),
                                     body: body(#"{"email":"x@gadgets.example","role":"operator","password":"long enough password"}"#)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    /// A card-linked offer's page shows its terms, loads, qualifying transactions, credits and the
    /// budget left, from the same counters the API's analytics read.
    @Test func aCardLinkedOffersPageShowsLoadsCreditsAndBudget() async throws {
        let world = try await ServerWorld()
        let merchant = try await Self.merchantUser(world)
        var draft = OfferDraft(merchantID: merchant.id, title: "Spend $75 at Zappos", sku: "ZAP-CREDIT", price: .usd(2_000), hashtag: "#ZapposCredit",
                               quantity: nil)
        draft.type = .statementCredit
        draft.statementCredit = StatementCreditTerms(spendThreshold: .usd(7_500), credit: .usd(2_000), acceptorIDs: ["ZAPPOS-0001"], budget: .usd(100_000))
        let offer = try await world.engine.createOffer(draft)
        try await world.store.write { tx in try tx.incrementFunnel(offer: offer.id, metric: "loads", by: 3, at: Instant(secondsSinceEpoch: 1_790_000_000)) }
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", Self.password)
            let page = try await browser.get("/dashboard/test/offers/\(offer.id)")
            #expect(page.status == .ok && page.html.contains("Card-linked offer") && page.html.contains("Spend $75.00 at ZAPPOS-0001, get $20.00 back"))
            #expect(page.html.contains(#"data-metric="loads">3<"#) && page.html.contains("$1,000.00 of $1,000.00"), "\(page.html)")
        }
    }

    @Test func aMerchantShipsAndRefundsThroughThePages() async throws {
        let world = try await ServerWorld()
        let merchant = try await Self.merchantUser(world)
        let offer = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle", sku: "K", price: .usd(10_000),
                                                                  hashtag: "#BuyKindle", quantity: 5))
        _ = try await world.linkedBuyerBuys("#BuyKindle", handle: "ann")
        let order = try #require(try await world.store.read { try $0.orders() }.first)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", Self.password)
            let overview = try await browser.get("/dashboard/test")
            #expect(overview.html.contains(#"data-metric="orders">1<"#) && overview.html.contains(#"<polyline class="line s3""#))
            let offerPage = try await browser.get("/dashboard/test/offers/\(offer.id)")
            #expect(offerPage.status == .ok && offerPage.html.contains(#"data-source="/dashboard/test/offers/\#(offer.id)/live?range=24h""#))
            let page = try await browser.get("/dashboard/test/orders/\(order.id)")
            #expect(page.status == .ok && page.html.contains("Mark shipped"))
            let csrf = try #require(page.csrf)
            let shipped = try await browser.post("/dashboard/test/orders/\(order.id)/ship", [("csrf_token", csrf), ("carrier", "UPS"), ("tracking", "1Z999")])
            #expect(shipped.status == .seeOther)
            let refunded = try await browser.post("/dashboard/test/orders/\(order.id)/refund", [("csrf_token", csrf), ("amount", "25.50")])
            #expect(refunded.status == .seeOther)
            let tooMuch = try await browser.post("/dashboard/test/orders/\(order.id)/refund", [("csrf_token", csrf), ("amount", "100000")])
            #expect(tooMuch.status == .conflict && tooMuch.html.contains("exceeds"))
            let after = try #require(try await world.store.read { try $0.order(order.id) })
            #expect(after.status == .shipped && after.carrier == "UPS" && after.refundedAmount == .usd(2_550))
            let shown = try await browser.get("/dashboard/test/orders/\(order.id)?done=refunded")
            #expect(shown.html.contains("Refund made") && shown.html.contains("$25.50") && shown.html.contains("UPS 1Z999"))
            // Search by reference, in any case.
            let found = try await browser.get("/dashboard/test/orders?reference=\(order.reference.lowercased())")
            #expect(found.html.contains(order.reference))
        }
    }

    /// Orders counts every order made, units sold leaves the cancelled out: the funnel shows the
    /// cancelled orders between them, so the two never seem to disagree.
    @Test func theFunnelShowsCancelledOrdersBetweenOrdersAndUnitsSold() async throws {
        let world = try await ServerWorld()
        let merchant = try await Self.merchantUser(world)
        _ = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle", sku: "K", price: .usd(10_000),
                                                          hashtag: "#BuyKindle", quantity: 5))
        for handle in ["ann", "bob"] { _ = try await world.linkedBuyerBuys("#BuyKindle", handle: handle) }
        let order = try #require(try await world.store.read { try $0.orders() }.first)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", Self.password)
            let page = try await browser.get("/dashboard/test/orders/\(order.id)")
            let cancelled = try await browser.post("/dashboard/test/orders/\(order.id)/cancel", [("csrf_token", try #require(page.csrf))])
            #expect(cancelled.status == .seeOther)
            let overview = try await browser.get("/dashboard/test").html
            #expect(overview.contains(#"data-metric="orders">2<"#) && overview.contains(#"data-metric="orders_cancelled">1<"#)
                && overview.contains(#"data-metric="units_sold">1<"#), "\(overview)")
            #expect(overview.contains("Orders cancelled since") && overview.contains("Units sold, less cancelled"))
            // Posts = linked + unlinked + quotes: each is a row, so the three add up on the page.
            #expect(overview.contains(#"data-metric="posts">2<"#) && overview.contains(#"data-metric="linked_posts">2<"#)
                && overview.contains(#"data-metric="unlinked_posts">0<"#) && overview.contains(#"data-metric="quotes">0<"#), "\(overview)")
        }
    }
}

/// The merchant's webhook, key and export pages, the operator's console and the cardholder's page.
@Suite(.onEveryBackend) struct DashboardRolePageTests {
    @Test func webhooksAreAddedRotatedTestedAndDisabledFromThePages() async throws {
        let world = try await ServerWorld()
        let merchant = try await DashboardPageTests.merchantUser(world)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", DashboardPageTests.password)
            let csrf = try #require(try await browser.get("/dashboard/test/webhooks").csrf)
            let bad = try await browser.post("/dashboard/test/webhooks", [("csrf_token", csrf), ("url", "javascript:alert(1)")])
            #expect(bad.status == .badRequest && !bad.html.contains("<script"))
            let added = try await browser.post("/dashboard/test/webhooks", [("csrf_token", csrf), ("url", "http://127.0.0.1:9/hooks")])
            #expect(added.status == .ok && added.html.contains("whsec_") && added.html.contains("not shown again"))
            let endpoint = try #require(try await world.service.webhookEndpoints(merchantID: merchant.id.rawValue).data.first)
            let list = try await browser.get("/dashboard/test/webhooks")
            #expect(list.html.contains("http://127.0.0.1:9/hooks") && !list.html.contains("whsec_"))
            let rotated = try await browser.post("/dashboard/test/webhooks/\(endpoint.id)/rotate", [("csrf_token", csrf)])
            #expect(rotated.status == .ok && rotated.html.contains("whsec_") && rotated.html.contains("previous secret signs too"))
            #expect(try await browser.post("/dashboard/test/webhooks/\(endpoint.id)/test", [("csrf_token", csrf)]).status == .seeOther)
            try await world.store.scheduleWebhookDeliveries(now: world.clock.now())  // what the deliverer does in `serve`
            let log = try await browser.get("/dashboard/test/webhooks/\(endpoint.id)?done=test")
            #expect(log.status == .ok && log.html.contains("webhook_endpoint.test"))
            #expect(try await browser.post("/dashboard/test/webhooks/\(endpoint.id)/disable", [("csrf_token", csrf)]).status == .seeOther)
            #expect(try await world.service.webhookEndpoints(merchantID: merchant.id.rawValue).data.first?.status == "disabled")
            // Another merchant's user cannot see or touch it.
            _ = try await DashboardPageTests.merchantUser(world, name: "Other", email: "bo@other.example")
            let other = PageBrowser(client)
            try await other.signIn("bo@other.example", DashboardPageTests.password)
            let otherCSRF = try #require(try await other.get("/dashboard/test/account").csrf)
            #expect(try await other.get("/dashboard/test/webhooks/\(endpoint.id)").status == .notFound)
            #expect(try await other.post("/dashboard/test/webhooks/\(endpoint.id)/enable", [("csrf_token", otherCSRF)]).status == .notFound)
            #expect(try await other.post("/dashboard/test/webhooks/\(endpoint.id)/rotate", [("csrf_token", otherCSRF)]).status == .notFound)
            #expect(try await world.service.webhookEndpoints(merchantID: merchant.id.rawValue).data.first?.status == "disabled")
        }
    }

    @Test func apiKeysAreMadeOnceAndRevokedFromThePages() async throws {
        let world = try await ServerWorld()
        _ = try await DashboardPageTests.merchantUser(world)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", DashboardPageTests.password)
            let csrf = try #require(try await browser.get("/dashboard/test/api-keys").csrf)
            let made = try await browser.post("/dashboard/test/api-keys", [("csrf_token", csrf)])
            let secret = try #require(made.html.range(of: #"hc_test_[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(made.html[$0]) })
            // The key works on the API, is listed without its secret, and stops when revoked.
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(secret)) { #expect($0.status == .ok) }
            let listed = try await browser.get("/dashboard/test/api-keys")
            #expect(!listed.html.contains(secret) && listed.html.contains("active"))
            let keyID = try #require(listed.html.range(of: #"key_[a-z0-9]+"#, options: .regularExpression).map { String(listed.html[$0]) })
            #expect(try await browser.post("/dashboard/test/api-keys/\(keyID)/revoke", [("csrf_token", csrf)]).status == .seeOther)
            try await client.execute(uri: "/v1/offers", method: .get, headers: bearer(secret)) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func exportsNeverCarryAFormulaAndTheConsoleStopsPurchases() async throws {
        let world = try await ServerWorld()
        let merchant = try await DashboardPageTests.merchantUser(world)
        _ = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "=HYPERLINK(\"http://evil\",\"x\"), really", sku: "K",
                                                          price: .usd(1_000), hashtag: "#BuyKindle", quantity: 5))
        _ = try await world.service.dashboard.createUser(CreateDashboardUserBody(email: "ops@issuer.example", role: "operator",
                                                                                 password: DashboardPageTests.password))
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", DashboardPageTests.password)
            let csv = try await browser.get("/dashboard/test/offers.csv")
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.html.contains(#""'=HYPERLINK(""http://evil"",""x""), really""#) && !csv.html.contains(",=HYPERLINK"))
            // A merchant user has no console; the operator has.
            let csrf = try #require(try await browser.get("/dashboard/test/account").csrf)
            #expect(try await browser.post("/dashboard/test/kill-switch", [("csrf_token", csrf), ("on", "true"), ("reason", "x")]).status == .notFound)
            let ops = PageBrowser(client)
            try await ops.signIn("ops@issuer.example", DashboardPageTests.password)
            let console = try await ops.get("/dashboard/test")
            #expect(console.status == .ok && console.html.contains("Kill switch") && console.html.contains("Every rule holds"))
            #expect(try await ops.get("/dashboard/test/offers").status == .notFound)
            let opsCSRF = try #require(console.csrf)
            let noReason = try await ops.post("/dashboard/test/kill-switch", [("csrf_token", opsCSRF), ("on", "true")])
            #expect(noReason.status == .badRequest && noReason.html.contains("reason is required"))
            #expect(try await world.store.read { try $0.issuerKillSwitch() }?.on != true)
            let stopped = try await ops.post("/dashboard/test/kill-switch", [("csrf_token", opsCSRF), ("on", "true"), ("reason", "card network outage")])
            let switchedOn = try await world.store.read { try $0.issuerKillSwitch() }?.on
            #expect(stopped.status == .seeOther && switchedOn == true)
            #expect(try await ops.get("/dashboard/test?done=stopped").html.contains("card network outage"))
            #expect(try await ops.post("/dashboard/test/kill-switch", [("csrf_token", opsCSRF), ("on", "false")]).status == .badRequest)
            let resumed = try await ops.post("/dashboard/test/kill-switch", [("csrf_token", opsCSRF), ("on", "false"), ("reason", "outage over")])
            #expect(resumed.status == .seeOther, "\(resumed.html)")
            #expect(try await world.store.read { try $0.issuerKillSwitch() }?.on == false)
            #expect(try await ops.get("/dashboard/test?done=resumed").html.contains("Purchases go on."))
        }
    }

    @Test func aCardholderSeesOnlyTheirPurchasesAndCancelsOne() async throws {
        let world = try await ServerWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets")
        _ = try await world.engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle", sku: "K", price: .usd(10_000),
                                                          hashtag: "#BuyKindle", quantity: 5))
        let (card, _, _) = try await world.linkedBuyerBuys("#BuyKindle", handle: "ann")
        let (otherCard, _, _) = try await world.linkedBuyerPosts("#BuyKindle", handle: "bea")
        let purchases = try await world.store.read { try $0.purchases() }
        let mine = try #require(purchases.first { $0.cardAccountID == card.id })
        let theirs = try #require(purchases.first { $0.cardAccountID == otherCard.id })
        _ = try await world.service.dashboard.createUser(CreateDashboardUserBody(email: "ann@mail.example", role: "cardholder",
                                                                                 cardholderID: card.id.rawValue, password: DashboardPageTests.password))
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@mail.example", DashboardPageTests.password)
            let home = try await browser.get("/dashboard/test")
            #expect(home.status == .ok && home.html.contains(mine.reference) && !home.html.contains(theirs.reference))
            #expect(home.html.contains("@ann"))
            let csrf = try #require(home.csrf)
            #expect(try await browser.post("/dashboard/test/purchases/\(theirs.id)/cancel", [("csrf_token", csrf)]).status == .notFound)
            #expect(try await world.store.read { try $0.purchase(theirs.id) }?.state == theirs.state)
            #expect(try await browser.get("/dashboard/test/orders").status == .notFound)
            let cancelled = try await browser.post("/dashboard/test/purchases/\(mine.id)/cancel", [("csrf_token", csrf)])
            #expect(cancelled.status == .seeOther)
            try await world.settle()
            #expect(try await world.store.read { try $0.order(Order.id(for: mine.id)) }?.status == .cancelled)
            #expect(try await browser.get("/dashboard/test?done=cancelled").html.contains("Purchase cancelled"))

            // Another card's link cannot be removed from here; the cardholder's own can (one link per network).
            let theirLink = try #require(try await world.service.links(cardholderID: otherCard.id.rawValue).data.first)
            #expect(try await browser.post("/dashboard/test/links/\(theirLink.id)/delete", [("csrf_token", csrf)]).status == .notFound)
            #expect(try await world.service.links(cardholderID: otherCard.id.rawValue).data.contains { $0.id == theirLink.id && $0.active })
            let own = try #require(try await world.service.links(cardholderID: card.id.rawValue).data.first { $0.active })
            #expect(try await browser.post("/dashboard/test/links/\(own.id)/delete", [("csrf_token", csrf)]).status == .seeOther)
            #expect(try await world.service.links(cardholderID: card.id.rawValue).data.first { $0.id == own.id }?.active != true)

            // Linking another account by code, from the page: the code is shown, and posting it links.
            let codePage = try await browser.post("/dashboard/test/links", [("csrf_token", csrf), ("network", "sandbox"), ("how", "code")])
            let code = try #require(codePage.html.range(of: #"id="code" readonly value="([^"]+)""#, options: .regularExpression)
                .map { String(codePage.html[$0].split(separator: "\"")[3]) })
            let second = try world.sandbox.createAccount(handle: "ann_alt")
            _ = try world.sandbox.post(authorID: second.id, text: "linking \(code)")
            try await world.settle()
            let linked = try await world.service.links(cardholderID: card.id.rawValue).data
            #expect(linked.contains { $0.handle.contains("ann_alt") && $0.active }, "\(linked)")
            #expect(try await browser.get("/dashboard/test").html.contains("ann_alt"))
            // Without an OAuth app for the network, the sign-in way is refused with a message.
            let noApp = try await browser.post("/dashboard/test/links", [("csrf_token", csrf), ("network", "sandbox"), ("how", "sign_in")])
            #expect(noApp.status.code >= 400 && noApp.html.contains("Not done"))
        }
    }
}

/// The audit log: who did what, when and from where, written in the transaction of the change.
@Suite(.onEveryBackend) struct AuditLogTests {
    @Test func everyChangeByAPersonIsLoggedWithItsChangeAndOnlyThen() async throws {
        let world = try await ServerWorld()
        let merchant = try await DashboardPageTests.merchantUser(world)
        let other = try await world.engine.createMerchant(name: "Other")
        _ = try await world.engine.createOffer(OfferDraft(merchantID: other.id, title: "Theirs", sku: "T", price: .usd(1_000), hashtag: "#BuyTheirs", quantity: 5))
        _ = try await world.service.dashboard.createUser(CreateDashboardUserBody(email: "ops@issuer.example", role: "operator",
                                                                                 password: DashboardPageTests.password))
        let key = try await world.service.createAPIKey(merchantID: merchant.id.rawValue).secret!
        let admin: HTTPFields = [.authorization: "Bearer \(ServerWorld.adminToken)", .contentType: "application/json"]
        // What Hashcart does by itself (the setup above, made without a request) is not a person's action.
        #expect(try await world.service.auditLog(merchantID: nil, limit: 100, before: nil).isEmpty)
        try await world.app.test(.router) { client in
            let browser = PageBrowser(client)
            try await browser.signIn("ann@gadgets.example", DashboardPageTests.password)
            let csrf = try #require(try await browser.get("/dashboard/test/offers").csrf)
            let created = try await browser.post("/dashboard/test/offers", [("csrf_token", csrf), ("title", "Kindle"), ("sku", "K"), ("price", "10"),
                                                                             ("hashtag", "#BuyKindle")])
            #expect(created.status == .seeOther)
            // Refused in the same transaction as its line (a look-alike of an open offer's tag): neither is kept.
            let refused = try await browser.post("/dashboard/test/offers", [("csrf_token", csrf), ("title", "Again"), ("sku", "K2"), ("price", "10"),
                                                                             ("hashtag", "#buytheirs")])
            #expect(refused.status == .conflict)
            try await client.execute(uri: "/v1/webhook_endpoints", method: .post, headers: bearer(key), body: body(#"{"url":"http://127.0.0.1:9/x"}"#)) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/v1/kill_switch", method: .post, headers: admin, body: body(#"{"on":true,"reason":"drill"}"#)) {
                #expect($0.status == .ok)
            }
            let lines = try await world.service.auditLog(merchantID: nil, limit: 100, before: nil)
            let actions = lines.map(\.action)
            #expect(actions.contains("session.sign_in") && actions.contains("offer.create") && actions.contains("webhook_endpoint.create")
                    && actions.contains("kill_switch.on"), "\(actions)")
            #expect(actions.filter { $0 == "offer.create" }.count == 1, "the refused offer left a line: \(actions)")
            let offerLine = try #require(lines.first { $0.action == "offer.create" })
            #expect(offerLine.actor == "ann@gadgets.example (dashboard, merchant)" && offerLine.merchant == merchant.id.rawValue
                    && offerLine.detail.contains("#BuyKindle"))
            #expect(lines.first { $0.action == "webhook_endpoint.create" }?.actor == "merchant \(merchant.id) (API key)")
            #expect(lines.first { $0.action == "kill_switch.on" }?.actor == "operator (admin token)")
            #expect(lines.first { $0.action == "kill_switch.on" }?.detail == "drill")

            // The merchant sees its own lines only; the operator sees all; others get 404.
            let activity = try await browser.get("/dashboard/test/activity")
            #expect(activity.status == .ok && activity.html.contains("offer.create") && !activity.html.contains("kill_switch.on"))
            #expect(try await browser.get("/dashboard/test/audit").status == .notFound)
            let ops = PageBrowser(client)
            try await ops.signIn("ops@issuer.example", DashboardPageTests.password)
            let audit = try await ops.get("/dashboard/test/audit")
            #expect(audit.status == .ok && audit.html.contains("kill_switch.on") && audit.html.contains("ann@gadgets.example (dashboard, merchant)"))
        }
    }
}

/// The operator's merchants and cardholders: search, each one's page, and nobody else's.
@Suite(.onEveryBackend) struct OperatorScreenTests {
    @Test func theOperatorFindsMerchantsAndCardholders() async throws {
        let world = try await ServerWorld()
        let gadgets = try await DashboardPageTests.merchantUser(world, name: "Gadgets & <Co>")
        let books = try await world.engine.createMerchant(name: "100% Books_Shop")
        _ = try await world.engine.createOffer(OfferDraft(merchantID: gadgets.id, title: "Kindle", sku: "K", price: .usd(1_000), hashtag: "#BuyKindle",
                                                          quantity: 5))
        let (card, _, _) = try await world.linkedBuyerPosts("#BuyKindle", handle: "ann")
        _ = try await world.service.dashboard.createUser(CreateDashboardUserBody(email: "ops@issuer.example", role: "operator",
                                                                                 password: DashboardPageTests.password))
        try await world.app.test(.router) { client in
            let ops = PageBrowser(client)
            try await ops.signIn("ops@issuer.example", DashboardPageTests.password)
            let all = try await ops.get("/dashboard/test/merchants")
            #expect(all.status == .ok && all.html.contains("Gadgets &amp; &lt;Co&gt;") && all.html.contains("100% Books_Shop"))
            // Search in any case; LIKE's own characters match only themselves.
            let found = try await ops.get("/dashboard/test/merchants?q=GADGETS")
            #expect(found.html.contains("Gadgets &amp;") && !found.html.contains("Books"))
            let percent = try await ops.get("/dashboard/test/merchants?q=%25")
            #expect(percent.html.contains("100% Books") && !percent.html.contains("Gadgets"))
            let underscore = try await ops.get("/dashboard/test/merchants?q=s_s")
            #expect(underscore.html.contains("Books_Shop") && !underscore.html.contains("Gadgets"))
            let none = try await ops.get("/dashboard/test/merchants?q=nothing%20like%20it")
            #expect(none.html.contains("No merchant matches."))
            let detail = try await ops.get("/dashboard/test/merchants/\(gadgets.id)")
            #expect(detail.status == .ok && detail.html.contains("#BuyKindle") && detail.html.contains("ann@gadgets.example"))
            #expect(try await ops.get("/dashboard/test/merchants/mer_nope").status == .notFound)
            #expect(try await ops.get("/dashboard/test/merchants/\(books.id)").status == .ok)

            let cards = try await ops.get("/dashboard/test/cardholders?q=\(card.id.rawValue.uppercased())")
            #expect(cards.status == .ok && cards.html.contains(card.id.rawValue))
            let cardPage = try await ops.get("/dashboard/test/cardholders/\(card.id)")
            #expect(cardPage.status == .ok && cardPage.html.contains("@ann") && cardPage.html.contains("$5,000.00"))
            #expect(try await ops.get("/dashboard/test/cardholders/card_nope").status == .notFound)

            // A merchant user reaches none of it.
            let merchant = PageBrowser(client)
            try await merchant.signIn("ann@gadgets.example", DashboardPageTests.password)
            for path in ["/dashboard/test/merchants", "/dashboard/test/merchants/\(books.id)", "/dashboard/test/cardholders",
                         "/dashboard/test/cardholders/\(card.id)"] {
                #expect(try await merchant.get(path).status == .notFound, "\(path)")
            }
        }
    }

    /// Garbage in every query parameter a page or list reads (search, paging, filters, ranges):
    /// a page or a clear 400, never a server error, never markup from the query.
    @Test func garbageQueryParametersGetAPageOrAClearError() async throws {
        let world = try await ServerWorld()
        let gadgets = try await DashboardPageTests.merchantUser(world, name: "Gadgets")
        _ = try await world.service.dashboard.createUser(CreateDashboardUserBody(email: "ops@issuer.example", role: "operator",
                                                                                 password: DashboardPageTests.password))
        let garbage = ["%00", "%FF%FE", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "'%20OR%201=1%20--", "%E2%80%AE", "-1", "99999999999999999999999",
                       String(repeating: "x", count: 5_000), "%25%5F%5C", "1e309", "%F0%9F%92%A9"]
        let endpoint = try await world.service.createWebhookEndpoint(merchantID: gadgets.id.rawValue,
                                                                     CreateWebhookEndpointBody(url: "http://127.0.0.1:9/hooks"))
        try await world.app.test(.router) { client in
            let ops = PageBrowser(client)
            try await ops.signIn("ops@issuer.example", DashboardPageTests.password)
            let merchant = PageBrowser(client)
            try await merchant.signIn("ann@gadgets.example", DashboardPageTests.password)
            for value in garbage {
                for (browser, path) in [(ops, "/dashboard/test/merchants?q=\(value)&after=\(value)"), (ops, "/dashboard/test/cardholders?q=\(value)&after=\(value)"),
                                        (ops, "/dashboard/test/audit?before=\(value)"), (merchant, "/dashboard/test?range=\(value)"),
                                        (merchant, "/dashboard/test/orders?reference=\(value)&after=\(value)&status=\(value)&offer=\(value)"),
                                        (merchant, "/dashboard/test/activity?before=\(value)"), (merchant, "/dashboard/test/offers?after=\(value)"),
                                        (merchant, "/dashboard/test/webhooks/\(endpoint.id)?after=\(value)")] {
                    let page = try await browser.get(path)
                    #expect([.ok, .badRequest, .notFound].contains(page.status), "\(path.prefix(120)): \(page.status)")
                    #expect(!page.html.contains("<script>alert"), "\(path.prefix(120))")
                }
                for path in ["/v1/merchants?q=\(value)&starting_after=\(value)", "/v1/cardholders?q=\(value)&starting_after=\(value)&limit=\(value)"] {
                    try await client.execute(uri: path, method: .get, headers: admin) { response in
                        #expect([.ok, .badRequest].contains(response.status), "\(path.prefix(120)): \(response.status)")
                        if response.status == .badRequest {
                            let error = try object(response)["error"] as? [String: Any]
                            #expect(error?["param"] is String, "\(path.prefix(120)): \(String(buffer: response.body))")
                        }
                    }
                }
            }
            #expect(try await world.store.read { try $0.merchant(gadgets.id) }?.closedAt == nil)
        }
    }

    /// The operator sets the risk limits from the console and stops one offer from its merchant's
    /// page; garbage and forged forms change nothing; a merchant user reaches neither.
    @Test func theOperatorSetsRiskAndStopsAnOfferFromThePages() async throws {
        let world = try await ServerWorld()
        let gadgets = try await DashboardPageTests.merchantUser(world, name: "Gadgets")
        let offer = try await world.engine.createOffer(OfferDraft(merchantID: gadgets.id, title: "Kindle", sku: "K", price: .usd(1_000),
                                                                  hashtag: "#BuyKindle", quantity: 5))
        _ = try await world.service.dashboard.createUser(CreateDashboardUserBody(email: "ops@issuer.example", role: "operator",
                                                                                 password: DashboardPageTests.password))
        try await world.app.test(.router) { client in
            let merchant = PageBrowser(client)
            try await merchant.signIn("ann@gadgets.example", DashboardPageTests.password)
            let merchantCSRF = try #require(try await merchant.get("/dashboard/test").csrf)
            #expect(try await merchant.post("/dashboard/test/risk", [("csrf_token", merchantCSRF), ("daily_spend_cap", "1"),
                                                                     ("max_purchases_per_hour", "1"), ("min_link_age_minutes", "0")]).status == .notFound)
            #expect(try await merchant.post("/dashboard/test/offers/\(offer.id)/kill-switch", [("csrf_token", merchantCSRF), ("on", "true")]).status == .notFound)

            let ops = PageBrowser(client)
            try await ops.signIn("ops@issuer.example", DashboardPageTests.password)
            let console = try await ops.get("/dashboard/test")
            let csrf = try #require(console.csrf)
            #expect(console.html.contains(#"id="daily_spend_cap""#))
            for (cap, perHour, age) in [("lots", "10", "60"), ("100.00", "ten", "60"), ("100.00", "10", "-5"), ("100.00", "99999999", "60"),
                                        ("100.00", "10", ""), ("100.00", "0", "60")] {
                let refused = try await ops.post("/dashboard/test/risk", [("csrf_token", csrf), ("daily_spend_cap", cap),
                                                                          ("max_purchases_per_hour", perHour), ("min_link_age_minutes", age)])
                #expect(refused.status == .badRequest, "\(cap) \(perHour) \(age): \(refused.status)")
            }
            #expect(try await ops.post("/dashboard/test/risk", [("daily_spend_cap", "100"), ("max_purchases_per_hour", "3"),
                                                                ("min_link_age_minutes", "5")]).status == .forbidden)
            #expect(try await world.store.read { try $0.issuerRiskPolicy() } == nil, "nothing refused was kept")
            let set = try await ops.post("/dashboard/test/risk", [("csrf_token", csrf), ("daily_spend_cap", "$1,200.50"),
                                                                  ("max_purchases_per_hour", "3"), ("min_link_age_minutes", "5")])
            let after = try await ops.get(try #require(set.location))
            #expect(after.html.contains("Risk limits set.") && after.html.contains("$1,200.50"))
            let policy = try #require(try await world.store.read { try $0.issuerRiskPolicy() }?.policy)
            #expect(policy.dailySpendCap == .usd(120_050) && policy.maximumPurchasesPerHour == 3 && policy.minimumLinkAgeSeconds == 300, "\(policy)")

            let page = try await ops.get("/dashboard/test/merchants/\(gadgets.id)")
            let stop = try await ops.post("/dashboard/test/offers/\(offer.id)/kill-switch", [("csrf_token", try #require(page.csrf)), ("on", "true")])
            let stopped = try await ops.get(try #require(stop.location))
            #expect(stopped.html.contains("The offer is stopped") && stopped.html.contains("Let go on"))
            #expect(try await world.store.read { try $0.offer(offer.id) }?.killSwitch == true)
            #expect(try await ops.post("/dashboard/test/offers/offer_nope/kill-switch", [("csrf_token", csrf), ("on", "true")]).status == .notFound)
        }
    }

    /// The operator moves a limit, closes a card account and a merchant from the pages; bad and
    /// forged forms change nothing, and a merchant user can post none of them.
    @Test func theOperatorChangesAccountsFromThePages() async throws {
        let world = try await ServerWorld()
        let gadgets = try await DashboardPageTests.merchantUser(world, name: "Gadgets")
        let offer = try await world.engine.createOffer(OfferDraft(merchantID: gadgets.id, title: "Kindle", sku: "K", price: .usd(1_000),
                                                                  hashtag: "#BuyKindle", quantity: 5))
        let (card, _, _) = try await world.linkedBuyerPosts("#BuyKindle", handle: "ann")
        _ = try await world.service.dashboard.createUser(CreateDashboardUserBody(email: "ops@issuer.example", role: "operator",
                                                                                 password: DashboardPageTests.password))
        try await world.app.test(.router) { client in
            let merchant = PageBrowser(client)
            try await merchant.signIn("ann@gadgets.example", DashboardPageTests.password)
            let merchantCSRF = try #require(try await merchant.get("/dashboard/test").csrf)
            for (path, fields) in [("/dashboard/test/cardholders/\(card.id)/limit", [("limit", "1.00")]),
                                   ("/dashboard/test/cardholders/\(card.id)/close", [("reason", "mine")]),
                                   ("/dashboard/test/merchants/\(gadgets.id)/close", [("reason", "mine")])] {
                #expect(try await merchant.post(path, [("csrf_token", merchantCSRF)] + fields).status == .notFound, "\(path)")
            }

            let ops = PageBrowser(client)
            try await ops.signIn("ops@issuer.example", DashboardPageTests.password)
            let console = try await ops.get("/dashboard/test")
            #expect(console.html.contains("<h2>Networks</h2>") && console.html.contains("<td>sandbox</td>") && console.html.contains("none needed"))
            let page = try await ops.get("/dashboard/test/cardholders/\(card.id)")
            #expect(page.html.contains(#"value="5000.00""#) && page.html.contains("Close the card account"))
            let csrf = try #require(page.csrf)
            // Forged, garbage and refused forms: a clear message, nothing changed.
            #expect(try await ops.post("/dashboard/test/cardholders/\(card.id)/limit", [("limit", "6000")]).status == .forbidden)
            for garbage in ["", "-5", "12.345", "lots", "$1,000,000.01", String(repeating: "9", count: 40)] {
                let refused = try await ops.post("/dashboard/test/cardholders/\(card.id)/limit", [("csrf_token", csrf), ("limit", garbage)])
                #expect(refused.status == .badRequest, "\(garbage.debugDescription): \(refused.status)")
            }
            #expect(try await ops.post("/dashboard/test/cardholders/\(card.id)/close", [("csrf_token", csrf), ("reason", "  ")]).status == .badRequest)
            #expect(try await world.store.read { try $0.cardAccount(card.id) }?.creditLimit == .usd(500_000))

            let raised = try await ops.post("/dashboard/test/cardholders/\(card.id)/limit", [("csrf_token", csrf), ("limit", "$6,000.50")])
            #expect(raised.status == .seeOther || raised.status == .found)
            let after = try await ops.get(try #require(raised.location))
            #expect(after.html.contains("Credit limit changed.") && after.html.contains("$6,000.50"))
            let closed = try await ops.post("/dashboard/test/cardholders/\(card.id)/close", [("csrf_token", csrf), ("reason", "reported <stolen>")])
            let closedPage = try await ops.get(try #require(closed.location))
            #expect(closedPage.html.contains("Card account closed") && !closedPage.html.contains("Close the card account"))
            #expect(closedPage.html.contains("No account linked."), "its links ended")

            let merchantPage = try await ops.get("/dashboard/test/merchants/\(gadgets.id)")
            let closing = try await ops.post("/dashboard/test/merchants/\(gadgets.id)/close", [("csrf_token", try #require(merchantPage.csrf)),
                                                                                             ("reason", "stopped trading")])
            let closedMerchant = try await ops.get(try #require(closing.location))
            #expect(closedMerchant.html.contains("Merchant closed") && closedMerchant.html.contains("ended"))
            #expect(try await world.store.read { try $0.offer(offer.id) }?.lifecycle == .ended)
            let audit = try await ops.get("/dashboard/test/audit")
            #expect(audit.html.contains("cardholder.credit_limit") && audit.html.contains("cardholder.close") && audit.html.contains("merchant.close"))
            #expect(audit.html.contains("reported &lt;stolen&gt;") || !audit.html.contains("<stolen>"))
        }
    }
}
