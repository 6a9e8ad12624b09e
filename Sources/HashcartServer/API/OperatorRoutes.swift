import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// The operator's routes under `/v1` (the admin token; the mode from `Hashcart-Mode`): merchants,
/// cardholders and their credentials, dashboard users, card transactions, the ledger check, kill
/// switches, risk limits, payout accounts and the sales-tax report.
struct OperatorRoutes<Service: HashcartService> {
    let services: ModeServices<Service>

    var collection: RouteCollection<OperatorContext> {
        let routes = RouteCollection(context: OperatorContext.self)
        routes.post("dashboard_users") { request, context in
            var request = request
            return try json(try await services.of(context).dashboard.createUser(request.decodeStrict(CreateDashboardUserBody.self)), status: .created, context)
        }
        routes.post("merchants") { request, context in
            var request = request
            return try json(try await services.of(context).createMerchant(request.decodeStrict(CreateMerchantBody.self)), status: .created, context)
        }
        routes.post("cardholders") { request, context in
            var request = request
            return try json(try await services.of(context).createCardholder(request.decodeStrict(CreateCardholderBody.self)), status: .created, context)
        }
        routes.get("merchants") { request, context in
            let query = request.uri.queryParameters
            return try json(try await services.of(context).merchants(search: query.get("q").map { String($0) }, limit: try pageLimit(query.get("limit")),
                                                                 after: query.get("starting_after")), context)
        }
        routes.get("merchants/{id}") { _, context in
            try json(try await services.of(context).merchant(id: context.parameters.require("id")), context)
        }
        routes.post("merchants/{id}/close") { request, context in
            var request = request
            return try json(try await services.of(context).closeMerchant(id: context.parameters.require("id"),
                                                                     request.decodeStrict(CloseAccountBody.self)), context)
        }
        routes.get("cardholders") { request, context in
            let query = request.uri.queryParameters
            return try json(try await services.of(context).cardholders(search: query.get("q").map { String($0) }, limit: try pageLimit(query.get("limit")),
                                                                   after: query.get("starting_after")), context)
        }
        routes.get("cardholders/{id}") { _, context in
            try json(try await services.of(context).cardholder(id: context.parameters.require("id")), context)
        }
        routes.post("cardholders/{id}") { request, context in
            var request = request
            return try json(try await services.of(context).updateCardholder(id: context.parameters.require("id"),
                                                                        request.decodeStrict(UpdateCardholderBody.self)), context)
        }
        routes.post("cardholders/{id}/close") { request, context in
            var request = request
            return try json(try await services.of(context).closeCardholder(id: context.parameters.require("id"),
                                                                       request.decodeStrict(CloseAccountBody.self)), context)
        }
        routes.post("card_transactions") { request, context in
            var request = request
            return try json(try await services.of(context).ingestCardTransactions(request.decodeStrict(CardTransactionsBody.self)), context)
        }
        routes.get("ledger/check") { _, context in try json(try await services.of(context).ledgerCheck(), context) }
        routes.get("kill_switch") { _, context in try json(try await services.of(context).killSwitch(), context) }
        routes.get("risk") { _, context in try json(try await services.of(context).riskSettings(), context) }
        routes.post("risk") { request, context in
            var request = request
            return try json(try await services.of(context).setRiskSettings(request.decodeStrict(RiskSettingsBody.self)), context)
        }
        routes.post("kill_switch") { request, context in
            var request = request
            return try json(try await services.of(context).setKillSwitch(request.decodeStrict(KillSwitchBody.self)), context)
        }
        routes.post("offers/{id}/kill_switch") { request, context in
            var request = request
            return try json(try await services.of(context).setOfferKillSwitch(offerID: context.parameters.require("id"),
                                                                          request.decodeStrict(OfferKillSwitchBody.self)), context)
        }
        routes.post("offers/{id}/risk") { request, context in
            var request = request
            return try json(try await services.of(context).setOfferRisk(offerID: context.parameters.require("id"),
                                                                    request.decodeStrict(RiskSettingsBody.self)), context)
        }
        routes.post("merchants/{id}/payout_account") { request, context in
            var request = request
            return try json(try await services.of(context).setPayoutAccount(merchantID: context.parameters.require("id"),
                                                                        request.decodeStrict(PayoutAccountBody.self)), context)
        }
        routes.get("reports/sales_tax") { request, context in
            let query = request.uri.queryParameters
            let report = try await services.of(context).salesTaxReport(from: query.get("from"), to: query.get("to"))
            if request.headers[.accept]?.contains("text/csv") == true { return text(report.csv, contentType: "text/csv; charset=utf-8") }
            return try json(report, context)
        }
        routes.post("merchants/{id}/api_keys") { _, context in
            try json(try await services.of(context).createAPIKey(merchantID: context.parameters.require("id")), status: .created, context)
        }
        routes.get("merchants/{id}/api_keys") { request, context in
            let service = try services.of(context)
            let merchant = try await service.merchant(id: context.parameters.require("id"))  // 404 for none
            return try json(try await service.apiKeys(merchantID: merchant.id, limit: try pageLimit(request.uri.queryParameters.get("limit"))), context)
        }
        routes.delete("merchants/{id}/api_keys/{key}") { _, context in
            try json(try await services.of(context).revokeAPIKey(merchantID: context.parameters.require("id"), keyID: context.parameters.require("key")),
                     context)
        }
        routes.post("cardholders/{id}/tokens") { _, context in
            try json(try await services.of(context).createCardholderToken(cardholderID: context.parameters.require("id")), status: .created, context)
        }

        return routes
    }
}
