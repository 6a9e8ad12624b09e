import HashcartCore

/// Card-linked offers: a linked identity's post of the hashtag loads the offer onto its card;
/// the issuer's card transactions then earn (and reversals claw back) the statement credit.
extension Engine {
    /// The most card transactions one call takes (one store transaction).
    public static let maximumCardTransactionsPerCall = 1_000
    /// The most purchases one reversal is matched against (same card, same retrieval reference).
    static let maximumPurchasesPerReference = 16

    // MARK: Loading by post

    /// A linked identity posted a card-linked offer's hashtag: load it onto the card, once.
    func handleLoad(_ event: NetworkEvent, offer: Offer, card: CardAccount, tx: any StoreTransaction, now: Instant) throws -> EventOutcome {
        guard let terms = offer.statementCredit else { preconditionFailure("a statement_credit offer \(offer.id) has its terms") }
        let stopped = try offer.killSwitch || tx.issuerKillSwitchIsOn()
        let refusal: (String, PublicDeclineReason)? = switch offer.state(at: now) {
        case .ended: ("offer ended", .offerEnded)
        case .draft, .scheduled, .paused: ("offer not live", .generic)
        case .live, .soldOut:
            if stopped {
                ("offer stopped by the issuer", .generic)
            } else if !offer.eligibleStates.contains(card.billing.state) {
                ("billing state not eligible", .generic)
            } else if offer.creditedTotal + terms.credit.minorUnits > terms.budget.minorUnits {
                ("budget spent", .soldOut)
            } else {
                nil
            }
        }
        let replyKey = "load:\(event.network):\(event.eventID)"
        if let (why, publicReason) = refusal {
            try tx.incrementFunnel(offer: offer.id, metric: "\(FunnelMetric.declined.rawValue).load_refused", by: 1, at: now)
            try enqueueReply(.declined(handle: event.author.handle, title: offer.title, hashtag: offer.hashtag, reason: publicReason), purpose: .declined,
                             key: replyKey, inReplyTo: event.eventID, purchase: nil, card: card, tx: tx, now: now)
            return .loadRefused(offer.id, why)
        }
        let load = StatementCreditLoad(offerID: offer.id, cardAccountID: card.id, loadedAt: now)
        guard try tx.insertStatementCreditLoad(load, network: event.network, postID: event.eventID) else {
            try enqueueReply(.creditAlreadyLoaded(handle: event.author.handle, title: offer.title), purpose: .creditLoaded, key: replyKey,
                             inReplyTo: event.eventID, purchase: nil, card: card, tx: tx, now: now)
            return .creditAlreadyLoaded(offer.id)
        }
        try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.loads.rawValue, by: 1, at: now)
        try tx.addCardholderNotification(CardholderNotification(
            id: "ntf_loaded_\(offer.id)_\(card.id)", cardAccountID: card.id, purchaseID: nil, kind: "credit_loaded",
            message: "\(offer.title) is loaded on your card ending \(card.cardLast4): spend \(terms.spendThreshold) or more by the end of "
                + "\(SettlementDay(containing: offer.endsAt.adding(milliseconds: -1))) (UTC) and get \(terms.credit) back, once.", createdAt: now))
        try enqueueReply(.creditLoaded(handle: event.author.handle, title: offer.title, threshold: terms.spendThreshold, credit: terms.credit),
                         purpose: .creditLoaded, key: replyKey, inReplyTo: event.eventID, purchase: nil, card: card, tx: tx, now: now)
        return .creditLoaded(offer.id, card.id)
    }

    // MARK: Card transactions

    /// Processes the issuer's card transactions in one store transaction, each once by its
    /// processing key (a redelivery is ``CardTransactionOutcome/duplicate`` and changes nothing).
    /// A malformed transaction refuses the whole call before anything changes.
    public func ingestCardTransactions(_ transactions: [CardTransaction]) async throws -> [CardTransactionOutcome] {
        guard transactions.count <= Self.maximumCardTransactionsPerCall else {
            throw EngineError.refused("at most \(Self.maximumCardTransactionsPerCall) card transactions per call")
        }
        let now = clock.now()
        let valid = try transactions.map { transaction in try validate { try transaction.validated(now: now) } }
        guard !valid.isEmpty else { return [] }
        return try await store.write { [self] tx in
            try valid.map { try processCardTransaction($0, tx: tx, now: now) }
        }
    }

    func processCardTransaction(_ transaction: CardTransaction, tx: any StoreTransaction, now: Instant) throws -> CardTransactionOutcome {
        guard !(try tx.cardTransactionExists(transaction.id)) else { return .duplicate }
        guard let card = try tx.cardAccount(fingerprint: transaction.card) else {
            try tx.insertCardTransaction(CardTransactionRecord(transaction: transaction, cardAccountID: nil, receivedAt: now, outcome: .unknownCard))
            return .unknownCard
        }
        switch transaction.kind {
        case .purchase: return try earnCredits(transaction, card: card, tx: tx, now: now)
        case .reversal: return try reverseCredits(transaction, card: card, tx: tx, now: now)
        }
    }

    /// A purchase: every loaded offer it qualifies for earns its credit, funded by the merchant.
    func earnCredits(_ transaction: CardTransaction, card: CardAccount, tx: any StoreTransaction, now: Instant) throws -> CardTransactionOutcome {
        var earned: [(StatementCredit, Offer)] = []
        for load in try tx.statementCreditLoads(card: card.id, limit: StatementCreditLoad.maximumReadPerCard) {
            guard var offer = try tx.offer(load.offerID), let terms = offer.statementCredit else { continue }
            let id = StatementCredit.id(offer: offer.id, card: card.id)
            let decision = StatementCreditRule.evaluate(transaction, offer: offer, terms: terms, load: load, credited: .usd(offer.creditedTotal),
                                                        alreadyEarned: try tx.statementCredit(id) != nil)
            switch decision {
            case .qualifies, .alreadyEarned, .budgetExhausted:
                try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.qualifyingTransactions.rawValue, by: 1, at: now)
            default:
                break
            }
            guard decision == .qualifies else { continue }
            offer.creditedTotal += terms.credit.minorUnits
            precondition(offer.creditedTotal <= terms.budget.minorUnits, "offer \(offer.id) pays out no more than its budget")
            try tx.updateOffer(offer)
            earned.append((StatementCredit(offerID: offer.id, merchantID: offer.merchantID, cardAccountID: card.id,
                                           transactionID: transaction.id, amount: terms.credit, earnedAt: now), offer))
        }
        try tx.insertCardTransaction(CardTransactionRecord(transaction: transaction, cardAccountID: card.id, receivedAt: now,
                                                           outcome: earned.isEmpty ? .noCredit : .credited))
        for (credit, offer) in earned {
            try tx.insertStatementCredit(credit)
            // New ids: the credit did not exist (checked above), and its transfers are named after it.
            try Ledger.submit(StatementCreditTransfers.earning(credit, now: now), now: now, storage: tx, knownNew: true)
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.creditsEarned.rawValue, by: 1, at: now)
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.creditTotal.rawValue, by: credit.amount.minorUnits, at: now)
            try tx.addMerchantEvent(MerchantEvent(merchantID: offer.merchantID, type: .statementCreditEarned, objectID: credit.id.rawValue,
                                                  createdAt: now))
            try tx.addCardholderNotification(CardholderNotification(
                id: "ntf_credit_\(credit.id)", cardAccountID: card.id, purchaseID: nil, kind: "credit_earned",
                message: "You earned \(credit.amount) back from \(offer.title): a statement credit on your card ending \(card.cardLast4).",
                createdAt: now))
        }
        return earned.isEmpty ? .noCredit : .credited
    }

    /// A reversal of an earlier purchase (same card, same retrieval reference): each credit that
    /// purchase earned is clawed back once what is left of the purchase is below the offer's
    /// threshold. A claw-back the credit line cannot take (the credit is spent) is refused whole:
    /// the credit stands, and the merchant is told.
    func reverseCredits(_ transaction: CardTransaction, card: CardAccount, tx: any StoreTransaction, now: Instant) throws -> CardTransactionOutcome {
        let purchases = try tx.cardPurchases(fingerprint: transaction.card, retrievalReference: transaction.retrievalReference,
                                             limit: Self.maximumPurchasesPerReference)
        guard let original = purchases.first(where: { $0.transaction.acceptorID == transaction.acceptorID }) ?? purchases.first else {
            try tx.insertCardTransaction(CardTransactionRecord(transaction: transaction, cardAccountID: card.id, receivedAt: now,
                                                               outcome: .reversalUnmatched))
            return .reversalUnmatched
        }
        let earlier = try tx.cardReversals(fingerprint: transaction.card, retrievalReference: transaction.retrievalReference,
                                           limit: Self.maximumPurchasesPerReference)
        let reversed = earlier.reduce(transaction.amount.minorUnits) { $0 + $1.transaction.amount.minorUnits }
        let remaining = max(0, original.transaction.amount.minorUnits - reversed)
        var outcome = CardTransactionOutcome.reversalKept
        for var credit in try tx.statementCredits(transaction: original.transaction.id) where credit.state == .earned {
            guard var offer = try tx.offer(credit.offerID), let terms = offer.statementCredit else { continue }
            guard remaining < terms.spendThreshold.minorUnits else { continue }
            do {
                try Ledger.submit(StatementCreditTransfers.clawback(credit, now: now), now: now, storage: tx, knownNew: true)
            } catch LedgerError.exceedsCredits {
                outcome = .clawbackRefused
                try tx.addMerchantEvent(MerchantEvent(merchantID: credit.merchantID, type: .statementCreditClawbackRefused,
                                                      objectID: credit.id.rawValue, createdAt: now))
                continue
            }
            credit.state = .reversed
            credit.reversedAt = now
            try tx.updateStatementCredit(credit)
            offer.creditedTotal -= credit.amount.minorUnits
            precondition(offer.creditedTotal >= 0, "offer \(offer.id) never claws back more than it credited")
            try tx.updateOffer(offer)
            if outcome != .clawbackRefused { outcome = .clawedBack }
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.creditsReversed.rawValue, by: 1, at: now)
            try tx.incrementFunnel(offer: offer.id, metric: FunnelMetric.creditTotal.rawValue, by: -credit.amount.minorUnits, at: now)
            try tx.addMerchantEvent(MerchantEvent(merchantID: credit.merchantID, type: .statementCreditReversed, objectID: credit.id.rawValue,
                                                  createdAt: now))
            try tx.addCardholderNotification(CardholderNotification(
                id: "ntf_clawback_\(credit.id)", cardAccountID: card.id, purchaseID: nil, kind: "credit_reversed",
                message: "The purchase that earned \(credit.amount) back from \(offer.title) was reversed, so the credit was taken back.",
                createdAt: now))
        }
        try tx.insertCardTransaction(CardTransactionRecord(transaction: transaction, cardAccountID: card.id, receivedAt: now, outcome: outcome))
        return outcome
    }
}
