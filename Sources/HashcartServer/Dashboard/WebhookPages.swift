import HashcartCore
import Hummingbird

/// A merchant user's webhook endpoints: list, create, disable and enable, rotate the signing
/// secret, send a test event, the delivery log and redelivery. A new secret is shown once, on
/// the page that answers the form (never in a URL, never again).
struct WebhookPages<Service: HashcartService> {
    let modes: [Mode]
    let service: Service

    func add(to group: RouterGroup<DashboardContext>) {
        group.get("webhooks") { request, context in
            let endpoints = try await service.webhookEndpoints(merchantID: try context.merchantID())
            return PageRenderer.shared.page("webhooks", title: "Webhooks", data: [
                "endpoints": endpoints.data.map(row), "has_endpoints": !endpoints.data.isEmpty,
            ], frame: frame(context, notice: notice(request)))
        }
        group.post("webhooks") { _, context in
            let url = try context.form.required("url", label: "The URL")
            let endpoint = try await service.createWebhookEndpoint(merchantID: try context.merchantID(), CreateWebhookEndpointBody(url: url))
            return secretPage(endpoint, context, title: "Endpoint added")
        }
        group.get("webhooks/{id}") { request, context in
            let merchant = try context.merchantID()
            let id = try context.parameters.require("id")
            guard let endpoint = try await service.webhookEndpoints(merchantID: merchant).data.first(where: { $0.id == id }) else {
                throw PageError.notFound
            }
            let deliveries = try await service.webhookDeliveries(merchantID: merchant, id: id, limit: 50,
                                                                 startingAfter: request.uri.queryParameters.get("after"))
            var data: [String: Any] = [
                "endpoint": row(endpoint),
                "deliveries": deliveries.data.map { delivery -> [String: Any] in
                    var row: [String: Any] = ["event": delivery.event, "type": delivery.type, "status": delivery.status,
                                              "attempts": PageFormat.count(delivery.attempts), "created": PageFormat.time(delivery.created)]
                    if let status = delivery.lastResponseStatus { row["answer"] = "HTTP \(status)" } else if let error = delivery.lastError { row["answer"] = error }
                    return row
                },
                "has_deliveries": !deliveries.data.isEmpty,
            ]
            if deliveries.hasMore, let last = deliveries.data.last {
                data["next"] = "/dashboard/\(context.mode.rawValue)/webhooks/\(id)?after=\(last.event)"
            }
            return PageRenderer.shared.page("webhook", title: "Deliveries", data: data, frame: frame(context))
        }
        for (action, disabled) in [("disable", true), ("enable", false)] {
            group.post("webhooks/{id}/\(action)") { _, context in
                _ = try await service.setWebhookEndpointDisabled(merchantID: try context.merchantID(), id: try context.parameters.require("id"),
                                                                 disabled: disabled)
                return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/webhooks?done=\(action)d")
            }
        }
        group.post("webhooks/{id}/rotate") { _, context in
            let endpoint = try await service.rotateWebhookSecret(merchantID: try context.merchantID(), id: try context.parameters.require("id"),
                                                                 RotateWebhookSecretBody(expirePreviousAfterSeconds: nil))
            return secretPage(endpoint, context, title: "Secret rotated")
        }
        group.post("webhooks/{id}/test") { _, context in
            let id = try context.parameters.require("id")
            _ = try await service.sendTestWebhook(merchantID: try context.merchantID(), id: id)
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)/webhooks/\(id.urlPathSegment)?done=test")
        }
        group.post("events/{id}/redeliver") { _, context in
            _ = try await service.redeliverEvent(merchantID: try context.merchantID(), id: try context.parameters.require("id"))
            let back = context.form.text("endpoint").map { "/webhooks/\($0.urlPathSegment)" } ?? "/webhooks"
            return PageRenderer.redirect("/dashboard/\(context.mode.rawValue)\(back)?done=redelivered")
        }
    }

    func row(_ endpoint: WebhookEndpointView) -> [String: Any] {
        var row: [String: Any] = ["id": endpoint.id, "url": endpoint.url, "status": endpoint.status, "created": PageFormat.time(endpoint.created),
                                  "enabled": endpoint.status != "disabled"]
        if let expires = endpoint.previousSecretExpiresAt { row["previous_expires"] = PageFormat.time(expires) }
        return row
    }

    func secretPage(_ endpoint: WebhookEndpointView, _ context: DashboardContext, title: String) -> Response {
        var data = row(endpoint)
        data["secret"] = endpoint.secret ?? ""
        return PageRenderer.shared.page("webhook_secret", title: title, data: data, frame: frame(context))
    }

    func frame(_ context: DashboardContext, notice: String? = nil) -> PageFrame {
        PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: "webhooks", notice: notice)
    }

    func notice(_ request: Request) -> String? {
        switch request.uri.queryParameters.get("done") {
        case "disabled": "Endpoint disabled: nothing is sent to it until you enable it."
        case "enabled": "Endpoint enabled."
        case "test": "Test event queued for this endpoint."
        case "redelivered": "Event queued to be delivered again."
        default: nil
        }
    }
}
