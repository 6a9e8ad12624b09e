import HashcartCore
import Foundation

/// Response bodies: snake_case JSON, each with its `object` type and `livemode`, amounts in minor units.

/// `"livemode"` on every API object: true for live mode's objects, false for test mode's. It is
/// written from the encoder's `userInfo[Livemode.key]`, which the router sets from the mode of the
/// credential that answered, so an object can never claim another mode than the store it came from.
public struct Livemode: Codable, Sendable, Hashable {
    /// The value read back from JSON (clients, tests); encoding prefers the encoder's mode.
    public var value: Bool?

    public init() {}

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Bool.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoder.userInfo[Self.key] as? Bool ?? value ?? false)
    }

    /// The encoder's `userInfo` key holding the answering mode's `isLive`.
    public static let key = CodingUserInfoKey(rawValue: "hashcart.livemode")!
}

public struct MerchantView: Codable, Sendable, Hashable {
    public var object = "merchant"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var name: String
    public var discountRateBps: Int64
    public var created: Int64
    /// The payout account as far as it may be shown (never the account number), or null.
    public var payoutAccount: PayoutAccountView?
    /// When the issuer closed the merchant (Unix seconds), or null while it is open.
    public var closed: Int64?

    public init(id: String, name: String, discountRateBps: Int64, created: Int64, payoutAccount: PayoutAccountView? = nil, closed: Int64? = nil) {
        self.id = id
        self.name = name
        self.discountRateBps = discountRateBps
        self.created = created
        self.payoutAccount = payoutAccount
        self.closed = closed
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, name, created, closed
        case discountRateBps = "discount_rate_bps"
        case payoutAccount = "payout_account"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(object, forKey: .object)
        try container.encode(livemode, forKey: .livemode)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(discountRateBps, forKey: .discountRateBps)
        try container.encode(created, forKey: .created)
        try container.encode(payoutAccount, forKey: .payoutAccount)  // null when none: the merchant is not paid yet
        try container.encode(closed, forKey: .closed)  // null while open
    }
}

/// The issuer's risk limits in one mode: as set over the API, or the configured defaults.
public struct RiskSettingsView: Codable, Sendable, Hashable {
    public var object = "risk_settings"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    /// Most a card may spend (totals with tax, minor units) through Hashcart in one UTC day.
    public var dailySpendCap: Int64
    public var maxPurchasesPerHour: Int64
    public var minLinkAgeSeconds: Int64
    /// `api` when set over the API, `default` for the configured defaults.
    public var source: String
    public var changed: Int64

    public init(dailySpendCap: Int64, maxPurchasesPerHour: Int64, minLinkAgeSeconds: Int64, source: String, changed: Int64) {
        self.dailySpendCap = dailySpendCap
        self.maxPurchasesPerHour = maxPurchasesPerHour
        self.minLinkAgeSeconds = minLinkAgeSeconds
        self.source = source
        self.changed = changed
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, source, changed
        case dailySpendCap = "daily_spend_cap"
        case maxPurchasesPerHour = "max_purchases_per_hour"
        case minLinkAgeSeconds = "min_link_age_seconds"
    }
}

/// The issuer's kill switch for every purchase in one mode.
public struct KillSwitchView: Codable, Sendable, Hashable {
    public var object = "kill_switch"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var on: Bool
    public var reason: String
    /// When it last changed (unix seconds), or 0 if never set.
    public var changed: Int64

    public init(on: Bool, reason: String, changed: Int64) {
        self.on = on
        self.reason = reason
        self.changed = changed
    }
}

/// A payout account as the API shows it: the routing number, the kind, the last four digits.
public struct PayoutAccountView: Codable, Sendable, Hashable {
    public var routingNumber: String
    public var accountType: String
    public var last4: String

    public init(routingNumber: String, accountType: String, last4: String) {
        self.routingNumber = routingNumber
        self.accountType = accountType
        self.last4 = last4
    }

    enum CodingKeys: String, CodingKey {
        case routingNumber = "routing_number"
        case accountType = "account_type"
        case last4
    }
}

