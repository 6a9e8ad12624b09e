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
        let notice: String? = switch request.uri.queryParameters.get("done") {
        case "stopped": "Every purchase in \(context.mode) mode is stopped."
        case "resumed": "Purchases go on."
        default: nil
        }
        return page("operator_console", "Console", data: [
            "kill_on": killSwitch.on, "kill_reason": killSwitch.reason, "kill_changed": killSwitch.changed > 0 ? PageFormat.time(killSwitch.changed) : "never",
            "daily_cap": PageFormat.money(risk.dailySpendCap), "per_hour": PageFormat.count(risk.maxPurchasesPerHour),
            "link_age": "\(risk.minLinkAgeSeconds / 60) min", "risk_source": risk.source,
            "ledger_ok": check.ok, "violations": check.violations.map { ["rule": $0.rule, "subject": $0.subject, "detail": $0.detail] },
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
    }

    func home(_ request: Request, _ context: DashboardContext) async throws -> Response {
        let cardholder = try context.cardholderID()
        let purchases = try await service.purchases(cardholderID: cardholder, limit: 50, startingAfter: nil)
        let notifications = try await service.notifications(cardholderID: cardholder, limit: 20)
        let credits = try await service.statementCredits(cardholderID: cardholder, limit: 20)
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
            "links": links.data.map { ["network": $0.network, "handle": $0.handle] },
            "has_links": !links.data.isEmpty, "has_credits": !credits.data.isEmpty, "has_notifications": !notifications.data.isEmpty,
        ], frame: PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: "overview",
                            notice: request.uri.queryParameters.get("done") == "cancelled" ? "Purchase cancelled; any hold on your card is released." : nil))
    }
}
