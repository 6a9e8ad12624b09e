import HashcartCore
import Synchronization

/// The engine: turns network events into purchases, orders and ledger transfers, and sends the
/// replies they call for. It holds no state of its own: everything lives in the store, so an
/// engine can crash at any instruction and a new one carries on where the last commit left off.
///
/// A purchase's path: ``ingest(_:)`` a post with an offer's hashtag (reserve a unit, queue the
/// confirmation reply) → ``dispatchOutbox()`` (post it; the window starts) → ``ingest(_:)`` the
/// buyer's repost (authorize, create the order) → ``dispatchOutbox()`` ("confirmed, ref …").
/// ``runTimers()`` expires unconfirmed purchases and lapsed holds.
public final class Engine: Sendable {
    public let store: any EngineStore
    public let connector: any NetworkConnector
    public let clock: any WallClock
    public let ids: any IDGenerator
    /// The tax tables purchases are priced with, each from its effective day.
    public let taxSchedule: TaxSchedule
    public let configuration: EngineConfiguration
    /// When the connector was last told the engine's interest.
    let interestRefreshedAt = Mutex<Instant?>(nil)
    /// When live offers were last looked at for announcing (at most once a second).
    let announcementsCheckedAt = Mutex<Instant?>(nil)

    public init(store: any EngineStore, connector: any NetworkConnector, clock: any WallClock, ids: any IDGenerator,
                taxTable: TaxRateTable, laterTaxTables: [TaxRateTable] = [], configuration: EngineConfiguration = EngineConfiguration()) async throws {
        self.store = store
        self.connector = connector
        self.clock = clock
        self.ids = ids
        self.taxSchedule = try TaxSchedule([taxTable] + laterTaxTables)
        self.configuration = try configuration.validated()
        try await store.write { tx in
            for state in USState.allCases { try tx.ensureLedgerAccount(LedgerAccounts.salesTaxPayable(state)) }
        }
    }

    var network: NetworkName { connector.network }

    /// The tax table in effect now.
    public var taxTable: TaxRateTable { taxSchedule.table(at: clock.now()) }

    // MARK: Operator

    /// Writes the audit line of `action` in `tx` when a person asked for it: `actor` is the
    /// task's ``AuditActor``, read before the transaction (whose closure runs on the store's own
    /// threads, where task-local values are not seen). Timers and network events have none.
    func audit(_ actor: AuditActor?, _ action: String, _ objectID: String, merchant: MerchantID?, detail: String = "",
               tx: any StoreTransaction, now: Instant) throws {
        guard let actor else { return }
        try tx.addAuditEntry(AuditEntry(actor: actor, action: action, objectID: objectID, merchantID: merchant, detail: detail, at: now))
    }

    /// Creates a merchant (and its payable account).
    @discardableResult
    public func createMerchant(name: String, discountRateBasisPoints: Int64 = 250, payoutAccount: PayoutAccount? = nil) async throws -> Merchant {
        let merchant = try validate {
            try Merchant(id: MerchantID(ids.next(prefix: "mer")), name: name, discountRateBasisPoints: discountRateBasisPoints,
                         createdAt: clock.now()).validated()
        }
        let actor = AuditActor.current
        try await store.write { [self] tx in
            try tx.insertMerchant(merchant)
            try audit(actor, "merchant.create", merchant.id.rawValue, merchant: merchant.id, detail: merchant.name, tx: tx, now: merchant.createdAt)
            if let payoutAccount {
                let set = try tx.setPayoutAccount(payoutAccount, merchant: merchant.id)
                precondition(set, "the merchant was just inserted")
            }
        }
        return merchant
    }

    /// Sets the bank account a merchant's settlement batches are paid to (nil removes it: its
    /// batches then wait in clearing until one is set).
    public func setPayoutAccount(merchantID: MerchantID, account: PayoutAccount?) async throws {
        let (actor, now) = (AuditActor.current, clock.now())
        guard try await store.write({ [self] tx in
            guard try tx.setPayoutAccount(account, merchant: merchantID) else { return false }
            try audit(actor, "merchant.payout_account", merchantID.rawValue, merchant: merchantID,
                      detail: account.map { "account ending \($0.last4)" } ?? "removed", tx: tx, now: now)
            return true
        }) else {
            throw EngineError.notFound("merchant \(merchantID)")
        }
    }

    /// Opens a card account with its credit line funded to `creditLimit`.
    @discardableResult
    public func createCardAccount(creditLimit: Money, billing: BillingAddress, cardLast4: String) async throws -> CardAccount {
        try await createCardAccounts([CardAccountDraft(creditLimit: creditLimit, billing: billing, cardLast4: cardLast4)])[0]
    }

