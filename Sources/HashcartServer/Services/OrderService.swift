/// A merchant's orders (its own only): listed, found by reference, shipped, cancelled, refunded.
public protocol OrderService: Sendable {
    func orders(merchantID: String, offerID: String?, status: String?, limit: Int, startingAfter: String?) async throws -> ListView<OrderView>
    func order(merchantID: String, id: String) async throws -> OrderView
    /// The merchant's order with this reference (any case, surrounding spaces ignored), or nil.
    func order(merchantID: String, reference: String) async throws -> OrderView?
    func shipOrder(merchantID: String, id: String, _ body: ShipOrderBody) async throws -> OrderView
    func cancelOrder(merchantID: String, id: String) async throws -> OrderView
    func refundOrder(merchantID: String, id: String, _ body: RefundBody) async throws -> OrderView
}