/// One merchant's settlement batch for one UTC day: its statement lines and payout.
public struct SettlementView: Codable, Sendable, Hashable {
    public var object = "settlement"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var merchant: String
    /// The UTC day settled, YYYY-MM-DD.
    public var day: String
    public var currency = "usd"
    /// Captured sales before fees (tax excluded: the issuer remits it).
    public var sales: Int64
    /// The issuer's fees (negative), net of fees given back on refunds.
    public var fees: Int64
    /// Refunds made that day (negative), including refunds of orders settled earlier.
    public var refunds: Int64
    /// Statement credits the merchant funded (negative), net of claw-backs.
    public var statementCredits: Int64
    /// A deficit carried from the merchant's previous batch (≤ 0).
    public var carriedIn: Int64
    public var net: Int64
    public var payout: Int64
    /// A deficit carried to the merchant's next batch (≤ 0).
    public var carriedOut: Int64
    /// `awaiting_payout`, `paid` or `nothing_to_pay`.
    public var state: String
    public var movements: Int
    public var created: Int64
    public var paidAt: Int64?
    public var payoutFile: String?
    public var traceNumber: String?

    public init(id: String, merchant: String, day: String, sales: Int64, fees: Int64, refunds: Int64, statementCredits: Int64,
                carriedIn: Int64, net: Int64, payout: Int64, carriedOut: Int64, state: String, movements: Int, created: Int64,
                paidAt: Int64?, payoutFile: String?, traceNumber: String?) {
        self.id = id
        self.merchant = merchant
        self.day = day
        self.sales = sales
        self.fees = fees
        self.refunds = refunds
        self.statementCredits = statementCredits
        self.carriedIn = carriedIn
        self.net = net
        self.payout = payout
        self.carriedOut = carriedOut
        self.state = state
        self.movements = movements
        self.created = created
        self.paidAt = paidAt
        self.payoutFile = payoutFile
        self.traceNumber = traceNumber
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, merchant, day, currency, sales, fees, refunds, net, payout, state, movements, created
        case statementCredits = "statement_credits"
        case carriedIn = "carried_in"
        case carriedOut = "carried_out"
        case paidAt = "paid_at"
        case payoutFile = "payout_file"
        case traceNumber = "trace_number"
    }

    /// The statement CSV's header and one row per batch.
    public static let csvHeader = "id,day,sales,fees,refunds,statement_credits,carried_in,net,payout,carried_out,state,trace_number"
    public var csvRow: String {
        "\(id),\(day),\(sales),\(fees),\(refunds),\(statementCredits),\(carriedIn),\(net),\(payout),\(carriedOut),\(state),\(traceNumber ?? "")"
    }
}

/// The issuer's sales-tax liability per state over a period of UTC days.
public struct SalesTaxReportView: Codable, Sendable, Hashable {
    public var object = "sales_tax_report"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    /// The first and last UTC day counted, YYYY-MM-DD.
    public var from: String
    public var to: String
    public var currency = "usd"
    public var states: [SalesTaxStateView]
    public var totalNet: Int64

    public init(from: String, to: String, states: [SalesTaxStateView]) {
        self.from = from
        self.to = to
        self.states = states
        self.totalNet = states.reduce(0) { $0 + $1.net }
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, from, to, currency, states
        case totalNet = "total_net"
    }

    public var csv: String {
        (["state,collected,refunded,net,transfers"] + states.map { "\($0.state),\($0.collected),\($0.refunded),\($0.net),\($0.transfers)" })
            .joined(separator: "\n") + "\n"
    }
}

public struct SalesTaxStateView: Codable, Sendable, Hashable {
    public var state: String
    public var collected: Int64
    public var refunded: Int64
    public var net: Int64
    public var transfers: Int64

    public init(state: String, collected: Int64, refunded: Int64, net: Int64, transfers: Int64) {
        self.state = state
        self.collected = collected
        self.refunded = refunded
        self.net = net
        self.transfers = transfers
    }
}