    /// Opens many card accounts in one transaction (at most 10,000): bulk onboarding, the demo, benchmarks.
    public func createCardAccounts(_ drafts: [CardAccountDraft]) async throws -> [CardAccount] {
        guard drafts.count <= 10_000 else { throw EngineError.refused("at most 10000 card accounts per call") }
        let now = clock.now()
        let accounts = try drafts.map { draft in
            try validate {
                if let pan = draft.pan, pan.last4 != draft.cardLast4 {
                    throw ValidationError(field: "card_last4", message: "must be the last four digits of pan")
                }
                return try CardAccount(id: CardAccountID(ids.next(prefix: "card")), creditLimit: draft.creditLimit, billing: draft.billing,
                                       cardLast4: draft.cardLast4, createdAt: now,
                                       panFingerprint: draft.pan.map(store.cardFingerprint(of:))).validated()
            }
        }
        var fingerprints = Set<CardFingerprint>()
        for case let fingerprint? in accounts.map(\.panFingerprint) where !fingerprints.insert(fingerprint).inserted {
            throw EngineError.conflict("two card accounts in one call have the same card number")
        }
        let newFingerprints = fingerprints
        let actor = AuditActor.current
        try await store.write { [self] tx in
            for fingerprint in newFingerprints where try tx.cardAccount(fingerprint: fingerprint) != nil {
                throw EngineError.conflict("a card account with this card number already exists")
            }
            for account in accounts {
                try tx.insertCardAccount(account)
                try audit(actor, "cardholder.create", account.id.rawValue, merchant: nil, detail: "credit limit \(account.creditLimit)", tx: tx, now: now)
                try tx.ensureLedgerAccount(LedgerAccounts.creditLine(account.id))
                if account.creditLimit.isPositive {
                    try Ledger.submit([PurchaseTransfers.creditLimit(card: account.id, amount: account.creditLimit, sequence: 1, now: now)],
                                      now: now, storage: tx)
                }
            }
        }
        return accounts
    }

    /// Creates an offer. Its hashtag must not be in use by another offer that has not ended.
    @discardableResult
    public func createOffer(_ draft: OfferDraft) async throws -> Offer {
        let now = clock.now()
        let offer = try validate {
            try Offer(id: OfferID(ids.next(prefix: "offer")), merchantID: draft.merchantID, title: draft.title, sku: draft.sku,
                      price: draft.statementCredit?.credit ?? draft.price, taxCategory: draft.taxCategory, quantity: draft.quantity,
                      perCardholderLimit: draft.perCardholderLimit, startsAt: draft.startsAt ?? now,
                      endsAt: draft.endsAt ?? now.adding(seconds: 30 * 86_400), eligibleStates: draft.eligibleStates,
                      hashtag: try Hashtag(draft.hashtag).checkedForOffer(), captureMode: draft.captureMode,
                      confirmationWindowSeconds: draft.confirmationWindowSeconds, lifecycle: draft.publish ? .published : .draft,
                      createdAt: now, type: draft.type, statementCredit: draft.statementCredit, announce: draft.announce).validated()
        }
        let actor = AuditActor.current
        try await store.write { [self] tx in
            guard let merchant = try tx.merchant(offer.merchantID) else { throw EngineError.notFound("merchant \(offer.merchantID)") }
            guard merchant.closedAt == nil else { throw EngineError.refused("merchant \(offer.merchantID) is closed and can start no offers") }
            try audit(actor, "offer.create", offer.id.rawValue, merchant: offer.merchantID, detail: "\(offer.hashtag) at \(offer.price)", tx: tx, now: now)
            // An offer whose time is up gives its hashtag back.
            if var previous = try tx.offer(hashtagKey: offer.hashtag.key), previous.state(at: now) == .ended {
                previous.lifecycle = .ended
                try tx.updateOffer(previous)
            }
            // Unique among open offers by how it looks, not only by its key: a look-alike of an
            // open offer's tag is a conflict naming that tag (bounded by the open offers).
            // Read inside the write, which writers take one at a time: two merchants racing with
            // look-alike tags cannot both pass.
            let skeleton = offer.hashtag.skeleton
            for key in try tx.openHashtagKeys(now: now, limit: ConnectorInterest.maximumHashtags) where key != offer.hashtag.key {
                if let open = try tx.offer(hashtagKey: key), open.state(at: now) != .ended, open.hashtag.skeleton == skeleton {
                    throw EngineError.conflict("hashtag \(offer.hashtag) looks like \(open.hashtag), the tag of an open offer")
                }
            }
            try tx.insertOffer(offer)
        }
        announcementsCheckedAt.withLock { $0 = nil }  // a new offer may be live now: look at once
        return offer
    }

