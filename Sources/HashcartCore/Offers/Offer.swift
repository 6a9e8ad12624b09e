/// How the money moves after a cardholder confirms.
public enum CaptureMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Capture the authorization as soon as the purchase is confirmed (digital goods, gift cards).
    case onConfirmation = "on_confirmation"
    /// Hold the authorization until the merchant marks the order shipped.
    case onShipment = "on_shipment"
}

/// What an offer sells, as sales tax sees it. Each state treats a category its own way (see
/// ``TaxTreatment``), written in the tax table; a state the table says nothing of taxes it at the
/// address's general rate.
public enum TaxCategory: String, Sendable, Hashable, Codable, CaseIterable {
    /// Taxed at the destination's general rate everywhere.
    case general
    /// Not taxed anywhere (gift cards and other stored value).
    case exempt
    /// Clothing and footwear (exempt in some states, below or up to a price per item in others).
    case clothing
    /// Food for home consumption (exempt in most states, at a reduced rate in a few).
    case groceries
    /// Specified digital products: e-books, music, video and apps delivered electronically.
    case digitalGoods = "digital_goods"
}

/// Where an offer is in its life, as seen at one instant. See ``Offer/state(at:)``.
public enum OfferState: String, Sendable, Hashable, Codable, CaseIterable {
    case draft, scheduled, live, paused
    case soldOut = "sold_out"
    case ended
}

/// What the merchant (or the issuer) last decided about an offer; time does the rest.
public enum OfferLifecycle: String, Sendable, Hashable, Codable {
    case draft, published, paused, ended
}

/// A merchant's offer that cardholders buy by posting its hashtag.
public struct Offer: Sendable, Hashable, Codable {
    public var id: OfferID
    public var merchantID: MerchantID
    public var title: String
    public var sku: String
    /// Unit price before tax.
    public var price: Money
    public var taxCategory: TaxCategory
    /// Units for sale; `nil` means unlimited.
    public var quantity: Int64?
    /// Units one card account may buy (default 1).
    public var perCardholderLimit: Int64
    public var startsAt: Instant
    public var endsAt: Instant
    public var eligibleStates: Set<USState>
    public var hashtag: Hashtag
    public var captureMode: CaptureMode
    /// How long a cardholder has to repost the confirmation (default 900 s).
    public var confirmationWindowSeconds: Int64
    public var lifecycle: OfferLifecycle
    /// The issuer's per-offer kill switch: when set, every new purchase and confirmation is declined.
    public var killSwitch: Bool
    /// Units held for purchases awaiting confirmation.
    public var reservedUnits: Int64
    /// Units sold (confirmed orders not cancelled).
    public var soldUnits: Int64
    public var createdAt: Instant
    /// A unit bought by post, or a statement credit loaded by post (``StatementCreditTerms``).
    public var type: OfferType
    /// The card-linked terms, present exactly when `type` is ``OfferType/statementCredit``; its
    /// `price` is then the credit amount.
    public var statementCredit: StatementCreditTerms?
    /// Minor units paid out in statement credits not clawed back (bounded by the terms' budget).
    public var creditedTotal: Int64
    /// Whether the issuer's official accounts post ``announcement`` when the offer goes live
    /// (once per network). Offers made before announcements existed are not announced.
    public var announce: Bool
    /// The issuer's risk limits for this offer alone, in place of its issuer-wide ones.
    public var risk: RiskOverrides

    public static let defaultConfirmationWindowSeconds: Int64 = 900
    public static let maximumPrice = Money.usd(10_000_000)  // $100,000.00
    public static let maximumQuantity: Int64 = 10_000_000

    public init(
        id: OfferID, merchantID: MerchantID, title: String, sku: String, price: Money,
        taxCategory: TaxCategory = .general, quantity: Int64?, perCardholderLimit: Int64 = 1,
        startsAt: Instant, endsAt: Instant, eligibleStates: Set<USState> = Set(USState.allCases),
        hashtag: Hashtag, captureMode: CaptureMode = .onShipment,
        confirmationWindowSeconds: Int64 = Offer.defaultConfirmationWindowSeconds,
        lifecycle: OfferLifecycle = .published, killSwitch: Bool = false,
        reservedUnits: Int64 = 0, soldUnits: Int64 = 0, createdAt: Instant,
        type: OfferType = .purchase, statementCredit: StatementCreditTerms? = nil, creditedTotal: Int64 = 0, announce: Bool = true,
        risk: RiskOverrides = RiskOverrides()
    ) {
        self.id = id
        self.merchantID = merchantID
        self.title = title
        self.sku = sku
        self.price = price
        self.taxCategory = taxCategory
        self.quantity = quantity
        self.perCardholderLimit = perCardholderLimit
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.eligibleStates = eligibleStates
        self.hashtag = hashtag
        self.captureMode = captureMode
        self.confirmationWindowSeconds = confirmationWindowSeconds
        self.lifecycle = lifecycle
        self.killSwitch = killSwitch
        self.reservedUnits = reservedUnits
        self.soldUnits = soldUnits
        self.createdAt = createdAt
        self.type = type
        self.statementCredit = statementCredit
        self.creditedTotal = creditedTotal
        self.announce = announce
        self.risk = risk
    }

