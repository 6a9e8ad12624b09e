import HashcartCore

extension Engine {
    /// Processes network events, at most ``EngineConfiguration/maximumEventsPerBatch`` per store
    /// transaction (one fsync for the whole batch). Each event is keyed on (network, event id):
    /// a redelivered event is a no-op. Returns what each event did, in order.
    ///
    /// If a batch fails (a store error, a broken invariant), its events are retried one per
    /// transaction, so one poisonous event cannot block the rest; that event is recorded as
    /// rejected and never retried.
    @discardableResult
    public func ingest(_ events: [NetworkEvent], cursor: String? = nil) async throws -> [EventOutcome] {
        var outcomes: [EventOutcome] = []
        outcomes.reserveCapacity(events.count)
        let batches = stride(from: 0, to: events.count, by: configuration.maximumEventsPerBatch).map {
            Array(events[$0..<min($0 + configuration.maximumEventsPerBatch, events.count)])
        }
        for (index, batch) in batches.enumerated() {
            let batchCursor = index == batches.count - 1 ? cursor : nil
            let now = clock.now()
            do {
                outcomes += try await store.write { [self] tx in
                    try tx.prefetch(batchKeys(for: batch))
                    let results = try batch.map { try process($0, tx: tx, now: now) }
                    if let batchCursor { try tx.setCursor(network: network, cursor: batchCursor) }
                    return results
                }
            } catch {
                for event in batch {
                    do {
                        outcomes.append(try await store.write { [self] tx in try process(event, tx: tx, now: now) })
                    } catch {
                        let reason = "\(error)"
                        _ = try await store.write { tx in try tx.markEventProcessed(network: event.network, eventID: event.eventID, at: now) }
                        outcomes.append(.rejected(reason))
                    }
                }
                if let batchCursor { try await store.write { [self] tx in try tx.setCursor(network: network, cursor: batchCursor) } }
            }
        }
        return outcomes
    }

    /// Reads the next page of events from the connector after the stored cursor and ingests it;
    /// the new cursor commits with the events. Returns how many events the page held.
    @discardableResult
    public func pollNetwork(limit: Int = 1_000) async throws -> [EventOutcome] {
        precondition(limit > 0 && limit <= 10_000, "pages are bounded")
        try await refreshInterest()
        let cursor = try await store.write { [self] tx in try tx.cursor(network: network) }
        let page = try await connector.events(after: cursor, limit: limit)
        if page.events.isEmpty {
            if let next = page.nextCursor, next != cursor { try await store.write { [self] tx in try tx.setCursor(network: network, cursor: next) } }
            return []
        }
        return try await ingest(page.events, cursor: page.nextCursor)
    }

    /// Tells the connector what to keep (live offers' hashtags, authors of open purchases), at most
    /// once per ``EngineConfiguration/interestRefreshMilliseconds``.
    public func refreshInterest(force: Bool = false) async throws {
        let now = clock.now()
        let due = interestRefreshedAt.withLock { last -> Bool in
            guard force || last.map({ $0.milliseconds(until: now) >= configuration.interestRefreshMilliseconds || $0 > now }) ?? true
            else { return false }
            last = now
            return true
        }
        guard due else { return }
        let interest = try await store.connectorInterest(network: network, now: now)
        await connector.updateInterest(interest)
    }

    /// What a batch will look up (see ``BatchKeys``).
    func batchKeys(for batch: [NetworkEvent]) -> BatchKeys {
        var keys = BatchKeys(network: network)
        for event in batch where event.network == network {
            keys.eventIDs.append(event.eventID)
            if let target = event.referencedPostID {
                keys.referencedPostIDs.append(target)
                keys.purchaseIDs.append(Purchase.id(network: event.network, postID: target))
            }
            if event.kind == .post || event.kind == .reply || event.kind == .quote {
                let purchaseID = Purchase.id(network: event.network, postID: event.eventID)
                keys.purchaseIDs.append(purchaseID)
                keys.references.append(OrderReference.make(for: purchaseID))
                keys.authorUserIDs.append(event.author.userID)
            }
        }
        return keys
    }