    /// Pauses, resumes (publishes) or ends an offer.
    @discardableResult
    public func setLifecycle(of offerID: OfferID, to lifecycle: OfferLifecycle) async throws -> Offer {
        let (now, actor) = (clock.now(), AuditActor.current)
        return try await store.write { [self] tx in
            guard var offer = try tx.offer(offerID) else { throw EngineError.notFound("offer \(offerID)") }
            guard offer.lifecycle != .ended else { throw EngineError.refused("offer \(offerID) has ended and cannot change") }
            try audit(actor, "offer.\(lifecycle.rawValue)", offerID.rawValue, merchant: offer.merchantID, tx: tx, now: now)
            offer.lifecycle = lifecycle
            if lifecycle == .published { announcementsCheckedAt.withLock { $0 = nil } }  // look again at once
            try tx.updateOffer(offer)
            if lifecycle == .ended {
                try endedOffer(offer, tx: tx, now: now)
            } else {
                try giveWaitlistTurns(offerID: offer.id, tx: tx, now: now)  // resumed: units may be free
            }
            return try tx.offer(offer.id) ?? offer
        }
    }

    /// What follows an offer's end: the merchant hears of it, and its waitlist is told no.
    func endedOffer(_ offer: Offer, tx: any StoreTransaction, now: Instant) throws {
        try tx.addMerchantEvent(MerchantEvent(merchantID: offer.merchantID, type: .offerEnded, objectID: offer.id.rawValue, createdAt: now))
        try closeWaitlist(try tx.waitlist(offer: offer.id, limit: 10_000), offer: offer, tx: tx, now: now)
    }

    /// The issuer's risk limits for one offer: each one set replaces the issuer-wide limit for
    /// purchases of that offer (within ``RiskPolicy``'s bounds); an empty set follows the issuer.
    @discardableResult
    public func setRisk(of offerID: OfferID, to overrides: RiskOverrides) async throws -> Offer {
        let overrides = try validate { try overrides.validated() }
        let (now, actor) = (clock.now(), AuditActor.current)
        return try await store.write { [self] tx in
            guard var offer = try tx.offer(offerID) else { throw EngineError.notFound("offer \(offerID)") }
            try audit(actor, "offer.risk", offerID.rawValue, merchant: offer.merchantID, detail: "\(overrides)", tx: tx, now: now)
            offer.risk = overrides
            try tx.updateOffer(offer)
            return offer
        }
    }

    /// The issuer's per-offer kill switch: while on, every purchase and confirmation is declined.
    public func setKillSwitch(of offerID: OfferID, on: Bool) async throws {
        let (now, actor) = (clock.now(), AuditActor.current)
        try await store.write { [self] tx in
            guard var offer = try tx.offer(offerID) else { throw EngineError.notFound("offer \(offerID)") }
            try audit(actor, on ? "offer.kill_switch.on" : "offer.kill_switch.off", offerID.rawValue, merchant: offer.merchantID, tx: tx, now: now)
            offer.killSwitch = on
            try tx.updateOffer(offer)
            if !on { try giveWaitlistTurns(offerID: offerID, tx: tx, now: now) }
        }
    }

    /// The issuer's kill switch for everything in this mode: while on, every purchase post,
    /// confirmation and card-linked load is declined (credits already earned stand, and loaded
    /// offers still earn by their terms). `reason` is kept for the audit trail.
    public func setIssuerKillSwitch(on: Bool, reason: String) async throws {
        let reason = try validate { () throws -> String in
            try Validate.text(reason, field: "reason", maxLength: 200)
            return reason
        }
        let (now, actor) = (clock.now(), AuditActor.current)
        try await store.write { [self] tx in
            try tx.setIssuerKillSwitch(on, reason: reason, at: now)
            try audit(actor, on ? "kill_switch.on" : "kill_switch.off", "issuer", merchant: nil, detail: reason, tx: tx, now: now)
        }
    }

    /// The issuer's risk limits for every purchase in this mode from now on (validated; they
    /// replace the configured defaults, and stay across restarts).
    public func setIssuerRiskPolicy(_ policy: RiskPolicy) async throws {
        let policy = try validate { try policy.validated() }
        let (now, actor) = (clock.now(), AuditActor.current)
        try await store.write { [self] tx in
            try tx.setIssuerRiskPolicy(policy, at: now)
            try audit(actor, "risk.set", "issuer", merchant: nil, detail: "\(policy)", tx: tx, now: now)
        }
    }

    // MARK: Linking

    /// A one-time code the cardholder posts from the identity to link (valid for a bounded time).
    public func requestLinkCode(cardAccountID: CardAccountID) async throws -> LinkCode {
        let now = clock.now()
        let code = LinkCode(code: "HC-" + ids.next(prefix: "").dropFirst().uppercased(), cardAccountID: cardAccountID,
                            network: network, expiresAt: now.adding(seconds: configuration.linkCodeLifetimeSeconds))
        try await store.write { [self] tx in
            guard try tx.cardAccount(cardAccountID) != nil else { throw EngineError.notFound("card account \(cardAccountID)") }
            try refuseIfClosed(cardAccountID, tx: tx)
            try tx.insertLinkCode(code)
        }
        return code
    }

