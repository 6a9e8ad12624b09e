import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// A cardholder's routes under `/v1`: links (by code or OAuth sign-in), purchases (and cancelling
/// one), notifications and statement credits.
struct CardholderRoutes<Service: HashcartService> {
    let services: ModeServices<Service>

    var collection: RouteCollection<CardholderContext> {
        let routes = RouteCollection(context: CardholderContext.self)
        routes.post("links") { request, context in
            var request = request
            return try json(try await services.of(context).createLinkCode(cardholderID: context.cardholderID, request.decodeStrict(CreateLinkBody.self)),
                            status: .created, context)
        }
        routes.post("links/oauth") { request, context in
            var request = request
            return try json(try await services.of(context).startOAuthLink(cardholderID: context.cardholderID,
                                                                      request.decodeStrict(CreateOAuthLinkBody.self), browserNonce: nil),
                            status: .created, context)
        }
        routes.get("links") { _, context in try json(try await services.of(context).links(cardholderID: context.cardholderID), context) }
        routes.delete("links/{id}") { _, context in
            try json(try await services.of(context).deleteLink(cardholderID: context.cardholderID, id: context.parameters.require("id")), context)
        }
        routes.post("purchases/{id}/cancel") { _, context in
            try json(try await services.of(context).cancelPurchase(cardholderID: context.cardholderID, id: context.parameters.require("id")), context)
        }
        routes.get("notifications") { request, context in
            try json(try await services.of(context).notifications(cardholderID: context.cardholderID,
                                                              limit: try pageLimit(request.uri.queryParameters.get("limit"))), context)
        }
        routes.get("loaded_offers") { request, context in
            try json(try await services.of(context).loadedOffers(cardholderID: context.cardholderID,
                                                             limit: try pageLimit(request.uri.queryParameters.get("limit"))), context)
        }
        routes.get("statement_credits") { request, context in
            try json(try await services.of(context).statementCredits(cardholderID: context.cardholderID,
                                                                 limit: try pageLimit(request.uri.queryParameters.get("limit"))), context)
        }
        routes.get("purchases") { request, context in
            let query = request.uri.queryParameters
            return try json(try await services.of(context).purchases(cardholderID: context.cardholderID, limit: try pageLimit(query.get("limit")),
                                                                 startingAfter: query.get("starting_after")), context)
        }

        return routes
    }
}
