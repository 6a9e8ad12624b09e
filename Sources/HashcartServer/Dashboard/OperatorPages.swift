import HashcartCore
import Hummingbird

/// The operator's pages: the console (kill switch, risk limits, the ledger check) and the
/// dashboard's users. Only a user with the operator role reaches them; anyone else gets 404.
struct OperatorPages<Service: HashcartService> {
    let modes: [Mode]
    let service: Service

    func add(to group: RouterGroup<DashboardContext>) {
        group.post("kill-switch") { _, context in
            try context.requireOperator()
            let on = context.form["on"] == "true"
            let reason = context.form.text("reason")
            guard reason != nil else { throw PageError.badForm("Say why purchases are stopped or let go on: the reason is required.") }
            _ = try await service.setKillSwitch(KillSwitchBody(on: on, reason: reason))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)?done=\(on ? "stopped" : "resumed")")
        }
        group.post("risk") { _, context in
            try context.requireOperator()
            let form = context.form
            guard let cap = PageFormat.parseAmount(try form.required("daily_spend_cap", label: "The daily spend")) else {
                throw PageError.badForm("The daily spend must be in dollars and cents, as 2500.00.")
            }
            func whole(_ name: String, _ label: String) throws -> Int64 {
                let text = try form.required(name, label: label)
                guard text.count <= 6, text.allSatisfy(\.isASCIIDigit), let value = Int64(text) else {
                    throw PageError.badForm("\(label) must be a whole number.")
                }
                return value
            }
            _ = try await service.setRiskSettings(RiskSettingsBody(dailySpendCap: cap, maxPurchasesPerHour: try whole("max_purchases_per_hour", "Purchases per hour"),
                                                                   minLinkAgeSeconds: try whole("min_link_age_minutes", "The minimum link age") * 60))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)?done=risk")
        }
        // The issuer stops (or lets go on) one offer, whoever's it is, from the merchant's page.
        group.post("offers/{id}/kill-switch") { _, context in
            try context.requireOperator()
            let on = context.form["on"] == "true"
            let offer = try await service.setOfferKillSwitch(offerID: try context.parameters.require("id"), OfferKillSwitchBody(on: on))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/merchants/\(offer.merchant.urlQueryValue)?done=\(on ? "stopped" : "resumed")")
        }
        group.get("merchants") { request, context in
            try context.requireOperator()
            let query = request.uri.queryParameters
            let search = query.get("q").map { String($0.prefix(64)).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            let list = try await service.merchants(search: search, limit: 50, after: query.get("after").map { String($0) })
            var data: [String: Any] = [
                "q": search ?? "", "has_merchants": !list.data.isEmpty,
                "merchants": list.data.map { merchant -> [String: Any] in
                    ["id": merchant.id, "name": merchant.name, "fee": "\(merchant.discountRateBps / 100).\(PageFormat.two(merchant.discountRateBps % 100))%",
                     "payout": merchant.payoutAccount.map { "account ending \($0.last4)" } ?? "none yet", "status": merchant.closed == nil ? "open" : "closed",
                     "created": PageFormat.time(merchant.created)]
                },
            ]
            if list.hasMore, let last = list.data.last {
                data["next"] = "/dashboard/\(context.mode.rawValue)/merchants?q=\((search ?? "").urlQueryValue)&after=\(last.id.urlQueryValue)"
            }
            return page("merchants", "Merchants", data: data, context, section: "merchants")
        }
        group.get("merchants/{id}") { request, context in
            try context.requireOperator()
            let merchant = try await service.merchant(id: try context.parameters.require("id"))
            let offers = try await service.offers(merchantID: merchant.id, limit: 50, startingAfter: nil)
            let users = try await service.dashboard.users(merchantID: merchant.id, limit: 50)
            let lines = try await service.auditLog(merchantID: merchant.id, limit: 20, before: nil)
            var data: [String: Any] = [
                "id": merchant.id, "fee": "\(merchant.discountRateBps) bps", "created": PageFormat.time(merchant.created),
                "payout": merchant.payoutAccount.map { "routing \($0.routingNumber), \($0.accountType) account ending \($0.last4)" } ?? "none yet",
                "offers": offers.data.map { ["id": $0.id, "title": $0.title, "hashtag": $0.hashtag, "state": $0.state, "sold": PageFormat.count($0.unitsSold),
                                             "stopped": $0.killSwitch, "can_stop": $0.state != "ended"] },
                "has_offers": !offers.data.isEmpty,
                "users": users.data.map { ["email": $0.email] }, "has_users": !users.data.isEmpty,
                "lines": lines.map { ["at": PageFormat.time($0.at), "actor": $0.actor, "action": $0.action, "object": $0.object] },
                "has_lines": !lines.isEmpty,
            ]
            if let closed = merchant.closed { data["closed"] = PageFormat.time(closed) } else { data["open"] = true }
            let notice: String? = switch request.uri.queryParameters.get("done") {
            case "closed": "Merchant closed: its offers have ended."
            case "stopped": "The offer is stopped: every purchase of it is declined."
            case "resumed": "The offer's purchases go on."
            default: nil
            }
            return page("merchant", merchant.name, data: data, context, section: "merchants", notice: notice)
        }
        group.post("merchants/{id}/close") { _, context in
            try context.requireOperator()
            let id = try context.parameters.require("id")
            guard let reason = context.form.text("reason") else { throw PageError.badForm("Say why the merchant is closed: the reason is required.") }
            let merchant = try await service.closeMerchant(id: id, CloseAccountBody(reason: reason))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/merchants/\(merchant.id.urlQueryValue)?done=closed")
        }
        group.get("cardholders") { request, context in
            try context.requireOperator()
            let query = request.uri.queryParameters
            let search = query.get("q").map { String($0.prefix(64)).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            let list = try await service.cardholders(search: search, limit: 50, after: query.get("after").map { String($0) })
            var data: [String: Any] = [
                "q": search ?? "", "has_cardholders": !list.data.isEmpty,
                "cardholders": list.data.map { card -> [String: Any] in
                    ["id": card.id, "limit": PageFormat.money(card.creditLimit, card.currency), "state": card.billingState,
                     "status": card.closed == nil ? "open" : "closed",
                     "pan": card.panOnFile ? "on file (fingerprint)" : "last four only", "created": PageFormat.time(card.created)]
                },
            ]
            if list.hasMore, let last = list.data.last {
                data["next"] = "/dashboard/\(context.mode.rawValue)/cardholders?q=\((search ?? "").urlQueryValue)&after=\(last.id.urlQueryValue)"
            }
            return page("cardholders", "Cardholders", data: data, context, section: "cardholders")
        }
        group.get("cardholders/{id}") { request, context in
            try context.requireOperator()
            let card = try await service.cardholder(id: try context.parameters.require("id"))
            let links = try await service.links(cardholderID: card.id)
            let purchases = try await service.purchases(cardholderID: card.id, limit: 50, startingAfter: nil)
            var data: [String: Any] = [
                "id": card.id, "limit": PageFormat.money(card.creditLimit, card.currency), "limit_dollars": PageFormat.plainAmount(card.creditLimit),
                "available": PageFormat.money(card.availableCredit, card.currency), "state": card.billingState, "created": PageFormat.time(card.created),
                "links": links.data.map { ["network": $0.network, "handle": $0.handle, "active": $0.active ? "active" : "unlinked"] },
                "has_links": !links.data.isEmpty,
                "purchases": purchases.data.map { ["reference": $0.reference, "state": $0.state.replacingOccurrences(of: "_", with: " "),
                                                   "total": PageFormat.money($0.total, $0.currency), "created": PageFormat.time($0.created)] },
                "has_purchases": !purchases.data.isEmpty,
            ]
            if let closed = card.closed { data["closed"] = PageFormat.time(closed) } else { data["open"] = true }
            let notice: String? = switch request.uri.queryParameters.get("done") {
            case "limit": "Credit limit changed."
            case "closed": "Card account closed: its links have ended."
            default: nil
            }
            return page("cardholder", card.id, data: data, context, section: "cardholders", notice: notice)
        }
        group.post("cardholders/{id}/limit") { _, context in
            try context.requireOperator()
            let id = try context.parameters.require("id")
            guard let limit = PageFormat.parseAmount(try context.form.required("limit", label: "The credit limit")) else {
                throw PageError.badForm("The credit limit must be in dollars and cents, as 2500.00.")
            }
            let card = try await service.updateCardholder(id: id, UpdateCardholderBody(creditLimit: limit))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/cardholders/\(card.id.urlQueryValue)?done=limit")
        }
        group.post("cardholders/{id}/close") { _, context in
            try context.requireOperator()
            let id = try context.parameters.require("id")
            guard let reason = context.form.text("reason") else { throw PageError.badForm("Say why the card account is closed: the reason is required.") }
            let card = try await service.closeCardholder(id: id, CloseAccountBody(reason: reason))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/cardholders/\(card.id.urlQueryValue)?done=closed")
        }
        group.get("users") { request, context in
            try context.requireOperator()
            let users = try await service.dashboard.users(merchantID: nil, limit: 200)
            return page("users", "Dashboard users", data: [
                "users": users.data.map { user -> [String: Any] in
                    ["email": user.email, "role": user.role, "owner": user.merchant ?? user.cardholder ?? "—", "created": PageFormat.time(user.created)]
                },
                "roles": DashboardRole.allCases.map(\.rawValue),
            ], context, section: "users", notice: request.uri.queryParameters.get("done") == "created" ? "User created." : nil)
        }
        group.post("users") { _, context in
            try context.requireOperator()
            let form = context.form
            let role = try form.required("role", label: "The role")
            let owner = form.text("owner")
            let body = CreateDashboardUserBody(email: try form.required("email", label: "The email"), role: role,
                                               merchantID: role == "merchant" ? owner : nil, cardholderID: role == "cardholder" ? owner : nil,
                                               password: try form.required("password", label: "The password"))
            _ = try await service.dashboard.createUser(body)
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/users?done=created")
        }
    }

    func page(_ template: String, _ title: String, data: [String: Any], _ context: DashboardContext, section: String, notice: String? = nil) -> Response {
        PageRenderer.shared.page(template, title: title, data: data,
                                 frame: PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: section, notice: notice))
    }

    func console(_ request: Request, _ context: DashboardContext) async throws -> Response {
        try context.requireOperator()
        let killSwitch = try await service.killSwitch()
        let risk = try await service.riskSettings()
        let check = try await service.ledgerCheck()
        let connectors = await service.connectorHealth()
        let notice: String? = switch request.uri.queryParameters.get("done") {
        case "stopped": "Every purchase in \(context.mode) mode is stopped."
        case "resumed": "Purchases go on."
        case "risk": "Risk limits set."
        default: nil
        }
        return page("operator_console", "Console", data: [
            "kill_on": killSwitch.on, "kill_reason": killSwitch.reason, "kill_changed": killSwitch.changed > 0 ? PageFormat.time(killSwitch.changed) : "never",
            "daily_cap": PageFormat.money(risk.dailySpendCap), "per_hour": PageFormat.count(risk.maxPurchasesPerHour),
            "daily_cap_plain": PageFormat.plainAmount(risk.dailySpendCap), "per_hour_plain": String(risk.maxPurchasesPerHour),
            "link_age_minutes": String(risk.minLinkAgeSeconds / 60),
            "link_age": "\(risk.minLinkAgeSeconds / 60) min", "risk_source": risk.source,
            "ledger_ok": check.ok, "violations": check.violations.map { ["rule": $0.rule, "subject": $0.subject, "detail": $0.detail] },
            "connectors": connectors.map { connector -> [String: Any] in
                ["network": connector.network, "status": connector.connected ? "connected" : "down", "down": !connector.connected,
                 "streams": connector.streamsWanted == 0 ? "none needed" : "\(connector.streamsOpen) of \(connector.streamsWanted)",
                 "lag": connector.lagMilliseconds.map(PageFormat.seconds) ?? "—", "reconnects": PageFormat.count(Int64(connector.reconnects)),
                 "refused": PageFormat.count(Int64(connector.refused)),
                 // A connector without a stream (the sandbox) counts nothing here: say so rather than 0.
                 "events": connector.streamsWanted == 0 && connector.events == 0 ? "not counted" : PageFormat.count(Int64(connector.events)),
                 "last": connector.lastEvent.map(PageFormat.time) ?? (connector.streamsWanted == 0 ? "—" : "none yet")]
            },
        ], context, section: "overview", notice: notice)
    }
}