    func process(_ incoming: NetworkEvent, tx: any StoreTransaction, now: Instant) throws -> EventOutcome {
        let event: NetworkEvent
        do {
            event = try incoming.validated()
        } catch {
            return .rejected(error.description)
        }
        guard try tx.markEventProcessed(network: event.network, eventID: event.eventID, at: now) else { return .duplicate }
        guard event.network == network else { return .rejected("event from \(event.network), engine runs \(network)") }
        // The official account's own posts (announcements, replies) come back on the stream: never purchases.
        guard event.author.userID != connector.officialAccountID else { return .ignored }
        return try handle(event, tx: tx, now: now)
    }

    /// Handles an event already recorded as processed (also used for parked events).
    func handle(_ event: NetworkEvent, tx: any StoreTransaction, now: Instant) throws -> EventOutcome {
        switch event.kind {
        case .repost:
            let target = event.referencedPostID!
            if let purchase = try tx.purchase(network: event.network, confirmationPostID: target) {
                return try handleConfirmation(event, purchase: purchase, tx: tx, now: now)
            }
            if event.referencedAuthorID == connector.officialAccountID {
                // Sharing an announcement buys nothing and waits for nothing.
                if try tx.isAnnouncement(network: event.network, postID: target) { return .ignored }
                try tx.parkEvent(event, at: now)
                return .parked
            }
            // A repost of someone else's post never buys; count it if it was a purchase post.
            if let purchase = try tx.purchase(Purchase.id(network: event.network, postID: target)) {
                try tx.incrementFunnel(offer: purchase.offerID, metric: FunnelMetric.foreignReposts.rawValue, by: 1, at: now)
                return .foreignRepost
            }
            return .ignored

        case .reply:
            let target = event.referencedPostID!
            if let purchase = try tx.purchase(network: event.network, confirmationPostID: target) {
                return try handleConfirmation(event, purchase: purchase, tx: tx, now: now)
            }
            if let code = Self.linkCode(in: event.text) { return try handleLinkCode(code, event: event, tx: tx, now: now) }
            if event.referencedAuthorID == connector.officialAccountID, try offerFor(event, tx: tx) == nil,
                !(try tx.isAnnouncement(network: event.network, postID: target))
            {
                try tx.parkEvent(event, at: now)
                return .parked
            }
            return try handlePost(event, tx: tx, now: now)

        case .post, .quote:
            if let code = Self.linkCode(in: event.text) { return try handleLinkCode(code, event: event, tx: tx, now: now) }
            return try handlePost(event, tx: tx, now: now)

        case .delete:
            let target = event.referencedPostID!
            if let purchase = try tx.purchase(Purchase.id(network: event.network, postID: target)),
                purchase.identity.userID == event.author.userID
            {
                if purchase.state == .waitlisted {
                    // No turn was given, so no confirmation can be on its way: it leaves the line now.
                    try tx.recordDeletedPost(network: event.network, postID: target, at: event.createdAt)
                    try cancelUnconfirmed(purchase, reason: .postDeleted, tx: tx, now: now)
                    return .purchaseCancelled(purchase.id)
                }
                if purchase.state.holdsReservation {
                    // Networks reorder: a repost made before this delete may still be on its way,
                    // and it buys. So the purchase keeps its unit until its window closes; a
                    // confirmation made after the delete cancels it, and so does the expiry timer.
                    try tx.recordDeletedPost(network: event.network, postID: target, at: event.createdAt)
                    return .postDeleted(purchase.id)
                }
                // Deleted before the repost, but delivered after it: the purchase was never confirmed.
                if purchase.state == .authorized || purchase.state == .captured, let confirmedAt = purchase.confirmedAt,
                    event.createdAt < confirmedAt, let order = try tx.order(Order.id(for: purchase.id)), order.status == .created
                {
                    try cancelConfirmed(purchase, order: order, reason: .postDeleted, tx: tx, now: now)
                    return .purchaseCancelled(purchase.id)
                }
                return .ignored
            }
            // Deleted before we saw it (events arrive out of order): remember, so the post never buys.
            try tx.recordDeletedPost(network: event.network, postID: target, at: event.createdAt)
            return .ignored
        }
    }