public struct CardholderView: Codable, Sendable, Hashable {
    public var object = "cardholder"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var creditLimit: Int64
    public var currency: String
    public var billingState: String
    /// Whether the card number's fingerprint is on file (card-linked offers can match it); the
    /// number itself is never kept or returned.
    public var panOnFile: Bool
    public var created: Int64
    /// What can still be authorized: the limit, less purchases and holds, plus refunds and credits.
    public var availableCredit: Int64
    /// When the issuer closed the card account (Unix seconds), or null while it is open.
    public var closed: Int64?

    public init(id: String, creditLimit: Int64, currency: String, billingState: String, panOnFile: Bool, created: Int64,
                availableCredit: Int64, closed: Int64? = nil) {
        self.id = id
        self.creditLimit = creditLimit
        self.currency = currency
        self.billingState = billingState
        self.panOnFile = panOnFile
        self.created = created
        self.availableCredit = availableCredit
        self.closed = closed
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, currency, created, closed
        case creditLimit = "credit_limit"
        case billingState = "billing_state"
        case panOnFile = "pan_on_file"
        case availableCredit = "available_credit"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(object, forKey: .object)
        try container.encode(livemode, forKey: .livemode)
        try container.encode(id, forKey: .id)
        try container.encode(creditLimit, forKey: .creditLimit)
        try container.encode(currency, forKey: .currency)
        try container.encode(billingState, forKey: .billingState)
        try container.encode(panOnFile, forKey: .panOnFile)
        try container.encode(created, forKey: .created)
        try container.encode(availableCredit, forKey: .availableCredit)
        try container.encode(closed, forKey: .closed)  // null while open
    }
}

public struct ViolationView: Codable, Sendable, Hashable {
    public var rule: String
    public var subject: String
    public var detail: String

    public init(rule: String, subject: String, detail: String) {
        self.rule = rule
        self.subject = subject
        self.detail = detail
    }
}

public struct LedgerCheckView: Codable, Sendable, Hashable {
    public var object = "ledger_check"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var ok: Bool
    public var violations: [ViolationView]

    public init(violations: [ViolationView]) {
        self.ok = violations.isEmpty
        self.violations = violations
    }
}

public struct SandboxAccountView: Codable, Sendable, Hashable {
    public var object = "sandbox_account"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var handle: String
    /// The account's bearer token (`hc_sbx_…`): shown once, when the account is created.
    public var token: String?

    public init(id: String, handle: String, token: String? = nil) {
        self.id = id
        self.handle = handle
        self.token = token
    }
}

public struct SandboxPostView: Codable, Sendable, Hashable {
    public var object = "sandbox_post"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var authorId: String
    public var authorHandle: String
    /// `post`, `reply`, `repost`, `quote`.
    public var kind: String
    public var text: String
    /// The post replied to, reposted or quoted.
    public var referencedPostId: String?
    public var deleted: Bool
    public var created: Int64

    public init(id: String, authorId: String, authorHandle: String, kind: String, text: String, referencedPostId: String?,
                deleted: Bool, created: Int64) {
        self.id = id
        self.authorId = authorId
        self.authorHandle = authorHandle
        self.kind = kind
        self.text = text
        self.referencedPostId = referencedPostId
        self.deleted = deleted
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, kind, text, deleted, created
        case authorId = "author_id"
        case authorHandle = "author_handle"
        case referencedPostId = "referenced_post_id"
    }
}

/// A page of a list: `{"object": "list", "data": [...], "has_more": false}`.
public struct ListView<Item: Codable & Sendable>: Codable, Sendable {
    public var object = "list"
    public var data: [Item]
    public var hasMore: Bool

    public init(data: [Item], hasMore: Bool) {
        self.data = data
        self.hasMore = hasMore
    }

    enum CodingKeys: String, CodingKey {
        case object, data
        case hasMore = "has_more"
    }
}

/// A secret shown once: a merchant API key or a cardholder token.
public struct SecretView: Codable, Sendable, Hashable {
    public var object: String
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    /// The merchant or cardholder it acts as.
    public var owner: String
    /// The secret itself: store it now, it is never shown again (absent afterwards).
    public var secret: String?
    public var created: Int64
    public var revoked: Bool

