import HashcartCore

extension Engine {
    /// Most offers queued for announcing in one round.
    static let maximumAnnouncementsPerRound = 100
    /// Most of the merchant's recent buyers an announcement is checked against.
    static let maximumBuyersCheckedPerAnnouncement = 1_000

    /// Queues, once per network, the announcement of every offer that has gone live and wants
    /// announcing ("Kindle Fire HD $149.99 + tax with your linked card. Post #BuyKindleFireHD to
    /// buy. Qty limited."): a post of the official account's own, sent by ``dispatchOutbox()``
    /// under the idempotency key `announce:<offer>:<network>`, which is also the record that it
    /// was queued. A scheduled offer is announced by the first round after its start; a sold-out
    /// or ended one is not. Looks at most once a second (each engine, its own network).
    ///
    /// The text is the merchant's (its title), and the merchant has seen its buyers' shipping
    /// addresses: an announcement that would reveal the card digits, name, address, limit or
    /// balance of one of its recent buyers is not posted (its outbox row is kept as failed, with
    /// the reason and without the text, so it is not tried again).
    @discardableResult
    public func announceLiveOffers() async throws -> Int {
        let now = clock.now()
        let due = announcementsCheckedAt.withLock { last -> Bool in
            guard last.map({ $0.milliseconds(until: now) >= 1_000 || $0 > now }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return 0 }
        return try await store.write { [self] tx in
            // Nothing is announced while the issuer has stopped everything (nor an offer it stopped):
            // once the switch is off, the next look announces what is live then.
            guard !(try tx.issuerKillSwitchIsOn()) else { return 0 }
            var queued = 0
            for offer in try tx.offersToAnnounce(network: network, now: now, limit: Self.maximumAnnouncementsPerRound) {
                let text = offer.announcement
                var post = OutboundPost(key: "announce:\(offer.id):\(network)", network: network, inReplyTo: "", text: text,
                                        purpose: .announcement, purchaseID: nil, cardAccountID: nil, createdAt: now)
                if let refusal = try announcementRefusal(text, merchant: offer.merchantID, tx: tx) {
                    post.state = .failed
                    post.text = "[withheld]"  // the outbox keeps no copy of what it would have revealed
                    post.cardAccountID = refusal.card
                    post.lastError = "not posted: \(refusal.reason)"
                }
                try tx.enqueueOutbound(post)
                queued += post.state == .pending ? 1 : 0
            }
            return queued
        }
    }

    /// Why `text` may not be announced: it holds a card number, or the private data of one of the
    /// merchant's recent buyers (that buyer is named); nil when it may.
    func announcementRefusal(_ text: String, merchant: MerchantID, tx: any StoreTransaction) throws -> (reason: String, card: CardAccountID?)? {
        guard PrivacyGuard.violations(in: text, sensitive: nil).isEmpty else { return ("the text holds what looks like a card number", nil) }
        for id in try tx.recentBuyers(merchant: merchant, limit: Self.maximumBuyersCheckedPerAnnouncement) {
            guard let card = try tx.cardAccount(id) else { continue }
            let line = try tx.ledgerAccount(LedgerAccounts.creditLine(card.id).id)
            let sensitive = SensitiveData(cardLast4: card.cardLast4, billing: card.billing, creditLimit: card.creditLimit,
                                          availableCredit: .usd(line?.availableCredit ?? 0))
            // The merchant knows its buyers' names and shipping addresses (not their card digits,
            // limits or balances, which an ordinary price or year could match by chance).
            if PrivacyGuard.violations(in: text, sensitive: sensitive).contains(where: { $0 == .address || $0 == .billingName }) {
                return ("the text would reveal private data of one of the merchant's cardholders", card.id)
            }
        }
        return nil
    }
}