    /// Links an identity proven by the network's OAuth (no code post needed).
    @discardableResult
    public func link(cardAccountID: CardAccountID, identity: SocialIdentity, at linkedAt: Instant? = nil) async throws -> Link {
        try await link([(cardAccountID, identity)], at: linkedAt)[0]
    }

    /// Links many identities in one transaction (at most 10,000).
    @discardableResult
    public func link(_ pairs: [(CardAccountID, SocialIdentity)], at linkedAt: Instant? = nil) async throws -> [Link] {
        guard pairs.count <= 10_000 else { throw EngineError.refused("at most 10000 links per call") }
        let links = pairs.map { card, identity in
            Link(id: LinkID(ids.next(prefix: "lnk")), cardAccountID: card, identity: identity, createdAt: linkedAt ?? clock.now())
        }
        try await store.write { [self] tx in
            var keys = BatchKeys(network: network)
            keys.cardAccountIDs = links.map(\.cardAccountID)
            try tx.prefetch(keys)
            for link in links {
                guard try tx.cardAccount(link.cardAccountID) != nil else { throw EngineError.notFound("card account \(link.cardAccountID)") }
                try refuseIfClosed(link.cardAccountID, tx: tx)
                try tx.insertLink(link)
            }
        }
        return links
    }

    /// Ends a link at once and cancels the purchases it was still waiting to confirm.
    public func unlink(cardAccountID: CardAccountID, network: NetworkName) async throws {
        let now = clock.now()
        try await store.write { [self] tx in
            guard let link = try tx.activeLink(cardAccountID: cardAccountID, network: network) else {
                throw EngineError.notFound("link of \(cardAccountID) on \(network)")
            }
            try endLink(link, tx: tx, now: now)
        }
    }

    /// Ends `link` and cancels the purchases it was still waiting to confirm.
    func endLink(_ link: Link, tx: any StoreTransaction, now: Instant) throws {
        try tx.endLink(link.id, at: now)
        for listed in try tx.pendingPurchases(cardAccountID: link.cardAccountID, network: link.identity.network) {
            // Read again: cancelling one may already have ended another (a waitlist turn finds the link gone).
            guard let purchase = try tx.purchase(listed.id), purchase.state.holdsReservation || purchase.state == .waitlisted else { continue }
            try cancelUnconfirmed(purchase, reason: .unlinked, tx: tx, now: now)
        }
    }

    /// Runs validation, turning a ``ValidationError`` into ``EngineError/invalid(_:)``.
    func validate<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ValidationError { throw EngineError.invalid(error) }
    }
}

/// What the operator sets when opening a card account.
public struct CardAccountDraft: Sendable, Hashable {
    public var creditLimit: Money
    public var billing: BillingAddress
    public var cardLast4: String
    /// The card number, if the issuer gives it: only its fingerprint is kept (card-linked offers
    /// find the account by it), and `cardLast4` must be its last four digits.
    public var pan: PrimaryAccountNumber?

    public init(creditLimit: Money, billing: BillingAddress, cardLast4: String, pan: PrimaryAccountNumber? = nil) {
        self.creditLimit = creditLimit
        self.billing = billing
        self.cardLast4 = cardLast4
        self.pan = pan
    }
}

/// What a merchant sets when creating an offer; everything else has a default.
public struct OfferDraft: Sendable, Hashable {
    public var merchantID: MerchantID
    public var title: String
    public var sku: String
    public var price: Money
    public var hashtag: String
    public var taxCategory: TaxCategory = .general
    public var quantity: Int64?
    public var perCardholderLimit: Int64 = 1
    public var startsAt: Instant?
    public var endsAt: Instant?
    public var eligibleStates: Set<USState> = Set(USState.allCases)
    public var captureMode: CaptureMode = .onShipment
    public var confirmationWindowSeconds: Int64 = Offer.defaultConfirmationWindowSeconds
    public var publish = true
    /// ``OfferType/statementCredit`` with its terms for a card-linked offer (its price is then the
    /// credit amount, and it has no quantity: the budget bounds it).
    public var type: OfferType = .purchase
    public var statementCredit: StatementCreditTerms?
    /// Whether the issuer's official accounts announce the offer when it goes live.
    public var announce = true

    public init(merchantID: MerchantID, title: String, sku: String, price: Money, hashtag: String, quantity: Int64?) {
        self.merchantID = merchantID
        self.title = title
        self.sku = sku
        self.price = price
        self.hashtag = hashtag
        self.quantity = quantity
    }
}
