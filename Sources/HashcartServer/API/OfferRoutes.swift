import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// A merchant's offers under `/v1`: create, list, read, pause, resume, end, and analytics (one
/// offer's, JSON or CSV; across offers over a range).
struct OfferRoutes<Service: HashcartService> {
    let services: ModeServices<Service>

    var collection: RouteCollection<MerchantContext> {
        let routes = RouteCollection(context: MerchantContext.self)
        routes.post("offers") { request, context in
            var request = request
            return try json(try await services.of(context).createOffer(merchantID: context.merchantID, request.decodeStrict(CreateOfferBody.self)),
                            status: .created, context)
        }
        routes.get("offers") { request, context in
            let query = request.uri.queryParameters
            return try json(try await services.of(context).offers(merchantID: context.merchantID, limit: try pageLimit(query.get("limit")),
                                                              startingAfter: query.get("starting_after")), context)
        }
        routes.get("offers/{id}") { _, context in
            try json(try await services.of(context).offer(merchantID: context.merchantID, id: context.parameters.require("id")), context)
        }

        for (action, lifecycle) in [("pause", "paused"), ("resume", "published"), ("end", "ended")] {
            routes.post("offers/{id}/\(action)") { _, context in
                try json(try await services.of(context).setOfferLifecycle(merchantID: context.merchantID, id: context.parameters.require("id"),
                                                                      to: lifecycle), context)
            }
        }
        routes.get("analytics") { request, context in
            let query = request.uri.queryParameters
            return try json(try await services.of(context).merchantAnalytics(merchantID: context.merchantID, from: query.get("from"), to: query.get("to")),
                            context)
        }
        routes.get("offers/{id}/analytics") { request, context in
            let analytics = try await services.of(context).analytics(merchantID: context.merchantID, offerID: context.parameters.require("id"))
            if request.headers[.accept]?.contains("text/csv") == true {
                return text(analytics.csv, contentType: "text/csv; charset=utf-8")
            }
            return try json(analytics, context)
        }
        return routes
    }
}