    public init(object: String, id: String, owner: String, secret: String?, created: Int64, revoked: Bool = false) {
        self.object = object
        self.id = id
        self.owner = owner
        self.secret = secret
        self.created = created
        self.revoked = revoked
    }
}

public struct OfferView: Codable, Sendable, Hashable {
    public var object = "offer"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var merchant: String
    public var title: String
    public var sku: String
    public var price: Int64
    public var currency: String
    public var hashtag: String
    public var taxCategory: String
    public var quantity: Int64?
    public var perCardholderLimit: Int64
    public var startsAt: Int64
    public var endsAt: Int64
    public var eligibleStates: [String]
    public var captureMode: String
    public var confirmationWindowSeconds: Int64
    /// `draft`, `scheduled`, `live`, `paused`, `sold_out`, `ended`.
    public var state: String
    public var unitsSold: Int64
    public var unitsReserved: Int64
    /// The issuer's announcement text.
    public var announcement: String
    /// Whether the official accounts post it when the offer goes live (once per network).
    public var announce = true
    /// The issuer's risk limits for this offer alone (a limit not set follows the issuer's).
    public var risk = OfferRiskView()
    public var created: Int64
    /// `purchase` or `statement_credit`.
    public var kind: String
    /// A statement_credit offer's terms and what it has paid out; absent for a purchase offer.
    public var statementCredit: StatementCreditTermsView?
    /// Whether the issuer stopped this offer (its kill switch): every purchase is declined.
    public var killSwitch = false

    public init(id: String, merchant: String, title: String, sku: String, price: Int64, currency: String, hashtag: String,
                taxCategory: String, quantity: Int64?, perCardholderLimit: Int64, startsAt: Int64, endsAt: Int64,
                eligibleStates: [String], captureMode: String, confirmationWindowSeconds: Int64, state: String, unitsSold: Int64,
                unitsReserved: Int64, announcement: String, created: Int64, kind: String = "purchase",
                statementCredit: StatementCreditTermsView? = nil) {
        self.kind = kind
        self.statementCredit = statementCredit
        self.id = id
        self.merchant = merchant
        self.title = title
        self.sku = sku
        self.price = price
        self.currency = currency
        self.hashtag = hashtag
        self.taxCategory = taxCategory
        self.quantity = quantity
        self.perCardholderLimit = perCardholderLimit
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.eligibleStates = eligibleStates
        self.captureMode = captureMode
        self.confirmationWindowSeconds = confirmationWindowSeconds
        self.state = state
        self.unitsSold = unitsSold
        self.unitsReserved = unitsReserved
        self.announcement = announcement
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, merchant, title, sku, price, currency, hashtag, quantity, state, announcement, announce, risk, created, kind
        case statementCredit = "statement_credit"
        case killSwitch = "kill_switch"
        case taxCategory = "tax_category"
        case perCardholderLimit = "per_cardholder_limit"
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case eligibleStates = "eligible_states"
        case captureMode = "capture_mode"
        case confirmationWindowSeconds = "confirmation_window_seconds"
        case unitsSold = "units_sold"
        case unitsReserved = "units_reserved"
    }
}

/// An offer's own risk limits; a limit left out follows the issuer-wide one.
public struct OfferRiskView: Codable, Sendable, Hashable {
    public var dailySpendCap: Int64?
    public var maxPurchasesPerHour: Int64?
    public var minLinkAgeSeconds: Int64?

    public init(dailySpendCap: Int64? = nil, maxPurchasesPerHour: Int64? = nil, minLinkAgeSeconds: Int64? = nil) {
        self.dailySpendCap = dailySpendCap
        self.maxPurchasesPerHour = maxPurchasesPerHour
        self.minLinkAgeSeconds = minLinkAgeSeconds
    }

    enum CodingKeys: String, CodingKey {
        case dailySpendCap = "daily_spend_cap"
        case maxPurchasesPerHour = "max_purchases_per_hour"
        case minLinkAgeSeconds = "min_link_age_seconds"
    }
}

