import HashcartCore

/// The issuer's changes to the accounts it keeps: credit limits, and closing card accounts and
/// merchants. Each is one transaction with its audit line; none deletes anything.
extension Engine {
    /// Moves a card account's credit limit to `limit`, as a ledger transfer on its credit line:
    /// a raise is available at once; a cut is refused (nothing changes) when the cardholder has
    /// used or holds more than the new limit leaves. The cardholder is told either way it goes.
    @discardableResult
    public func setCreditLimit(cardAccountID: CardAccountID, to limit: Money) async throws -> CardAccount {
        guard limit.currency == .usd, limit.minorUnits >= 0, limit <= CardAccount.maximumCreditLimit else {
            throw EngineError.invalid(ValidationError(field: "credit_limit", message: "must be between 0 and \(CardAccount.maximumCreditLimit)"))
        }
        let (now, actor, changeID) = (clock.now(), AuditActor.current, ids.next(prefix: "lim"))
        return try await store.write { [self] tx in
            guard var card = try tx.cardAccountForUpdate(cardAccountID) else { throw EngineError.notFound("card account \(cardAccountID)") }
            guard card.closedAt == nil else { throw EngineError.refused("card account \(cardAccountID) is closed; its limit cannot change") }
            let old = card.creditLimit
            guard let transfer = PurchaseTransfers.creditLimitChange(card: card.id, from: old, to: limit, changeID: changeID, now: now) else {
                return card  // already that limit: nothing to move or record
            }
            do {
                try Ledger.submit([transfer], now: now, storage: tx, knownNew: true)
            } catch LedgerError.exceedsCredits {
                let line = try tx.ledgerAccount(LedgerAccounts.creditLine(card.id).id)
                let used = (line?.debitsPosted ?? 0) + (line?.debitsPending ?? 0)
                throw EngineError.refused("card account \(card.id) has \(Money.usd(used)) in purchases and holds against its limit; "
                                          + "the limit cannot go below what it leaves (at least \(Money.usd(old.minorUnits - (line?.availableCredit ?? 0))))")
            }
            card.creditLimit = limit
            try tx.updateCardAccount(card)
            try audit(actor, "cardholder.credit_limit", card.id.rawValue, merchant: nil, detail: "from \(old) to \(limit)", tx: tx, now: now)
            try tx.addCardholderNotification(CardholderNotification(
                id: "ntf_limit_\(changeID)", cardAccountID: card.id, purchaseID: nil, kind: "credit_limit",
                message: "Your credit limit for social purchases changed from \(old) to \(limit).", createdAt: now))
            return card
        }
    }

    /// Closes a card account: its credit line takes no new holds (purchases on it are declined
    /// ``DeclineReason/cardClosed``), its links end and the purchases they were still waiting to
    /// confirm are cancelled. Refunds and statement credits still reach it, and holds placed
    /// before settle as usual. Closing a closed account changes nothing.
    @discardableResult
    public func closeCardAccount(_ cardAccountID: CardAccountID, reason: String) async throws -> CardAccount {
        try validate { try Validate.text(reason, field: "reason", maxLength: 200) }
        let (now, actor) = (clock.now(), AuditActor.current)
        return try await store.write { [self] tx in
            guard var card = try tx.cardAccountForUpdate(cardAccountID) else { throw EngineError.notFound("card account \(cardAccountID)") }
            guard card.closedAt == nil else { return card }
            card.closedAt = now
            try tx.updateCardAccount(card)
            let lineID = LedgerAccounts.creditLine(card.id).id
            guard let line = try tx.ledgerAccount(lineID) else { throw LedgerError.accountNotFound(lineID) }
            try tx.setLedgerAccountFlags(lineID, line.flags.union(.closed))
            for link in try tx.activeLinks(cardAccountID: card.id) {
                try endLink(link, tx: tx, now: now)
            }
            try audit(actor, "cardholder.close", card.id.rawValue, merchant: nil, detail: reason, tx: tx, now: now)
            try tx.addCardholderNotification(CardholderNotification(
                id: "ntf_closed_\(card.id)", cardAccountID: card.id, purchaseID: nil, kind: "closed",
                message: "Your card account was closed for social purchases; your links have ended. Orders already placed are not affected.",
                createdAt: now))
            return card
        }
    }

    /// The most offers ``closeMerchant(_:reason:)`` ends in its one transaction.
    public static let maximumOffersEndedByClose = 10_000

    /// Closes a merchant: every offer it has not ended ends now (freeing its hashtag, telling its
    /// waitlist no; a purchase still in its confirmation window is declined when confirmed), and it
    /// can start no new offers. Its orders can still be shipped, cancelled and refunded, and
    /// settlement still pays what it is owed. Closing a closed merchant changes nothing.
    @discardableResult
    public func closeMerchant(_ merchantID: MerchantID, reason: String) async throws -> Merchant {
        try validate { try Validate.text(reason, field: "reason", maxLength: 200) }
        let (now, actor) = (clock.now(), AuditActor.current)
        let merchant = try await store.write { [self] tx in
            guard var merchant = try tx.merchant(merchantID) else { throw EngineError.notFound("merchant \(merchantID)") }
            guard merchant.closedAt == nil else { return merchant }
            let bound = Self.maximumOffersEndedByClose
            let offerIDs = try tx.unendedOffers(merchant: merchantID, limit: bound + 1)
            guard offerIDs.count <= bound else {
                throw EngineError.refused("merchant \(merchantID) has more than \(bound) offers not ended; end some first")
            }
            merchant.closedAt = now
            try tx.updateMerchant(merchant)
            for id in offerIDs {
                guard var offer = try tx.offer(id) else { continue }
                offer.lifecycle = .ended
                try tx.updateOffer(offer)
                try endedOffer(offer, tx: tx, now: now)
            }
            try audit(actor, "merchant.close", merchantID.rawValue, merchant: merchantID,
                      detail: "\(reason) (\(offerIDs.count) offer\(offerIDs.count == 1 ? "" : "s") ended)", tx: tx, now: now)
            return merchant
        }
        announcementsCheckedAt.withLock { $0 = nil }
        return merchant
    }

    /// Whether the issuer closed the card account, read from its credit line's flags (read fresh
    /// in every transaction, where card accounts themselves may come from a cache).
    func isCardClosed(_ id: CardAccountID, tx: any StoreTransaction) throws -> Bool {
        try tx.ledgerAccount(LedgerAccounts.creditLine(id).id)?.flags.contains(.closed) == true
    }

    func refuseIfClosed(_ id: CardAccountID, tx: any StoreTransaction) throws {
        if try isCardClosed(id, tx: tx) { throw EngineError.refused("card account \(id) is closed and can link no account") }
    }
}
