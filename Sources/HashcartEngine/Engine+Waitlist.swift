import HashcartCore

/// A sold-out offer's waitlist, as comment-to-buy sellers keep one.
///
/// A linked cardholder's post that finds the offer sold out (or with fewer units left than it
/// asks for) passes every other check, then joins the line instead of being declined: the public
/// reply gives its place. It holds no unit and no money. Whenever units come back — a
/// confirmation window closing unconfirmed, a cancellation, a confirmation declined inside its
/// window, an order cancelled before shipment — they go, in the same transaction, to the earliest
/// entries whose units fit (first come, first served; an entry asking for more than is free waits
/// and the next one that fits goes first). Each turn re-checks the cardholder as a new post would
/// be (kill switches, state, risk limits, credit), reserves the units and replies with a
/// confirmation request whose window starts when it is posted. The line closes when the offer
/// ends: entries still waiting are cancelled (`waitlist_closed`) and told so.
extension Engine {
    /// Most entries one release looks at: the whole line (turns are bounded by the free units).
    static let maximumWaitlistScan = 10_000
    /// Most offers with a waitlist the timers look at in one round.
    static let maximumWaitlistOffersPerRound = 20

    /// Puts `purchase` (just built from a post, not yet stored) into the offer's waitlist, or
    /// returns nil when the line is full.
    func joinWaitlist(_ purchase: Purchase, offer: Offer, card: CardAccount, tx: any StoreTransaction, now: Instant) throws -> EventOutcome? {
        let (length, lastJoinedAt) = try tx.waitlistLength(offer: offer.id)
        guard length < configuration.maximumWaitlistLength else { return nil }
        var waiting = purchase
        waiting.state = .waitlisted
        // The line is ordered by when each joined: a batch's posts share one `now`, so each joins a
        // millisecond after the one before it, and the place it is told is the place it gets.
        if let lastJoinedAt, lastJoinedAt >= waiting.requestedAt { waiting.requestedAt = lastJoinedAt.adding(milliseconds: 1) }
        waiting.expiresAt = max(offer.endsAt, now)  // the line closes when the offer ends
        try tx.insertPurchase(waiting)
        try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.waitlisted.rawValue, by: 1, at: now)
        let position = length + 1
        try tx.addCardholderNotification(CardholderNotification(
            id: "ntf_waitlisted_\(waiting.id)", cardAccountID: card.id, purchaseID: waiting.id, kind: "waitlisted",
            message: "\(offer.title) (ref \(waiting.reference)) is sold out for now; you are number \(position) in line. If units free up before the offer ends, we will reply to your post with your turn. Nothing is reserved or charged until you repost that reply.",
            createdAt: now))
        try enqueueReply(.waitlisted(handle: waiting.identity.handle, title: offer.title, position: position), purpose: .waitlisted,
                         key: "waitlisted:\(waiting.id)", inReplyTo: waiting.purchasePostID, purchase: waiting, card: card, tx: tx, now: now)
        return .waitlisted(waiting.id, position: position)
    }

    /// Gives the offer's free units to its waitlist, earliest first, while they fit. Nothing
    /// happens while the offer is not live or a kill switch is on (the entries keep waiting; the
    /// timers try again). Returns how many turns were given.
    @discardableResult
    func giveWaitlistTurns(offerID: OfferID, tx: any StoreTransaction, now: Instant) throws -> Int {
        guard var offer = try tx.offer(offerID), offer.quantity != nil, var available = offer.availableUnits, available > 0,
            offer.state(at: now) == .live, !offer.killSwitch, !(try tx.issuerKillSwitchIsOn())
        else { return 0 }
        var turns = 0
        for waiting in try tx.waitlist(offer: offer.id, limit: Self.maximumWaitlistScan) where waiting.units <= available {
            guard let card = try tx.cardAccount(waiting.cardAccountID) else { throw EngineError.notFound("card account \(waiting.cardAccountID)") }
            guard let link = try tx.activeLink(network: waiting.identity.network, userID: waiting.identity.userID),
                link.cardAccountID == card.id
            else {
                // Unlinking cancels what waits; a link to another card is not this cardholder's turn.
                try cancelUnconfirmed(waiting, reason: .unlinked, tx: tx, now: now)
                continue
            }
            if let reason = try declineReason(offer: offer, card: card, link: link, request: .units(waiting.units), total: waiting.total,
                                              waiting: waiting, tx: tx, now: now) {
                let declined = try waiting.applying(.decline(reason), now: now)
                try tx.updatePurchase(declined)
                try recordDecline(declined, offer: offer, card: card, tx: tx, now: now)
                continue
            }
            let turned = try waiting.applying(.waitlistTurn, now: now)
            offer.reservedUnits += turned.units
            available -= turned.units
            try tx.updateOffer(offer)
            try tx.updatePurchase(turned)
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.waitlistTurns.rawValue, by: 1, at: now)
            try tx.addCardholderNotification(CardholderNotification(
                id: "ntf_turn_\(turned.id)", cardAccountID: card.id, purchaseID: turned.id, kind: "waitlist_turn",
                message: "Your turn for \(offer.title) (ref \(turned.reference)): \(turned.total) with tax. Repost our reply to your post within \(OutboundMessage.minutes(turned.confirmationWindowSeconds)) to buy.",
                createdAt: now))
            // A confirmation request like any other: the window starts when the network has it.
            try enqueueReply(.waitlistTurn(handle: turned.identity.handle, title: offer.title, units: turned.units, total: turned.total,
                                           windowSeconds: turned.confirmationWindowSeconds, reference: turned.reference),
                             purpose: .confirmationRequest, key: "confirm-request:\(turned.id)", inReplyTo: turned.purchasePostID,
                             purchase: turned, card: card, tx: tx, now: now)
            turns += 1
            if available == 0 { break }
        }
        return turns
    }

    /// Closes the waitlist of an offer that ended: every entry is cancelled and told so.
    func closeWaitlist(_ entries: [Purchase], offer: Offer, tx: any StoreTransaction, now: Instant) throws {
        for waiting in entries where waiting.state == .waitlisted {
            let closed = try waiting.applying(.cancel(.waitlistClosed), now: now)
            try tx.updatePurchase(closed)
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.waitlistClosed.rawValue, by: 1, at: now)
            let card = try tx.cardAccount(closed.cardAccountID)
            try tx.addCardholderNotification(CardholderNotification(
                id: "ntf_waitlist_closed_\(closed.id)", cardAccountID: closed.cardAccountID, purchaseID: closed.id, kind: "waitlist_closed",
                message: "\(offer.title) (ref \(closed.reference)) ended before your turn in line came; nothing was charged.", createdAt: now))
            try enqueueReply(.waitlistClosed(handle: closed.identity.handle, title: offer.title), purpose: .waitlistClosed,
                             key: "waitlist-closed:\(closed.id)", inReplyTo: closed.purchasePostID, purchase: closed, card: card, tx: tx, now: now)
        }
    }

    /// The timers' part: lines of offers that ended are closed (an offer whose end moved later
    /// keeps its line open until then), and offers with free units and a line give turns that no
    /// release gave (the offer was paused, or a kill switch was on, when the units came back).
    func runWaitlistTimers(tx: any StoreTransaction, now: Instant) throws -> (closed: Int, turns: Int) {
        var closed = 0
        for waiting in try tx.waitlistedDueToClose(before: now, network: network, limit: configuration.maximumTimersPerRound) {
            guard let offer = try tx.offer(waiting.offerID) else { throw EngineError.notFound("offer \(waiting.offerID)") }
            if offer.state(at: now) != .ended, offer.endsAt > now {
                var extended = waiting
                extended.expiresAt = offer.endsAt
                try tx.updatePurchase(extended)
                continue
            }
            try closeWaitlist([waiting], offer: offer, tx: tx, now: now)
            closed += 1
        }
        var turns = 0
        for offerID in try tx.offersWithWaitlist(limit: Self.maximumWaitlistOffersPerRound) {
            turns += try giveWaitlistTurns(offerID: offerID, tx: tx, now: now)
        }
        return (closed, turns)
    }
}