    func offerFor(_ event: NetworkEvent, tx: any StoreTransaction) throws -> Offer? {
        for tag in event.normalizedHashtags {
            if let offer = try tx.offer(hashtagKey: tag.key) { return offer }
        }
        return nil
    }

    // MARK: Purchase posts

    func handlePost(_ event: NetworkEvent, tx: any StoreTransaction, now: Instant) throws -> EventOutcome {
        guard let offer = try offerFor(event, tx: tx) else { return .ignored }
        try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.posts.rawValue, by: 1, at: now)
        if try tx.recordAuthor(offer: offer.id, identity: event.author) {
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.uniqueAuthors.rawValue, by: 1, at: now)
        }
        if event.kind == .quote {
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.quotes.rawValue, by: 1, at: now)
            return .quoteCounted(offer.id)
        }
        guard !(try tx.isPostDeleted(network: event.network, postID: event.eventID)) else { return .ignored }
        let purchaseID = Purchase.id(network: event.network, postID: event.eventID)
        guard try tx.purchase(purchaseID) == nil else { return .ignored }

        guard let link = try tx.activeLink(network: event.network, userID: event.author.userID) else {
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.unlinkedPosts.rawValue, by: 1, at: now)
            let invited = try tx.claimInvitation(network: event.network, userID: event.author.userID, now: now)
            if invited {
                try enqueueReply(.linkInvitation(handle: event.author.handle), purpose: .linkInvitation,
                                 key: "invite:\(event.network):\(event.eventID)", inReplyTo: event.eventID, purchase: nil,
                                 card: nil, tx: tx, now: now)
            }
            return .unlinkedPost(offer.id, invited: invited)
        }
        try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.linkedPosts.rawValue, by: 1, at: now)
        guard let card = try tx.cardAccount(link.cardAccountID), let merchant = try tx.merchant(offer.merchantID) else {
            throw EngineError.notFound("card account or merchant of offer \(offer.id)")
        }
        if offer.type == .statementCredit { return try handleLoad(event, offer: offer, card: card, tx: tx, now: now) }

        // `#Tag x2`: the units asked for (one unless written); an unreadable quantity declines below.
        let request = PurchaseQuantity.request(in: event.text, hashtagKey: offer.hashtag.key)
        let units = min(request.units ?? 1, PurchaseQuantity.maximumWritten)
        let quote = taxSchedule.table(at: now).quote(unitPrice: offer.price, quantity: units, category: offer.taxCategory, state: card.billing.state,
                                   zip5: card.billing.zip5)
        let amount = try offer.price.multiplied(by: units)
        let total = try amount.adding(quote.tax)
        var purchase = Purchase(
            id: purchaseID, offerID: offer.id, merchantID: offer.merchantID, cardAccountID: card.id, identity: event.author,
            purchasePostID: event.eventID, reference: try uniqueReference(for: purchaseID, tx: tx), unitPrice: offer.price, units: units,
            tax: quote.tax, total: total, fee: merchant.fee(on: amount), taxRatePartsPerMillion: quote.ratePartsPerMillion,
            taxTableVersion: quote.tableVersion, billingState: card.billing.state,
            confirmationWindowSeconds: offer.confirmationWindowSeconds, requestedAt: now,
            expiresAt: now.adding(seconds: offer.confirmationWindowSeconds))

        if let reason = try declineReason(offer: offer, card: card, link: link, request: request, total: total, tx: tx, now: now) {
            // Sold out, but everything else passed: wait in line for freed units. (With some units
            // left but fewer than asked, the post is declined: it can ask again for what is there.)
            if reason == .soldOut, let quantity = offer.quantity, units <= quantity, offer.state(at: now) != .ended,
                let outcome = try joinWaitlist(purchase, offer: offer, card: card, tx: tx, now: now)
            {
                return outcome
            }
            purchase = try purchase.applying(.decline(reason), now: now)
            try tx.insertPurchase(purchase)
            try recordDecline(purchase, offer: offer, card: card, tx: tx, now: now)
            return .declined(purchase.id, reason)
        }

        var reserved = offer
        reserved.reservedUnits += units
        try tx.updateOffer(reserved)
        try tx.insertPurchase(purchase)
        try enqueueReply(.confirmationRequest(handle: event.author.handle, title: offer.title, units: units, total: total,
                                              windowSeconds: offer.confirmationWindowSeconds, reference: purchase.reference),
                         purpose: .confirmationRequest, key: "confirm-request:\(purchase.id)", inReplyTo: event.eventID,
                         purchase: purchase, card: card, tx: tx, now: now)
        return .purchaseRequested(purchase.id)
    }

    /// The first rule a purchase attempt breaks, in a fixed order, or nil. Stock comes last, so a
    /// post that finds the offer sold out is declined ``DeclineReason/soldOut`` (or
    /// ``DeclineReason/notEnoughLeft``) only when it passes everything else: the waitlist takes it.
    /// `waiting` is a waitlisted purchase getting its turn: its own units and post are already
    /// counted in the card's usage, and are not counted twice.
    func declineReason(offer: Offer, card: CardAccount, link: Link, request: PurchaseQuantity.Request, total: Money,
                       waiting: Purchase? = nil, tx: any StoreTransaction, now: Instant) throws -> DeclineReason? {
        if try tx.issuerKillSwitchIsOn() { return .issuerKillSwitch }
        // Read fresh from the ledger (card accounts are cached): the issuer may have closed it.
        let line = try tx.ledgerAccount(LedgerAccounts.creditLine(card.id).id)
        if line?.flags.contains(.closed) == true { return .cardClosed }
        switch offer.state(at: now) {
        case .ended: return .offerEnded
        case .draft, .scheduled, .paused: return .offerNotLive
        case .live, .soldOut: break
        }
        guard let units = request.units else { return .quantityUnreadable }
        guard offer.eligibleStates.contains(card.billing.state) else { return .stateNotEligible }
        let usage = try tx.cardUsage(card: card.id, offer: offer.id, now: now)
        let postedLastHour = waiting.map { $0.requestedAt.milliseconds(until: now) < 3_600_000 ? 1 : 0 } ?? 0
        let context = RiskContext(offerKillSwitch: offer.killSwitch, linkAgeSeconds: link.ageSeconds(at: now),
                                  spentToday: usage.spentToday, purchasesLastHour: max(0, usage.purchasesLastHour - Int64(postedLastHour)),
                                  unitsOfOffer: max(0, usage.unitsOfOffer - (waiting?.units ?? 0)), attemptUnits: units,
                                  perCardholderLimit: offer.perCardholderLimit, attemptTotal: total)
        // The issuer's limits as set over the API, else the configured defaults; then the offer's own.
        if let reason = (try tx.issuerRiskPolicy() ?? configuration.risk).applying(offer.risk).evaluate(context) { return reason }
        guard let line, line.availableCredit >= total.minorUnits else { return .insufficientCredit }
        if let available = offer.availableUnits, available < units { return available <= 0 ? .soldOut : .notEnoughLeft }
        return nil
    }

    func recordDecline(_ purchase: Purchase, offer: Offer, card: CardAccount, tx: any StoreTransaction, now: Instant) throws {
        let reason = purchase.declineReason!
        try tx.incrementFunnel(offer: offer.id, metric: "\(FunnelMetric.declined.rawValue).\(reason.rawValue)", by: 1, at: now)
        try tx.addCardholderNotification(CardholderNotification(
            id: "ntf_declined_\(purchase.id)", cardAccountID: card.id, purchaseID: purchase.id, kind: "declined",
            message: "\(offer.title) (ref \(purchase.reference)) was declined: \(reason.cardholderMessage)", createdAt: now))
        try enqueueReply(.declined(handle: purchase.identity.handle, title: offer.title, hashtag: offer.hashtag, reason: reason.publicReason),
                         purpose: .declined, key: "declined:\(purchase.id)", inReplyTo: purchase.purchasePostID,
                         purchase: purchase, card: card, tx: tx, now: now)
    }

    func uniqueReference(for purchaseID: PurchaseID, tx: any StoreTransaction) throws -> String {
        for attempt in 0..<64 {
            let reference = OrderReference.make(for: purchaseID, attempt: attempt)
            if !(try tx.isReferenceTaken(reference)) { return reference }
        }
        throw EngineError.conflict("no free order reference for \(purchaseID) after 64 attempts")
    }

    // MARK: Confirmation

    func handleConfirmation(_ event: NetworkEvent, purchase: Purchase, tx: any StoreTransaction, now: Instant) throws -> EventOutcome {
        switch ConfirmationRule.evaluate(event, for: purchase) {
        case .foreignIdentity:
            try tx.incrementFunnel(offer: purchase.offerID, metric: FunnelMetric.foreignReposts.rawValue, by: 1, at: now)
            return .foreignRepost
        case .missingReference, .notAwaiting:
            return .confirmationIgnored(purchase.id)
        case .late:
            try tx.incrementFunnel(offer: purchase.offerID, metric: FunnelMetric.lateReposts.rawValue, by: 1, at: now)
            let card = try tx.cardAccount(purchase.cardAccountID)
            try enqueueReply(.lateRepost(handle: purchase.identity.handle, reference: purchase.reference), purpose: .lateRepost,
                             key: "late:\(purchase.id)", inReplyTo: purchase.purchasePostID, purchase: purchase, card: card,
                             tx: tx, now: now)
            return .lateRepost(purchase.id)
        case .confirms:
            // Deleting the purchase post before confirming cancels, whichever reached us first.
            if let deletedAt = try tx.postDeletedAt(network: purchase.identity.network, postID: purchase.purchasePostID),
                deletedAt < event.createdAt
            {
                try cancelUnconfirmed(purchase, reason: .postDeleted, tx: tx, now: now)
                return .purchaseCancelled(purchase.id)
            }
            return try confirm(purchase, repostedAt: event.createdAt, tx: tx, now: now)
        }
    }

    func confirm(_ purchase: Purchase, repostedAt: Instant, tx: any StoreTransaction, now: Instant) throws -> EventOutcome {
        guard var offer = try tx.offer(purchase.offerID), let card = try tx.cardAccount(purchase.cardAccountID) else {
            throw EngineError.notFound("offer or card account of purchase \(purchase.id)")
        }
        var confirmed = try purchase.applying(.confirm(repostedAt: repostedAt), now: now)
        try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.confirmed.rawValue, by: 1, at: now)
        if let confirmedAt = confirmed.confirmedAt {
            let took = confirmedAt.millisecondsSinceEpoch - purchase.requestedAt.millisecondsSinceEpoch
            try tx.incrementFunnel(offer: offer.id, metric: ConfirmationTime.metric(milliseconds: took), by: 1, at: now)
        }
        precondition(offer.reservedUnits >= purchase.units, "a purchase awaiting confirmation holds its reserved units")
        offer.reservedUnits -= purchase.units

        // Re-check what can change inside the window: the offer's state (ended or paused by the
        // merchant, or past its end, as of now: end and pause stop sales already in their window),
        // the kill switch, and credit (by the hold itself).
        var decline: DeclineReason?
        switch offer.state(at: now) {
        case .ended: decline = .offerEnded
        case .paused: decline = .offerPaused
        // Before its start only if this host's clock stepped back since the unit was reserved:
        // the offer was live then, and nobody stopped it.
        case .draft, .scheduled, .live, .soldOut:
            decline = try tx.issuerKillSwitchIsOn() ? .issuerKillSwitch : offer.killSwitch ? .offerKillSwitch : nil
        }
        let holdExpiresAt = now.adding(seconds: configuration.holdDurationSeconds)
        if decline == nil {
            do {
                // The purchase just moved to confirmed, which happens once: its hold is new.
                try Ledger.submit(PurchaseTransfers.authorization(of: confirmed, holdExpiresAt: holdExpiresAt, now: now),
                                  now: now, storage: tx, knownNew: true)
            } catch LedgerError.exceedsCredits {
                decline = .insufficientCredit
            } catch LedgerError.accountClosed {
                decline = .cardClosed
            }
        }
        if let decline {
            confirmed = try confirmed.applying(.decline(decline), now: now)
            try tx.updateOffer(offer)
            try tx.updatePurchase(confirmed)
            try recordDecline(confirmed, offer: offer, card: card, tx: tx, now: now)
            try giveWaitlistTurns(offerID: offer.id, tx: tx, now: now)
            return .declined(confirmed.id, decline)
        }

        var authorized = try confirmed.applying(.authorize(holdExpiresAt: holdExpiresAt), now: now)
        offer.soldUnits += authorized.units
        if let quantity = offer.quantity, offer.soldUnits == quantity {
            try tx.addMerchantEvent(MerchantEvent(merchantID: offer.merchantID, type: .offerSoldOut, objectID: offer.id.rawValue, createdAt: now))
        }
        try tx.updateOffer(offer)
        var order = Order(purchase: authorized, now: now)
        if offer.captureMode == .onConfirmation {
            try Ledger.submit(PurchaseTransfers.resolution(of: authorized, as: .postPending, now: now), now: now, storage: tx)
            authorized = try authorized.applying(.capture, now: now)
            order = try order.applying(.captured(order.total), now: now)
        }
        try tx.updatePurchase(authorized)
        try tx.insertOrder(order)
        try tx.addMerchantEvent(MerchantEvent(merchantID: order.merchantID, type: .orderCreated, objectID: order.id.rawValue, createdAt: now))
        for (metric, value) in [(FunnelMetric.orders, 1), (.unitsSold, order.units), (.revenue, order.amount.minorUnits), (.tax, order.tax.minorUnits)] {
            try tx.incrementFunnel(offer: offer.id, metric: metric.rawValue, by: value, at: now)
        }
        try tx.addCardholderNotification(CardholderNotification(
            id: "ntf_receipt_\(authorized.id)", cardAccountID: card.id, purchaseID: authorized.id, kind: "receipt",
            message: "Receipt \(order.reference): \(order.units > 1 ? "\(order.units) × \(offer.title) at \(order.unitPrice)" : offer.title), \(order.amount) + \(order.tax) tax = \(order.total). Ships to your billing address.",
            createdAt: now))
        try enqueueReply(.confirmed(handle: authorized.identity.handle, reference: authorized.reference), purpose: .confirmed,
                         key: "confirmed:\(authorized.id)", inReplyTo: authorized.purchasePostID, purchase: authorized, card: card,
                         tx: tx, now: now)
        return .confirmed(authorized.id)
    }

    /// Cancels a purchase still waiting for its confirmation (or in a waitlist) and gives its units
    /// back, to the waitlist first.
    func cancelUnconfirmed(_ purchase: Purchase, reason: CancellationReason, tx: any StoreTransaction, now: Instant) throws {
        guard var offer = try tx.offer(purchase.offerID) else { throw EngineError.notFound("offer \(purchase.offerID)") }
        let cancelled = try purchase.applying(.cancel(reason), now: now)
        try tx.updatePurchase(cancelled)
        try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.cancelled.rawValue, by: 1, at: now)
        try notifyCancelledBeforeConfirming(cancelled, offer: offer, reason: reason, tx: tx, now: now)
        guard purchase.state.holdsReservation else { return }  // a waitlisted purchase holds nothing
        precondition(offer.reservedUnits >= purchase.units, "a pending purchase holds its reserved units")
        offer.reservedUnits -= purchase.units
        try tx.updateOffer(offer)
        try giveWaitlistTurns(offerID: offer.id, tx: tx, now: now)
    }

    // MARK: Linking by code

    static func linkCode(in text: String) -> String? {
        guard text.contains("HC-") else { return nil }
        return text.split(whereSeparator: { $0.isWhitespace }).lazy
            .map { $0.trimmingCharacters(in: .punctuationCharacters.subtracting(.init(charactersIn: "-"))) }
            .first { $0.hasPrefix("HC-") && $0.count >= 8 && $0.count <= 40 }
    }

    func handleLinkCode(_ code: String, event: NetworkEvent, tx: any StoreTransaction, now: Instant) throws -> EventOutcome {
        guard let linkCode = try tx.linkCode(code) else { return .linkCodeRefused("unknown code") }
        guard linkCode.usedAt == nil else { return .linkCodeRefused("code already used") }
        guard now < linkCode.expiresAt else { return .linkCodeRefused("code expired") }
        guard linkCode.network == event.network else { return .linkCodeRefused("code is for \(linkCode.network)") }
        guard try !isCardClosed(linkCode.cardAccountID, tx: tx) else { return .linkCodeRefused("card account closed") }
        guard try tx.activeLink(network: event.network, userID: event.author.userID) == nil else {
            return .linkCodeRefused("identity already linked")
        }
        guard try tx.activeLink(cardAccountID: linkCode.cardAccountID, network: event.network) == nil else {
            return .linkCodeRefused("card account already linked on \(event.network)")
        }
        let link = Link(id: LinkID("lnk_\(event.network)_\(event.eventID)"), cardAccountID: linkCode.cardAccountID, identity: event.author,
                        createdAt: now)
        try tx.insertLink(link)
        try notifyLinked(link, how: "by posting your link code", tx: tx, now: now)
        try tx.markLinkCodeUsed(code, at: now)
        try enqueueReply(.linked(handle: event.author.handle), purpose: .linked, key: "linked:\(event.network):\(event.eventID)",
                         inReplyTo: event.eventID, purchase: nil, card: try tx.cardAccount(linkCode.cardAccountID), tx: tx, now: now)
        return .linked(linkCode.cardAccountID)
    }

    // MARK: Replies

    /// Queues a public reply after checking its text against the cardholder's private data.
    /// A confirmation request that would reveal something falls back to a text with no amount;
    /// any other unsafe text is not posted at all.
    func enqueueReply(_ message: OutboundMessage, purpose: OutboundPurpose, key: String, inReplyTo: String, purchase: Purchase?,
                      card: CardAccount?, tx: any StoreTransaction, now: Instant) throws {
        var sensitive: SensitiveData?
        if let card {
            let line = try tx.ledgerAccount(LedgerAccounts.creditLine(card.id).id)
            sensitive = SensitiveData(cardLast4: card.cardLast4, billing: card.billing, creditLimit: card.creditLimit,
                                      availableCredit: .usd(line?.availableCredit ?? 0))
        }
        var text = message.text
        if !PrivacyGuard.violations(in: text, sensitive: sensitive).isEmpty {
            let window: Int64, reference: String
            switch message {
            case .confirmationRequest(_, _, _, _, let w, let r), .waitlistTurn(_, _, _, _, let w, let r): (window, reference) = (w, r)
            default: return
            }
            text = OutboundMessage.minimalConfirmationRequest(windowSeconds: window, reference: reference).text
            guard PrivacyGuard.violations(in: text, sensitive: sensitive).isEmpty else { return }
        }
        // A reply about a purchase goes out on the purchase's network, whichever engine writes it.
        try tx.enqueueOutbound(OutboundPost(key: key, network: purchase?.identity.network ?? network, inReplyTo: inReplyTo, text: text, purpose: purpose,
                                            purchaseID: purchase?.id, cardAccountID: card?.id, createdAt: now))
    }
}

import Foundation