    /// The offer's state at `now`: the merchant's decision first, then stock, then the time window.
    public func state(at now: Instant) -> OfferState {
        switch lifecycle {
        case .draft: return .draft
        case .ended: return .ended
        case .paused: return now >= endsAt ? .ended : .paused
        case .published:
            if now >= endsAt { return .ended }
            if let quantity, soldUnits >= quantity { return .soldOut }
            if now < startsAt { return .scheduled }
            return .live
        }
    }

    /// Units neither sold nor reserved; `nil` when unlimited.
    public var availableUnits: Int64? {
        quantity.map { $0 - soldUnits - reservedUnits }
    }

    /// Checks every field a merchant sets, so a bad offer never reaches the store.
    public func validated() throws(ValidationError) -> Offer {
        try Validate.publicText(title, field: "title", maxLength: 200)
        try Validate.text(sku, field: "sku", maxLength: 64)
        guard price.isPositive, price <= Self.maximumPrice else {
            throw ValidationError(field: "price", message: "must be between 1 and \(Self.maximumPrice.minorUnits) minor units")
        }
        if let quantity, !(1...Self.maximumQuantity).contains(quantity) {
            throw ValidationError(field: "quantity", message: "must be between 1 and \(Self.maximumQuantity), or omitted for unlimited")
        }
        guard (1...100).contains(perCardholderLimit) else {
            throw ValidationError(field: "per_cardholder_limit", message: "must be between 1 and 100")
        }
        guard startsAt < endsAt else {
            throw ValidationError(field: "ends_at", message: "must be after starts_at")
        }
        guard !eligibleStates.isEmpty else {
            throw ValidationError(field: "eligible_states", message: "must name at least one state")
        }
        guard (60...86_400).contains(confirmationWindowSeconds) else {
            throw ValidationError(field: "confirmation_window_seconds", message: "must be between 60 and 86400")
        }
        guard reservedUnits >= 0, soldUnits >= 0 else {
            throw ValidationError(field: "quantity", message: "unit counts must not be negative")
        }
        if let quantity, reservedUnits + soldUnits > quantity {
            throw ValidationError(field: "quantity", message: "must be at least the units already sold or reserved")
        }
        switch type {
        case .purchase:
            guard statementCredit == nil, creditedTotal == 0 else {
                throw ValidationError(field: "kind", message: "a purchase offer has no statement-credit terms")
            }
        case .statementCredit:
            guard let terms = try statementCredit?.validated() else {
                throw ValidationError(field: "credit_amount", message: "a statement_credit offer needs its terms")
            }
            guard price == terms.credit else { throw ValidationError(field: "price", message: "must equal credit_amount") }
            guard quantity == nil else { throw ValidationError(field: "quantity", message: "a statement_credit offer is bounded by its budget") }
            guard (0...terms.budget.minorUnits).contains(creditedTotal) else {
                throw ValidationError(field: "budget", message: "must be at least what was already credited")
            }
        }
        return self
    }

    /// The announcement the issuer's account may post, e.g.
    /// "Kindle Fire HD $149.99 + tax with your linked card. Post #BuyKindleFireHD to buy. Qty limited."
    /// A card-linked offer's reads "Spend $75.00 or more at Zappos with your linked card, get $20.00
    /// back. Post #ZapposCredit to load it." The title is cut to 80 characters, so the whole
    /// text (hashtag included) fits every network's 280.
    public var announcement: String {
        let title = self.title.prefix(80)
        if let terms = statementCredit {
            return "\(title): spend \(terms.spendThreshold) or more with your linked card, get \(terms.credit) back. Post \(hashtag) to load it."
        }
        let taxNote = taxCategory == .exempt ? "" : " + tax"
        let quantityNote = quantity == nil ? "" : " Qty limited."
        return "\(title) \(price)\(taxNote) with your linked card. Post \(hashtag) to buy.\(quantityNote)"
    }
}
