import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// A merchant's webhook endpoints and events under `/v1`: create, list, disable, enable, rotate
/// the secret, the delivery log, a test event; the event log and redelivery.
struct WebhookEndpointRoutes<Service: HashcartService> {
    let services: ModeServices<Service>

    var collection: RouteCollection<MerchantContext> {
        let routes = RouteCollection(context: MerchantContext.self)
        routes.post("webhook_endpoints") { request, context in
            var request = request
            return try json(try await services.of(context).createWebhookEndpoint(merchantID: context.merchantID,
                                                                             request.decodeStrict(CreateWebhookEndpointBody.self)),
                            status: .created, context)
        }
        routes.get("webhook_endpoints") { _, context in
            try json(try await services.of(context).webhookEndpoints(merchantID: context.merchantID), context)
        }
        routes.post("webhook_endpoints/{id}/disable") { _, context in
            try json(try await services.of(context).setWebhookEndpointDisabled(merchantID: context.merchantID, id: context.parameters.require("id"),
                                                                            disabled: true), context)
        }
        routes.post("webhook_endpoints/{id}/enable") { _, context in
            try json(try await services.of(context).setWebhookEndpointDisabled(merchantID: context.merchantID, id: context.parameters.require("id"),
                                                                            disabled: false), context)
        }
        routes.post("webhook_endpoints/{id}/rotate_secret") { request, context in
            var request = request
            let body = try await request.decodeStrictOrEmpty(RotateWebhookSecretBody.self)
            return try json(try await services.of(context).rotateWebhookSecret(merchantID: context.merchantID, id: context.parameters.require("id"), body),
                            context)
        }
        routes.get("webhook_endpoints/{id}/deliveries") { request, context in
            let query = request.uri.queryParameters
            return try json(try await services.of(context).webhookDeliveries(merchantID: context.merchantID, id: context.parameters.require("id"),
                                                                         limit: try pageLimit(query.get("limit")),
                                                                         startingAfter: query.get("starting_after")), context)
        }
        routes.post("webhook_endpoints/{id}/test") { _, context in
            try json(try await services.of(context).sendTestWebhook(merchantID: context.merchantID, id: context.parameters.require("id")),
                     status: .created, context)
        }
        routes.get("events") { request, context in
            let query = request.uri.queryParameters
            return try json(try await services.of(context).events(merchantID: context.merchantID, limit: try pageLimit(query.get("limit")),
                                                              startingAfter: query.get("starting_after")), context)
        }
        routes.post("events/{id}/redeliver") { _, context in
            try json(try await services.of(context).redeliverEvent(merchantID: context.merchantID, id: context.parameters.require("id")), context)
        }

        return routes
    }
}