/// A cardholder's pages: their purchases (cancel before shipment), statement credits and notices.
struct CardholderPages<Service: HashcartService> {
    let modes: [Mode]
    let service: Service

    func add(to group: RouterGroup<DashboardContext>) {
        group.post("purchases/{id}/cancel") { _, context in
            _ = try await service.cancelPurchase(cardholderID: try context.cardholderID(), id: try context.parameters.require("id"))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)?done=cancelled")
        }
        // Linking an account: a code to post from it, or the network's own sign-in. The sign-in
        // is a link the person follows (a form may not redirect to another site under this CSP).
        group.post("links") { request, context in
            let network = try context.form.required("network", label: "The network")
            if context.form["how"] == "sign_in" {
                // Bound to this browser: the callback must bring back the cookie set here (one
                // nonce per browser and mode, reused while it lasts, so two sign-ins can be open).
                let existing = request.cookies[OAuthBrowserCookie.name(context.mode)]?.value
                let nonce = existing.flatMap { OAuthBrowserCookie.isWellFormed($0) ? $0 : nil } ?? randomFormToken()
                let started = try await service.startOAuthLink(cardholderID: try context.cardholderID(), CreateOAuthLinkBody(network: network),
                                                               browserNonce: nonce)
                var response = PageRenderer.shared.page("link_sign_in", title: "Sign in at \(started.network)", data: [
                    "network": started.network, "authorize_url": started.authorizeUrl, "expires": PageFormat.time(started.expiresAt),
                ], frame: PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: "overview"))
                response.setCookie(OAuthBrowserCookie.cookie(mode: context.mode, value: nonce, maxAge: Int(OAuthAuthorization.lifetimeSeconds),
                                                             request: request))
                return response
            }
            let code = try await service.createLinkCode(cardholderID: try context.cardholderID(), CreateLinkBody(network: network))
            return PageRenderer.shared.page("link_code", title: "Your link code", data: [
                "network": code.network, "code": code.code, "instructions": code.instructions, "expires": PageFormat.time(code.expiresAt),
            ], frame: PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: "overview"))
        }
        group.post("links/{id}/delete") { _, context in
            _ = try await service.deleteLink(cardholderID: try context.cardholderID(), id: try context.parameters.require("id"))
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)?done=unlinked")
        }
    }

    func home(_ request: Request, _ context: DashboardContext) async throws -> Response {
        let cardholder = try context.cardholderID()
        let purchases = try await service.purchases(cardholderID: cardholder, limit: 50, startingAfter: nil)
        let notifications = try await service.notifications(cardholderID: cardholder, limit: 20)
        let credits = try await service.statementCredits(cardholderID: cardholder, limit: 20)
        let loaded = try await service.loadedOffers(cardholderID: cardholder, limit: 20)
        let links = try await service.links(cardholderID: cardholder)
        let cancellable: Set<String> = ["waitlisted", "requested", "awaiting_confirmation", "authorized", "captured"]
        return PageRenderer.shared.page("cardholder_home", title: "Your purchases", data: [
            "purchases": purchases.data.map { purchase -> [String: Any] in
                var row: [String: Any] = [
                    "id": purchase.id, "reference": purchase.reference, "state": purchase.shipped ? "shipped" : purchase.state.replacingOccurrences(of: "_", with: " "),
                    "total": PageFormat.money(purchase.total, purchase.currency), "created": PageFormat.time(purchase.created),
                    "can_cancel": cancellable.contains(purchase.state) && !purchase.shipped,
                ]
                if let decline = purchase.declineMessage { row["decline"] = decline }
                return row
            },
            "has_purchases": !purchases.data.isEmpty,
            "notifications": notifications.data.map { ["message": $0.message, "created": PageFormat.time($0.created)] },
            "credits": credits.data.map { ["amount": PageFormat.money($0.amount, $0.currency), "state": $0.state, "created": PageFormat.time($0.created)] },
            "links": links.data.map { ["id": $0.id, "network": $0.network, "handle": $0.handle] },
            "has_links": !links.data.isEmpty, "has_credits": !credits.data.isEmpty, "has_loaded": !loaded.data.isEmpty,
            "loaded": loaded.data.map { ["title": $0.title, "threshold": PageFormat.money($0.spendThreshold, $0.currency),
                                         "credit": PageFormat.money($0.creditAmount, $0.currency), "ends": PageFormat.time($0.ends)] }, "has_notifications": !notifications.data.isEmpty,
            "networks": service.networkNames,
        ], frame: PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: "overview",
                            notice: Self.notice(request)))
    }

    static func notice(_ request: Request) -> String? {
        switch request.uri.queryParameters.get("done") {
        case "cancelled": "Purchase cancelled; any hold on your card is released."
        case "unlinked": "Account unlinked: its posts no longer buy with your card."
        default: nil
        }
    }
}
