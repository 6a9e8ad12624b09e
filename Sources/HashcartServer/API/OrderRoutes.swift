import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// A merchant's orders under `/v1`: list, read, ship, cancel, refund.
struct OrderRoutes<Service: HashcartService> {
    let services: ModeServices<Service>

    var collection: RouteCollection<MerchantContext> {
        let routes = RouteCollection(context: MerchantContext.self)
        routes.get("orders") { request, context in
            let query = request.uri.queryParameters
            return try json(try await services.of(context).orders(merchantID: context.merchantID, offerID: query.get("offer"), status: query.get("status"),
                                                              limit: try pageLimit(query.get("limit")), startingAfter: query.get("starting_after")),
                            context)
        }
        routes.get("orders/{id}") { _, context in
            try json(try await services.of(context).order(merchantID: context.merchantID, id: context.parameters.require("id")), context)
        }
        routes.post("orders/{id}/ship") { request, context in
            var request = request
            return try json(try await services.of(context).shipOrder(merchantID: context.merchantID, id: context.parameters.require("id"),
                                                                 request.decodeStrict(ShipOrderBody.self)), context)
        }
        routes.post("orders/{id}/cancel") { _, context in
            try json(try await services.of(context).cancelOrder(merchantID: context.merchantID, id: context.parameters.require("id")), context)
        }
        routes.post("orders/{id}/refunds") { request, context in
            var request = request
            return try json(try await services.of(context).refundOrder(merchantID: context.merchantID, id: context.parameters.require("id"),
                                                                   request.decodeStrict(RefundBody.self)), status: .created, context)
        }

        return routes
    }
}