/// A sign-in started at a network to link its account by OAuth: send the person to
/// `authorize_url`; the network brings them back to `/oauth/{network}/callback`, which links it.
public struct OAuthLinkView: Codable, Sendable, Hashable {
    public var object = "oauth_link"
    public var livemode = Livemode()
    public var network: String
    public var authorizeUrl: String
    /// After this, the sign-in is refused and must be started again.
    public var expiresAt: Int64

    public init(network: String, authorizeUrl: String, expiresAt: Int64) {
        self.network = network
        self.authorizeUrl = authorizeUrl
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, network
        case authorizeUrl = "authorize_url"
        case expiresAt = "expires_at"
    }
}

public struct LinkCodeView: Codable, Sendable, Hashable {
    public var object = "link_code"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var code: String
    public var network: String
    public var expiresAt: Int64
    /// What to do with it.
    public var instructions: String

    public init(code: String, network: String, expiresAt: Int64, instructions: String) {
        self.code = code
        self.network = network
        self.expiresAt = expiresAt
        self.instructions = instructions
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, code, network, instructions
        case expiresAt = "expires_at"
    }
}

public struct LinkView: Codable, Sendable, Hashable {
    public var object = "link"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var network: String
    public var userId: String
    public var handle: String
    public var created: Int64
    public var active: Bool

    public init(id: String, network: String, userId: String, handle: String, created: Int64, active: Bool) {
        self.id = id
        self.network = network
        self.userId = userId
        self.handle = handle
        self.created = created
        self.active = active
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, network, handle, created, active
        case userId = "user_id"
    }
}

public struct PurchaseView: Codable, Sendable, Hashable {
    public var object = "purchase"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var offer: String
    public var reference: String
    public var state: String
    /// The exact reason, for the cardholder only.
    public var declineReason: String?
    public var declineMessage: String?
    /// Units the post asked for (`#Tag x2`).
    public var quantity: Int64
    /// The price of one unit, before tax.
    public var unitAmount: Int64
    /// `unit_amount` × `quantity`, before tax.
    public var amount: Int64
    public var tax: Int64
    public var total: Int64
    public var currency: String
    public var created: Int64
    /// Whether the merchant shipped its order (then it can no longer be cancelled).
    public var shipped = false

    public init(id: String, offer: String, reference: String, state: String, declineReason: String?, declineMessage: String?,
                quantity: Int64, unitAmount: Int64, amount: Int64, tax: Int64, total: Int64, currency: String, created: Int64) {
        self.id = id
        self.offer = offer
        self.reference = reference
        self.state = state
        self.declineReason = declineReason
        self.declineMessage = declineMessage
        self.quantity = quantity
        self.unitAmount = unitAmount
        self.amount = amount
        self.tax = tax
        self.total = total
        self.currency = currency
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, offer, reference, state, quantity, amount, tax, total, currency, created, shipped
        case unitAmount = "unit_amount"
        case declineReason = "decline_reason"
        case declineMessage = "decline_message"
    }
}

public struct ShippingView: Codable, Sendable, Hashable {
    public var name: String
    public var line1: String
    public var line2: String?
    public var city: String
    public var state: String
    public var postalCode: String

    public init(name: String, line1: String, line2: String?, city: String, state: String, postalCode: String) {
        self.name = name
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.state = state
        self.postalCode = postalCode
    }

    enum CodingKeys: String, CodingKey {
        case name, line1, line2, city, state
        case postalCode = "postal_code"
    }
}

/// An order as its merchant sees it: what to ship and where, the money, and nothing else about the card.
public struct OrderView: Codable, Sendable, Hashable {
    public var object = "order"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var offer: String
    public var reference: String
    /// `created`, `shipped`, `cancelled`, `refunded`.
    public var status: String
    /// Units to ship.
    public var quantity: Int64
    /// The price of one unit, before tax.
    public var unitAmount: Int64
    /// `unit_amount` × `quantity`, before tax.
    public var amount: Int64
    public var tax: Int64
    public var taxRatePpm: Int64
    public var total: Int64
    public var currency: String
    public var amountCaptured: Int64
    public var amountRefunded: Int64
    public var carrier: String?
    public var tracking: String?
    /// Ship here: the cardholder's billing name and address.
    public var shipping: ShippingView?
    public var created: Int64

