/// Where a purchase is. Terminal states: captured (money moved; the order carries on), expired,
/// declined and cancelled.
public enum PurchaseState: String, Sendable, Hashable, Codable, CaseIterable {
    /// In the offer's waitlist: it was sold out (or had too few units left) when the post came.
    /// Holds no unit and no money; when units free up it gets its turn (``PurchaseEvent/waitlistTurn``)
    /// and becomes ``requested`` with a fresh confirmation window. ``Purchase/expiresAt`` is when
    /// the line closes (the offer's end).
    case waitlisted
    /// Checks passed and its units reserved; the confirmation reply is queued for the network.
    case requested
    /// The confirmation reply is on the network; waiting for the cardholder's repost.
    case awaitingConfirmation = "awaiting_confirmation"
    /// The cardholder reposted in time; limits and credit are being re-checked.
    case confirmed
    /// A hold is on the credit line and the order exists.
    case authorized
    /// The hold was posted: the cardholder has been charged.
    case captured
    case expired
    case declined
    case cancelled

    public var isTerminal: Bool {
        switch self {
        case .captured, .expired, .declined, .cancelled: true
        default: false
        }
    }

    /// Holding a unit of stock without having bought it.
    public var holdsReservation: Bool { self == .requested || self == .awaitingConfirmation }

    /// Counted against per-cardholder limits and spend caps.
    public var countsTowardLimits: Bool {
        switch self {
        case .requested, .awaitingConfirmation, .confirmed, .authorized, .captured: true
        default: false
        }
    }
}

/// Why a purchase was cancelled.
public enum CancellationReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The cardholder deleted the purchase post before confirming.
    case postDeleted = "post_deleted"
    /// The cardholder unlinked the identity before confirming.
    case unlinked
    /// The cardholder cancelled before shipment.
    case cardholderCancelled = "cardholder_cancelled"
    /// The merchant cancelled before shipment.
    case merchantCancelled = "merchant_cancelled"
    /// The authorization hold timed out (7 days) before capture.
    case holdExpired = "hold_expired"
    /// The offer ended while the purchase waited in its waitlist.
    case waitlistClosed = "waitlist_closed"
}

/// Something that happens to a purchase. See ``Purchase/applying(_:now:)``.
public enum PurchaseEvent: Sendable, Hashable {
    /// Units freed up for a waitlisted purchase and were reserved for it: it becomes requested,
    /// and its confirmation window will start when the reply is posted.
    case waitlistTurn
    /// The confirmation reply was posted on the network as `postID`; the window starts now.
    case confirmationPosted(postID: String)
    /// The same identity reposted the confirmation reply (at the network's time `repostedAt`,
    /// which becomes ``Purchase/confirmedAt``).
    case confirm(repostedAt: Instant)
    /// The hold was placed; it lapses at `holdExpiresAt`.
    case authorize(holdExpiresAt: Instant)
    case capture
    case expire
    case decline(DeclineReason)
    case cancel(CancellationReason)
}

/// A transition the purchase state machine refuses.
public struct PurchaseTransitionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var purchaseID: PurchaseID
    public var state: PurchaseState
    public var event: String
    public var message: String

    public var description: String { "purchase \(purchaseID) is \(state.rawValue): \(message)" }
}

/// One cardholder's purchase of one or more units of an offer (`#Tag x2`, see ``PurchaseQuantity``),
/// started by one post.
public struct Purchase: Sendable, Hashable, Codable {
    public var id: PurchaseID
    public var offerID: OfferID
    public var merchantID: MerchantID
    public var cardAccountID: CardAccountID
    /// The identity that posted the hashtag; only it can confirm.
    public var identity: SocialIdentity
    /// The network's id of the post that carried the hashtag.
    public var purchasePostID: String
    /// The short per-order reference shown in public posts, e.g. `K7Q2MX`.
    public var reference: String
    public var state: PurchaseState
    public var declineReason: DeclineReason?
    public var cancellationReason: CancellationReason?
    /// The price of one unit, before tax.
    public var unitPrice: Money
    /// Units bought (1 to the offer's per-cardholder limit); all reserved, sold or released together.
    public var units: Int64
    /// Tax on the whole line (``amount``), rounded once.
    public var tax: Money
    /// ``amount`` plus ``tax``: what the cardholder is charged.
    public var total: Money
    /// The issuer's fee (merchant discount) on ``amount``.
    public var fee: Money
    public var taxRatePartsPerMillion: Int64
    public var taxTableVersion: String
    public var billingState: USState
    public var confirmationWindowSeconds: Int64
    public var requestedAt: Instant
    /// When the reservation lapses unless confirmed.
    public var expiresAt: Instant
    public var confirmationPostID: String?
    public var confirmedAt: Instant?
    public var authorizedAt: Instant?
    public var holdExpiresAt: Instant?
    public var capturedAt: Instant?
    public var endedAt: Instant?

