import HashcartCore

/// What one timer round did.
public struct TimerSummary: Sendable, Hashable {
    public var expiredPurchases = 0
    /// Purchases whose post was deleted before any confirmation, cancelled as their window closed.
    public var cancelledForDeletedPosts = 0
    public var lapsedHolds = 0
    /// Waitlisted purchases whose offer ended, and turns given by the timers.
    public var closedWaitlistEntries = 0
    public var waitlistTurns = 0
}

extension Engine {
    /// Fires due timers from the store (they survive restarts): purchases of this engine's network
    /// (each network's engine expires its own, and replies on its own network) whose confirmation
    /// window closed (plus a grace for reposts in flight) release their unit; holds past their
    /// 7-day timeout are expired and their orders cancelled.
    @discardableResult
    public func runTimers() async throws -> TimerSummary {
        let now = clock.now()
        return try await store.write { [self] tx in
            var summary = TimerSummary()
            var releasedOffers = Set<OfferID>()
            let windowCutoff = now.adding(seconds: -configuration.expiryGraceSeconds)
            for purchase in try tx.purchasesDueToExpire(before: windowCutoff, network: network, limit: configuration.maximumTimersPerRound) {
                // Its post was deleted and no earlier repost came: cancelled, with no reply to a post that is gone.
                if try tx.postDeletedAt(network: purchase.identity.network, postID: purchase.purchasePostID) != nil {
                    try cancelUnconfirmed(purchase, reason: .postDeleted, tx: tx, now: now)
                    summary.cancelledForDeletedPosts += 1
                    continue
                }
                guard var offer = try tx.offer(purchase.offerID) else { throw EngineError.notFound("offer \(purchase.offerID)") }
                let expired = try purchase.applying(.expire, now: now)
                precondition(offer.reservedUnits >= purchase.units, "an open purchase holds its reserved units")
                offer.reservedUnits -= purchase.units
                try tx.updateOffer(offer)
                try tx.updatePurchase(expired)
                releasedOffers.insert(offer.id)
                try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.expired.rawValue, by: 1, at: now)
                try notifyExpired(expired, offer: offer, tx: tx, now: now)
                if expired.confirmationPostID != nil {
                    try enqueueReply(.expired(handle: expired.identity.handle, reference: expired.reference, hashtag: offer.hashtag),
                                     purpose: .expired, key: "expired:\(expired.id)", inReplyTo: expired.purchasePostID,
                                     purchase: expired, card: try tx.cardAccount(expired.cardAccountID), tx: tx, now: now)
                }
                summary.expiredPurchases += 1
            }
            for purchase in try tx.purchasesWithLapsedHolds(before: now, limit: configuration.maximumTimersPerRound) {
                try Ledger.submit(PurchaseTransfers.resolution(of: purchase, as: .expirePending, now: now), now: now, storage: tx)
                try tx.updatePurchase(try purchase.applying(.cancel(.holdExpired), now: now))
                try cancelOrder(of: purchase, refunding: .zero, reason: .holdExpired, tx: tx, now: now)
                summary.lapsedHolds += 1
            }
            // Units the expiries freed go to the waitlists (in a fixed order: replays are deterministic).
            for offerID in releasedOffers.sorted(by: { $0.rawValue < $1.rawValue }) {
                summary.waitlistTurns += try giveWaitlistTurns(offerID: offerID, tx: tx, now: now)
            }
            let (closed, turns) = try runWaitlistTimers(tx: tx, now: now)
            summary.closedWaitlistEntries = closed
            summary.waitlistTurns += turns
            return summary
        }
    }

    /// Marks the purchase's order cancelled, gives its units back (to the waitlist first) and tells the merchant.
    func cancelOrder(of purchase: Purchase, refunding: Money, reason: CancellationReason, tx: any StoreTransaction, now: Instant) throws {
        guard let order = try tx.order(Order.id(for: purchase.id)), var offer = try tx.offer(purchase.offerID) else {
            throw EngineError.notFound("order or offer of purchase \(purchase.id)")
        }
        try tx.updateOrder(try order.applying(.cancel(refunding: refunding), now: now))
        try notifyOrderCancelled(order, purchase: purchase, offer: offer, reason: reason, refunded: refunding, tx: tx, now: now)
        precondition(offer.soldUnits >= order.units, "a live order holds its sold units")
        offer.soldUnits -= order.units
        try tx.updateOffer(offer)
        try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.unitsSold.rawValue, by: -order.units, at: now)
        try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.ordersCancelled.rawValue, by: 1, at: now)
        // Never captured: the whole sale is voided; captured: what is refunded now comes back.
        let voided = order.capturedAmount.isPositive ? Money.zero : order.total
        for (metric, value) in [(FunnelMetric.salesVoided, voided.minorUnits), (.salesRefunded, refunding.minorUnits)] where value > 0 {
            try tx.incrementFunnel(offer: offer.id, metric: metric.rawValue, by: value, at: now)
        }
        try tx.addMerchantEvent(MerchantEvent(merchantID: order.merchantID, type: .orderCancelled, objectID: order.id.rawValue, createdAt: now))
        try giveWaitlistTurns(offerID: offer.id, tx: tx, now: now)
    }
}