    public init(id: String, offer: String, reference: String, status: String, quantity: Int64, unitAmount: Int64, amount: Int64, tax: Int64,
                taxRatePpm: Int64, total: Int64, currency: String, amountCaptured: Int64, amountRefunded: Int64, carrier: String?,
                tracking: String?, shipping: ShippingView?, created: Int64) {
        self.id = id
        self.offer = offer
        self.reference = reference
        self.status = status
        self.quantity = quantity
        self.unitAmount = unitAmount
        self.amount = amount
        self.tax = tax
        self.taxRatePpm = taxRatePpm
        self.total = total
        self.currency = currency
        self.amountCaptured = amountCaptured
        self.amountRefunded = amountRefunded
        self.carrier = carrier
        self.tracking = tracking
        self.shipping = shipping
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, offer, reference, status, quantity, amount, tax, total, currency, carrier, tracking, shipping, created
        case unitAmount = "unit_amount"
        case taxRatePpm = "tax_rate_ppm"
        case amountCaptured = "amount_captured"
        case amountRefunded = "amount_refunded"
    }
}

public struct WebhookEndpointView: Codable, Sendable, Hashable {
    public var object = "webhook_endpoint"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var url: String
    /// The signing secret (`whsec_…`): shown once, when the endpoint is created or its secret rotated.
    public var secret: String?
    public var created: Int64
    /// `enabled` or `disabled`.
    public var status: String
    /// Until when the secret before the last rotation also signs (unix seconds), if it still does.
    public var previousSecretExpiresAt: Int64?

    public init(id: String, url: String, secret: String?, created: Int64, status: String = "enabled", previousSecretExpiresAt: Int64? = nil) {
        self.id = id
        self.url = url
        self.secret = secret
        self.created = created
        self.status = status
        self.previousSecretExpiresAt = previousSecretExpiresAt
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, url, secret, created, status
        case previousSecretExpiresAt = "previous_secret_expires_at"
    }
}

/// One event's delivery to one endpoint (`GET /v1/webhook_endpoints/{id}/deliveries`).
public struct WebhookDeliveryView: Codable, Sendable, Hashable {
    public var object = "webhook_delivery"
    public var livemode = Livemode()
    public var event: String
    public var type: String
    /// `pending`, `delivered` or `failed`.
    public var status: String
    public var attempts: Int64
    /// The endpoint's last HTTP status, if it answered.
    public var lastResponseStatus: Int64?
    /// Why the last attempt failed (never the body the endpoint answered).
    public var lastError: String?
    public var delivered: Int64?
    public var created: Int64
    public var nextAttempt: Int64?

    public init(event: String, type: String, status: String, attempts: Int64, lastResponseStatus: Int64?, lastError: String?,
                delivered: Int64?, created: Int64, nextAttempt: Int64?) {
        self.event = event
        self.type = type
        self.status = status
        self.attempts = attempts
        self.lastResponseStatus = lastResponseStatus
        self.lastError = lastError
        self.delivered = delivered
        self.created = created
        self.nextAttempt = nextAttempt
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, event, type, status, attempts, delivered, created
        case lastResponseStatus = "last_response_status"
        case lastError = "last_error"
        case nextAttempt = "next_attempt"
    }
}

public struct EventView: Codable, Sendable, Hashable {
    public var object = "event"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var type: String
    /// The order or offer it is about.
    public var subject: String
    public var created: Int64
    /// `pending`, `delivered`, `failed`, or `none` (no endpoint).
    public var delivery: String
    public var deliveryAttempts: Int64

    public init(id: String, type: String, subject: String, created: Int64, delivery: String, deliveryAttempts: Int64) {
        self.id = id
        self.type = type
        self.subject = subject
        self.created = created
        self.delivery = delivery
        self.deliveryAttempts = deliveryAttempts
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, type, subject, created, delivery
        case deliveryAttempts = "delivery_attempts"
    }
}