    public init(
        id: PurchaseID, offerID: OfferID, merchantID: MerchantID, cardAccountID: CardAccountID,
        identity: SocialIdentity, purchasePostID: String, reference: String, state: PurchaseState = .requested,
        unitPrice: Money, units: Int64 = 1, tax: Money, total: Money, fee: Money, taxRatePartsPerMillion: Int64,
        taxTableVersion: String, billingState: USState, confirmationWindowSeconds: Int64,
        requestedAt: Instant, expiresAt: Instant
    ) {
        precondition(unitPrice.minorUnits >= 0 && tax.minorUnits >= 0, "purchase amounts are never negative")
        precondition((1...PurchaseQuantity.maximumWritten).contains(units), "a purchase buys 1 to 999 units")
        let (amount, overflow) = unitPrice.minorUnits.multipliedReportingOverflow(by: units)
        precondition(!overflow && total.minorUnits == amount + tax.minorUnits, "total is price times units, plus tax")
        precondition(fee.minorUnits >= 0 && fee.minorUnits <= amount, "the fee is part of the price")
        self.id = id
        self.offerID = offerID
        self.merchantID = merchantID
        self.cardAccountID = cardAccountID
        self.identity = identity
        self.purchasePostID = purchasePostID
        self.reference = reference
        self.state = state
        self.unitPrice = unitPrice
        self.units = units
        self.tax = tax
        self.total = total
        self.fee = fee
        self.taxRatePartsPerMillion = taxRatePartsPerMillion
        self.taxTableVersion = taxTableVersion
        self.billingState = billingState
        self.confirmationWindowSeconds = confirmationWindowSeconds
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
    }

    /// The line before tax: ``unitPrice`` times ``units``.
    public var amount: Money { Money(minorUnits: unitPrice.minorUnits * units, currency: unitPrice.currency) }

    /// The purchase id for a post: derived from the post, so a redelivered post maps to the same purchase.
    public static func id(network: NetworkName, postID: String) -> PurchaseID {
        PurchaseID("pur_\(network.rawValue)_\(postID)")
    }

    /// The state after `event` at `now`, or a typed error if the transition is impossible.
    public func applying(_ event: PurchaseEvent, now: Instant) throws(PurchaseTransitionError) -> Purchase {
        var next = self
        switch (state, event) {
        case (.waitlisted, .waitlistTurn):
            next.state = .requested
            next.expiresAt = now.adding(seconds: confirmationWindowSeconds)

        case (.waitlisted, .decline(let reason)):
            next.state = .declined
            next.declineReason = reason
            next.endedAt = now

        case (.waitlisted, .cancel(let reason)):
            guard reason == .postDeleted || reason == .unlinked || reason == .cardholderCancelled || reason == .waitlistClosed else {
                throw refusal(event, "a waitlisted purchase is cancelled only by the cardholder or the end of its offer")
            }
            next.state = .cancelled
            next.cancellationReason = reason
            next.endedAt = now

        case (.requested, .confirmationPosted(let postID)):
            next.state = .awaitingConfirmation
            next.confirmationPostID = postID
            next.expiresAt = now.adding(seconds: confirmationWindowSeconds)

        case (.awaitingConfirmation, .confirm(let repostedAt)):
            guard repostedAt <= expiresAt else {
                throw refusal(event, "the repost came after the confirmation window closed")
            }
            next.state = .confirmed
            // When the cardholder confirmed, by the network's clock (not when it reached us).
            next.confirmedAt = repostedAt

        case (.confirmed, .authorize(let holdExpiresAt)):
            precondition(holdExpiresAt > now, "a hold must outlive its authorization")
            next.state = .authorized
            next.authorizedAt = now
            next.holdExpiresAt = holdExpiresAt

        case (.authorized, .capture):
            next.state = .captured
            next.capturedAt = now
            next.endedAt = now

        case (.requested, .expire), (.awaitingConfirmation, .expire):
            guard now >= expiresAt else { throw refusal(event, "the confirmation window is still open") }
            next.state = .expired
            next.endedAt = now

        case (.requested, .decline(let reason)), (.awaitingConfirmation, .decline(let reason)),
            (.confirmed, .decline(let reason)):
            next.state = .declined
            next.declineReason = reason
            next.endedAt = now

        case (.requested, .cancel(let reason)), (.awaitingConfirmation, .cancel(let reason)):
            guard reason == .postDeleted || reason == .unlinked || reason == .cardholderCancelled else {
                throw refusal(event, "only the cardholder can cancel an unconfirmed purchase")
            }
            next.state = .cancelled
            next.cancellationReason = reason
            next.endedAt = now

        case (.authorized, .cancel(let reason)):
            // `.postDeleted` here means the post was deleted before the repost, and the two were
            // delivered the other way round; the engine checks the network times.
            guard reason != .unlinked, reason != .waitlistClosed else {
                throw refusal(event, "a confirmed purchase is not cancelled by unlinking or the end of a waitlist")
            }
            if reason == .holdExpired, let holdExpiresAt, now < holdExpiresAt {
                throw refusal(event, "the hold has not expired yet")
            }
            next.state = .cancelled
            next.cancellationReason = reason
            next.endedAt = now

        default:
            throw refusal(event, "\(Self.name(of: event)) is not possible now")
        }
        return next
    }

    private func refusal(_ event: PurchaseEvent, _ message: String) -> PurchaseTransitionError {
        PurchaseTransitionError(purchaseID: id, state: state, event: Self.name(of: event), message: message)
    }

    /// The event's name as a ``PurchaseTransitionError`` reports it (`confirm`, `expire`, …).
    public static func name(of event: PurchaseEvent) -> String {
        switch event {
        case .waitlistTurn: "waitlist_turn"
        case .confirmationPosted: "confirmation_posted"
        case .confirm: "confirm"
        case .authorize: "authorize"
        case .capture: "capture"
        case .expire: "expire"
        case .decline: "decline"
        case .cancel: "cancel"
        }
    }
}
