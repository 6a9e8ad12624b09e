import Foundation
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore

/// Orders (merchant: its own only): listing, finding by reference, shipping, cancelling, refunding.
extension EngineService {
    /// One of the merchant's orders; another merchant's is "not found".
    func ownOrder(merchantID: String, id: String) async throws -> Order {
        guard let orderID = OrderID(validating: id), let order = try await store.read({ try $0.order(orderID) }),
            order.merchantID.rawValue == merchantID
        else { throw APIError.notFound("order \(id.prefix(64))") }
        return order
    }

    /// The order as the merchant sees it, with its shipping address (the card's billing address).
    func view(_ order: Order) async throws -> OrderView {
        Self.view(order, card: try await store.read { try $0.cardAccount(order.cardAccountID) })
    }

    static func view(_ order: Order, card: CardAccount?) -> OrderView {
        let shipping = card.map { card in
            ShippingView(name: card.billing.name, line1: card.billing.line1, line2: card.billing.line2, city: card.billing.city,
                         state: card.billing.state.rawValue, postalCode: card.billing.postalCode)
        }
        return OrderView(id: order.id.rawValue, offer: order.offerID.rawValue, reference: order.reference, status: order.status.rawValue,
                         quantity: order.units, unitAmount: order.unitPrice.minorUnits, amount: order.amount.minorUnits, tax: order.tax.minorUnits, taxRatePpm: order.taxRatePartsPerMillion,
                         total: order.total.minorUnits, currency: order.total.currency.rawValue, amountCaptured: order.capturedAmount.minorUnits,
                         amountRefunded: order.refundedAmount.minorUnits, carrier: order.carrier, tracking: order.tracking,
                         shipping: shipping, created: order.createdAt.millisecondsSinceEpoch / 1000)
    }

    public func orders(merchantID: String, offerID: String?, status: String?, limit: Int, startingAfter: String?) async throws -> ListView<OrderView> {
        try await mapped {
            var statusFilter: OrderStatus?
            if let status {
                guard let parsed = OrderStatus(rawValue: status) else {
                    throw APIError.invalid("`status` must be created, shipped, cancelled or refunded.", param: "status")
                }
                statusFilter = parsed
            }
            let offer: OfferID? = try queryID(offerID, param: "offer")
            let after: OrderID? = try queryID(startingAfter, param: "starting_after")
            // The page and its shipping addresses from one snapshot.
            let (orders, cards) = try await store.read { [statusFilter] reader in
                let orders = try reader.orders(merchantID: MerchantID(merchantID), offerID: offer, status: statusFilter,
                                               limit: limit + 1, startingAfter: after)
                var cards: [CardAccountID: CardAccount] = [:]
                for order in orders.prefix(limit) where cards[order.cardAccountID] == nil {
                    cards[order.cardAccountID] = try reader.cardAccount(order.cardAccountID)
                }
                return (orders, cards)
            }
            return ListView(data: orders.prefix(limit).map { Self.view($0, card: cards[$0.cardAccountID]) }, hasMore: orders.count > limit)
        }
    }

    public func order(merchantID: String, id: String) async throws -> OrderView {
        try await mapped { try await view(try await ownOrder(merchantID: merchantID, id: id)) }
    }

    public func order(merchantID: String, reference: String) async throws -> OrderView? {
        try await mapped {
            // References are upper-case letters and digits: another spelling of one is the same.
            let spelled = reference.trimmingCharacters(in: .whitespaces).uppercased()
            guard (1...32).contains(spelled.utf8.count), spelled.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }) else {
                return nil
            }
            let merchant = MerchantID(merchantID)
            guard let order = try await store.read({ try $0.order(merchantID: merchant, reference: spelled) }) else { return nil }
            return try await view(order)
        }
    }

    public func shipOrder(merchantID: String, id: String, _ body: ShipOrderBody) async throws -> OrderView {
        try await mapped {
            let order = try await ownOrder(merchantID: merchantID, id: id)
            return try await view(try await engine.ship(orderID: order.id, carrier: body.carrier, tracking: body.tracking))
        }
    }

    public func cancelOrder(merchantID: String, id: String) async throws -> OrderView {
        try await mapped {
            let order = try await ownOrder(merchantID: merchantID, id: id)
            return try await view(try await engine.cancel(orderID: order.id, by: .merchantCancelled))
        }
    }

    public func refundOrder(merchantID: String, id: String, _ body: RefundBody) async throws -> OrderView {
        try await mapped {
            guard body.currency == nil || body.currency?.uppercased() == Currency.usd.rawValue else {
                throw APIError.invalid("Refunds are in USD.", param: "currency")
            }
            guard body.amount > 0 else { throw APIError.invalid("`amount` must be a positive number of minor units.", param: "amount") }
            let order = try await ownOrder(merchantID: merchantID, id: id)
            return try await view(try await engine.refund(orderID: order.id, amount: .usd(body.amount)))
        }
    }
}