/// An offer's conversations turned into business: funnel totals, conversion at each step,
/// time-to-confirm, and the per-minute series.
/// A merchant's funnel over a time range, across its offers and per offer.
public struct MerchantAnalyticsView: Codable, Sendable, Hashable {
    public struct OfferTotals: Codable, Sendable, Hashable {
        public var offer: String
        public var title: String
        public var totals: [String: Int64]
        public var sales: [String: Int64]

        public init(offer: String, title: String, totals: [String: Int64]) {
            self.offer = offer
            self.title = title
            self.totals = totals
            self.sales = NetSales(totals: totals).dictionary
        }
    }

    public var object = "merchant_analytics"
    public var livemode = Livemode()
    /// The range, unix seconds: from `from` (included) to `to` (excluded), whole minutes.
    public var from: Int64
    public var to: Int64
    /// Every counter summed over the merchant's offers (`unique_authors`: first posts per offer in the range).
    public var totals: [String: Int64]
    public var sales: [String: Int64]
    /// The offers with activity in the range, by id.
    public var offers: [OfferTotals]

    public init(from: Int64, to: Int64, offers: [OfferTotals]) {
        self.from = from
        self.to = to
        self.offers = offers
        var totals: [String: Int64] = [:]
        for offer in offers { totals.merge(offer.totals, uniquingKeysWith: +) }
        self.totals = totals
        self.sales = NetSales(totals: totals).dictionary
    }
}

public struct AnalyticsView: Codable, Sendable, Hashable {
    public var object = "offer_analytics"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var offer: String
    /// Funnel counters: posts, unique_authors, linked_posts, unlinked_posts, quotes,
    /// confirmations_sent, confirmed, orders, units_sold, revenue, tax, expired, cancelled,
    /// late_reposts, foreign_reposts, and `declined.<reason>`.
    public var totals: [String: Int64]
    /// Each step's share of the step before it (0…1): linked/posts, confirmations/linked,
    /// confirmed/confirmations, orders/confirmed.
    public var conversion: [String: Double]
    public var timeToConfirmSeconds: [String: Int64]
    /// One entry per minute with activity: `minute` (unix seconds) and that minute's counters.
    public var series: [[String: Int64]]
    /// The sales in minor units, tax included: `gross` (every order as made), `voided` (cancelled
    /// before capture), `refunded` (every refund, partial or on cancellation), `net` (kept).
    public var sales: [String: Int64]

    public init(offer: String, totals: [String: Int64], conversion: [String: Double], timeToConfirmSeconds: [String: Int64],
                series: [[String: Int64]]) {
        self.offer = offer
        self.totals = totals
        self.conversion = conversion
        self.timeToConfirmSeconds = timeToConfirmSeconds
        self.series = series
        self.sales = NetSales(totals: totals).dictionary
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, offer, totals, conversion, series, sales
        case timeToConfirmSeconds = "time_to_confirm_seconds"
    }

