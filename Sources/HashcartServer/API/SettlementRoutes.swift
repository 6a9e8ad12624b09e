import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// A merchant's settlement statements under `/v1` (JSON, or CSV with `Accept: text/csv`).
struct SettlementRoutes<Service: HashcartService> {
    let services: ModeServices<Service>

    var collection: RouteCollection<MerchantContext> {
        let routes = RouteCollection(context: MerchantContext.self)
        routes.get("settlements") { request, context in
            let query = request.uri.queryParameters
            let list = try await services.of(context).settlements(merchantID: context.merchantID, limit: try pageLimit(query.get("limit")),
                                                             startingAfter: query.get("starting_after"))
            if request.headers[.accept]?.contains("text/csv") == true {
                return text(([SettlementView.csvHeader] + list.data.map(\.csvRow)).joined(separator: "\n") + "\n",
                            contentType: "text/csv; charset=utf-8")
            }
            return try json(list, context)
        }
        routes.get("settlements/{id}") { _, context in
            try json(try await services.of(context).settlement(merchantID: context.merchantID, id: context.parameters.require("id")), context)
        }

        return routes
    }
}
