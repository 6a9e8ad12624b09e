import HashcartCore

extension Engine {
    /// The merchant shipped the order. Captures the hold first when the offer captures on shipment.
    @discardableResult
    public func ship(orderID: OrderID, carrier: String, tracking: String) async throws -> Order {
        try validate {
            try Validate.text(carrier, field: "carrier", maxLength: 64)
            try Validate.text(tracking, field: "tracking", maxLength: 128)
        }
        let (now, actor) = (clock.now(), AuditActor.current)
        return try await store.write { [self] tx in
            guard var order = try tx.order(orderID), var purchase = try tx.purchase(order.purchaseID) else {
                throw EngineError.notFound("order \(orderID)")
            }
            if order.status == .shipped { return order }  // a retried call
            try audit(actor, "order.ship", orderID.rawValue, merchant: order.merchantID, detail: "\(carrier) \(tracking)", tx: tx, now: now)
            guard order.status == .created else { throw EngineError.refused("order \(orderID) is \(order.status.rawValue) and cannot ship") }
            if purchase.state == .authorized {
                guard let holdExpiresAt = purchase.holdExpiresAt, now < holdExpiresAt else {
                    throw EngineError.refused("the authorization of order \(orderID) has lapsed")
                }
                try Ledger.submit(PurchaseTransfers.resolution(of: purchase, as: .postPending, now: now), now: now, storage: tx)
                purchase = try purchase.applying(.capture, now: now)
                try tx.updatePurchase(purchase)
                order = try order.applying(.captured(order.total), now: now)
            }
            order = try refusing { try order.applying(.ship(carrier: carrier, tracking: tracking), now: now) }
            try tx.updateOrder(order)
            if let offer = try tx.offer(order.offerID) { try notifyShipped(order, purchase: purchase, offer: offer, tx: tx, now: now) }
            try tx.addMerchantEvent(MerchantEvent(merchantID: order.merchantID, type: .orderShipped, objectID: order.id.rawValue, createdAt: now))
            return order
        }
    }

    /// Cancels an order before shipment (merchant or cardholder): voids the hold, or refunds in
    /// full if it was already captured, and puts the unit back in stock.
    @discardableResult
    public func cancel(orderID: OrderID, by reason: CancellationReason) async throws -> Order {
        precondition(reason == .merchantCancelled || reason == .cardholderCancelled, "orders are cancelled by a merchant or cardholder")
        let (now, actor) = (clock.now(), AuditActor.current)
        return try await store.write { [self] tx in
            guard let order = try tx.order(orderID), let purchase = try tx.purchase(order.purchaseID) else {
                throw EngineError.notFound("order \(orderID)")
            }
            if order.status == .cancelled { return order }
            try cancelConfirmed(purchase, order: order, reason: reason, tx: tx, now: now)
            try audit(actor, "order.cancel", orderID.rawValue, merchant: order.merchantID, detail: reason.rawValue, tx: tx, now: now)
            return try tx.order(orderID)!
        }
    }

    /// Cancels a confirmed purchase's unshipped order: voids the hold (or expires it if it has
    /// already lapsed), or refunds what was captured; gives the unit back; tells the merchant.
    func cancelConfirmed(_ purchase: Purchase, order: Order, reason: CancellationReason, tx: any StoreTransaction, now: Instant) throws {
        guard order.status == .created else {
            throw EngineError.refused("order \(order.id) is \(order.status.rawValue); only an order not yet shipped can be cancelled")
        }
        var refunding = Money.zero
        var reason = reason
        if purchase.state == .authorized {
            let lapsed = purchase.holdExpiresAt.map { now >= $0 } ?? false
            if lapsed { reason = .holdExpired }
            try Ledger.submit(PurchaseTransfers.resolution(of: purchase, as: lapsed ? .expirePending : .voidPending, now: now),
                              now: now, storage: tx)
            try tx.updatePurchase(try purchase.applying(.cancel(reason), now: now))
        } else if order.refundableAmount.isPositive {
            refunding = order.refundableAmount
            try Ledger.submit(PurchaseTransfers.refund(of: order, amount: refunding, now: now), now: now, storage: tx)
        }
        try cancelOrder(of: purchase, refunding: refunding, reason: reason, tx: tx, now: now)
    }

    /// The cardholder cancels a purchase: before confirmation it just ends; after, its order is
    /// cancelled if it has not shipped.
    public func cancelPurchase(_ purchaseID: PurchaseID, cardAccountID: CardAccountID) async throws {
        let now = clock.now()
        let needsOrderCancel = try await store.write { [self] tx -> Bool in
            guard let purchase = try tx.purchase(purchaseID), purchase.cardAccountID == cardAccountID else {
                throw EngineError.notFound("purchase \(purchaseID)")
            }
            if purchase.state.holdsReservation || purchase.state == .waitlisted {
                try cancelUnconfirmed(purchase, reason: .cardholderCancelled, tx: tx, now: now)
                return false
            }
            guard purchase.state == .authorized || purchase.state == .captured else {
                throw EngineError.refused("purchase \(purchaseID) is \(purchase.state.rawValue) and cannot be cancelled")
            }
            return true
        }
        if needsOrderCancel { try await cancel(orderID: Order.id(for: purchaseID), by: .cardholderCancelled) }
    }

    /// Refunds part or all of what was captured. Refunds never exceed the captured amount.
    @discardableResult
    public func refund(orderID: OrderID, amount: Money) async throws -> Order {
        let (now, actor) = (clock.now(), AuditActor.current)
        return try await store.write { [self] tx in
            guard let order = try tx.order(orderID) else { throw EngineError.notFound("order \(orderID)") }
            guard amount.isPositive else { throw EngineError.invalid(ValidationError(field: "amount", message: "must be positive")) }
            guard amount <= order.refundableAmount else {
                throw EngineError.refused("a refund of \(amount) exceeds the \(order.refundableAmount) refundable on order \(orderID)")
            }
            let refunded = try refusing { try order.applying(.refund(amount), now: now) }
            try audit(actor, "order.refund", orderID.rawValue, merchant: order.merchantID, detail: "\(amount)", tx: tx, now: now)
            try Ledger.submit(PurchaseTransfers.refund(of: order, amount: amount, now: now), now: now, storage: tx)
            try tx.updateOrder(refunded)
            try tx.incrementFunnel(offer: order.offerID, metric: FunnelMetric.salesRefunded.rawValue, by: amount.minorUnits, at: now)
            if let purchase = try tx.purchase(order.purchaseID), let offer = try tx.offer(order.offerID) {
                try notifyRefunded(refunded, amount: amount, purchase: purchase, offer: offer, tx: tx, now: now)
            }
            try tx.addMerchantEvent(MerchantEvent(merchantID: order.merchantID, type: .orderRefunded, objectID: order.id.rawValue,
                                                  discriminator: String(refunded.refundCount), createdAt: now))
            return refunded
        }
    }

    func refusing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as OrderTransitionError { throw EngineError.refused(error.description) }
    }
}