    /// The series as CSV: `minute` (ISO-free unix seconds) then one column per counter.
    public var csv: String {
        let metrics = Set(series.flatMap(\.keys)).subtracting(["minute"]).sorted()
        var lines = [(["minute"] + metrics).joined(separator: ",")]
        for row in series {
            lines.append(([row["minute"] ?? 0] + metrics.map { row[$0] ?? 0 }).map(String.init).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A private message to the cardholder: a receipt, or the exact reason for a decline.
public struct NotificationView: Codable, Sendable, Hashable {
    public var object = "notification"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    /// `receipt` or `declined`.
    public var kind: String
    public var purchase: String?
    public var message: String
    public var created: Int64

    public init(id: String, kind: String, purchase: String?, message: String, created: Int64) {
        self.id = id
        self.kind = kind
        self.purchase = purchase
        self.message = message
        self.created = created
    }
}

/// A card-linked offer's terms, and what it has paid out.
public struct StatementCreditTermsView: Codable, Sendable, Hashable {
    public var spendThreshold: Int64
    public var creditAmount: Int64
    public var budget: Int64
    /// Credits paid out and not clawed back.
    public var creditedTotal: Int64
    public var budgetLeft: Int64
    public var acceptorIds: [String]
    public var mccs: [String]

    public init(spendThreshold: Int64, creditAmount: Int64, budget: Int64, creditedTotal: Int64, acceptorIds: [String], mccs: [String]) {
        self.spendThreshold = spendThreshold
        self.creditAmount = creditAmount
        self.budget = budget
        self.creditedTotal = creditedTotal
        self.budgetLeft = budget - creditedTotal
        self.acceptorIds = acceptorIds
        self.mccs = mccs
    }

    enum CodingKeys: String, CodingKey {
        case budget, mccs
        case spendThreshold = "spend_threshold"
        case creditAmount = "credit_amount"
        case creditedTotal = "credited_total"
        case budgetLeft = "budget_left"
        case acceptorIds = "acceptor_ids"
    }
}

/// What one card transaction did.
public struct CardTransactionResultView: Codable, Sendable, Hashable {
    public var object = "card_transaction"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    /// The processing key: kind, UTC day, STAN and RRN.
    public var id: String
    /// `duplicate`, `unknown_card`, `no_credit`, `credited`, `clawed_back`, `reversal_kept`,
    /// `reversal_unmatched` or `clawback_refused`.
    public var outcome: String

    public init(id: String, outcome: String) {
        self.id = id
        self.outcome = outcome
    }
}

/// A statement credit a cardholder earned from a card-linked offer.
public struct StatementCreditView: Codable, Sendable, Hashable {
    public var object = "statement_credit"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var offer: String
    public var merchant: String
    public var title: String
    public var amount: Int64
    public var currency: String
    /// `earned` or `reversed` (clawed back by a reversal).
    public var state: String
    public var created: Int64
    public var reversedAt: Int64?

    public init(id: String, offer: String, merchant: String, title: String, amount: Int64, currency: String, state: String, created: Int64,
                reversedAt: Int64?) {
        self.id = id
        self.offer = offer
        self.merchant = merchant
        self.title = title
        self.amount = amount
        self.currency = currency
        self.state = state
        self.created = created
        self.reversedAt = reversedAt
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, id, offer, merchant, title, amount, currency, state, created
        case reversedAt = "reversed_at"
    }
}

/// One network connector's link, as the operator's console and `/metrics` show it.
public struct ConnectorHealthView: Codable, Sendable, Hashable {
    public var network: String
    public var connected: Bool
    public var streamsOpen: Int
    public var streamsWanted: Int
    public var reconnects: Int
    public var refused: Int
    public var events: Int
    /// Unix seconds, or nil before any event.
    public var lastEvent: Int64?
    public var lagMilliseconds: Int64?

    public init(network: String, connected: Bool, streamsOpen: Int, streamsWanted: Int, reconnects: Int, refused: Int, events: Int,
                lastEvent: Int64?, lagMilliseconds: Int64?) {
        self.network = network
        self.connected = connected
        self.streamsOpen = streamsOpen
        self.streamsWanted = streamsWanted
        self.reconnects = reconnects
        self.refused = refused
        self.events = events
        self.lastEvent = lastEvent
        self.lagMilliseconds = lagMilliseconds
    }
}

/// A card-linked offer a cardholder has loaded: what to spend, where, and what it gives back.
public struct LoadedOfferView: Codable, Sendable, Hashable {
    public var object = "loaded_offer"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var offer: String
    public var title: String
    public var spendThreshold: Int64
    public var creditAmount: Int64
    public var currency: String
    /// Unix seconds.
    public var loaded: Int64
    public var ends: Int64

    public init(offer: String, title: String, spendThreshold: Int64, creditAmount: Int64, currency: String, loaded: Int64, ends: Int64) {
        self.offer = offer
        self.title = title
        self.spendThreshold = spendThreshold
        self.creditAmount = creditAmount
        self.currency = currency
        self.loaded = loaded
        self.ends = ends
    }

    enum CodingKeys: String, CodingKey {
        case object, livemode, offer, title, currency, loaded, ends
        case spendThreshold = "spend_threshold"
        case creditAmount = "credit_amount"
    }
}
