/// Request bodies: snake_case JSON, amounts in minor units, every field listed.

public struct CreateMerchantBody: StrictDecodable, Sendable {
    public var name: String
    /// The issuer's merchant discount rate in basis points (default 250 = 2.5 %).
    public var discountRateBps: Int64?
    /// Where settlement pays the merchant (optional: batches wait in clearing until one is set).
    public var payoutAccount: PayoutAccountBody?
    public static let fields: Set<String> = ["name", "discount_rate_bps", "payout_account"]
    public static let nestedFields: [String: Set<String>] = ["payout_account": PayoutAccountBody.fields]
    enum CodingKeys: String, CodingKey {
        case name
        case discountRateBps = "discount_rate_bps"
        case payoutAccount = "payout_account"
    }
}

/// `POST /v1/kill_switch`: every purchase in the mode stopped, or let go on, and why.
public struct KillSwitchBody: StrictDecodable, Sendable {
    public var on: Bool
    /// Why (required; at most 200 characters, kept with the switch).
    public var reason: String?
    public static let fields: Set<String> = ["on", "reason"]
}

/// `POST /v1/cardholders/{id}`: the operator moves a card account's credit limit.
public struct UpdateCardholderBody: StrictDecodable, Sendable {
    public var creditLimit: Int64
    public static let fields: Set<String> = ["credit_limit"]
    enum CodingKeys: String, CodingKey {
        case creditLimit = "credit_limit"
    }

    public init(creditLimit: Int64) {
        self.creditLimit = creditLimit
    }
}

/// `POST /v1/merchants/{id}/close` and `POST /v1/cardholders/{id}/close`: why (kept in the audit log).
public struct CloseAccountBody: StrictDecodable, Sendable {
    public var reason: String
    public static let fields: Set<String> = ["reason"]

    public init(reason: String) {
        self.reason = reason
    }
}

/// `POST /v1/risk`: the issuer's risk limits; a field left out keeps its current value.
public struct RiskSettingsBody: StrictDecodable, Sendable {
    public var dailySpendCap: Int64?
    public var maxPurchasesPerHour: Int64?
    public var minLinkAgeSeconds: Int64?
    public static let fields: Set<String> = ["daily_spend_cap", "max_purchases_per_hour", "min_link_age_seconds"]
    enum CodingKeys: String, CodingKey {
        case dailySpendCap = "daily_spend_cap"
        case maxPurchasesPerHour = "max_purchases_per_hour"
        case minLinkAgeSeconds = "min_link_age_seconds"
    }
}

/// `POST /v1/offers/{id}/kill_switch`: one offer stopped, or let go on.
public struct OfferKillSwitchBody: StrictDecodable, Sendable {
    public var on: Bool
    public static let fields: Set<String> = ["on"]
}

/// A merchant's bank account for payouts (`POST /v1/merchants/{id}/payout_account`, or inside
/// `POST /v1/merchants`): an ABA routing number, an account number, checking or savings.
public struct PayoutAccountBody: StrictDecodable, Sendable {
    public var routingNumber: String
    public var accountNumber: String
    /// `checking` (default) or `savings`.
    public var accountType: String?
    public static let fields: Set<String> = ["routing_number", "account_number", "account_type"]
    enum CodingKeys: String, CodingKey {
        case routingNumber = "routing_number"
        case accountNumber = "account_number"
        case accountType = "account_type"
    }
}

public struct AddressBody: Codable, Sendable {
    public var line1: String
    public var line2: String?
    public var city: String
    public var state: String
    public var postalCode: String
    static let fields: Set<String> = ["line1", "line2", "city", "state", "postal_code"]
    enum CodingKeys: String, CodingKey {
        case line1, line2, city, state
        case postalCode = "postal_code"
    }
}

public struct CreateCardholderBody: StrictDecodable, Sendable {
    public var creditLimit: Int64
    public var currency: String?
    public var billingName: String
    public var address: AddressBody
    /// Required without `pan`; with it, must be its last four digits.
    public var cardLast4: String?
    /// The card number (Luhn-checked, 12–19 digits): only its last four digits and a keyed
    /// fingerprint are kept, so card-linked offers can match the issuer's card transactions.
    /// Never stored, logged or returned.
    public var pan: String?
    public static let fields: Set<String> = ["credit_limit", "currency", "billing_name", "address", "card_last4", "pan"]
    public static let nestedFields: [String: Set<String>] = ["address": AddressBody.fields]
    enum CodingKeys: String, CodingKey {
        case creditLimit = "credit_limit"
        case currency
        case billingName = "billing_name"
        case address
        case cardLast4 = "card_last4"
        case pan
    }
}

public struct CreateSandboxAccountBody: StrictDecodable, Sendable {
    public var handle: String
    public static let fields: Set<String> = ["handle"]
}

public struct CreateSandboxPostBody: StrictDecodable, Sendable {
    /// The account to post as: a sandbox token's own account, or the account the operator (or the
    /// merchant that created it) acts as.
    public var authorId: String
    public var text: String
    public var inReplyTo: String?
    public var quoteOf: String?
    public static let fields: Set<String> = ["author_id", "text", "in_reply_to", "quote_of"]
    enum CodingKeys: String, CodingKey {
        case authorId = "author_id"
        case text
        case inReplyTo = "in_reply_to"
        case quoteOf = "quote_of"
    }
}

public struct CreateRepostBody: StrictDecodable, Sendable {
    /// As in ``CreateSandboxPostBody/authorId``.
    public var authorId: String
    public static let fields: Set<String> = ["author_id"]
    enum CodingKeys: String, CodingKey {
        case authorId = "author_id"
    }
}

public struct CreateOfferBody: StrictDecodable, Sendable {
    /// `purchase` (default): a unit bought by post; `statement_credit`: a card-linked offer
    /// loaded by post and earned by a later card transaction.
    public var kind: String?
    public var title: String
    public var sku: String
    /// Unit price before tax, in minor units; required for a purchase offer. A statement_credit
    /// offer's price is its `credit_amount`.
    public var price: Int64?
    public var currency: String?
    /// The purchase hashtag, e.g. `#BuyKindleFireHD`.
    public var hashtag: String
    /// `general` (default) or `exempt`.
    public var taxCategory: String?
    /// Units for sale; omit for unlimited.
    public var quantity: Int64?
    public var perCardholderLimit: Int64?
    /// Unix seconds; default now.
    public var startsAt: Int64?
    /// Unix seconds; default 30 days after the start.
    public var endsAt: Int64?
    /// Two-letter codes; default all 50 states and DC.
    public var eligibleStates: [String]?
    /// `on_shipment` (default) or `on_confirmation`.
    public var captureMode: String?
    public var confirmationWindowSeconds: Int64?
    /// statement_credit only: the least a card transaction must be to earn the credit.
    public var spendThreshold: Int64?
    /// statement_credit only: what the cardholder gets back, once per card.
    public var creditAmount: Int64?
    /// statement_credit only: the most the merchant pays out in credits.
    public var budget: Int64?
    /// statement_credit only: the merchant's card acceptor ids (ISO 8583 field 42).
    public var acceptorIds: [String]?
    /// statement_credit only: merchant category codes that qualify (default any).
    public var mccs: [String]?
    /// Whether the issuer's official accounts announce the offer when it goes live (default true).
    public var announce: Bool?
    public static let fields: Set<String> = [
        "kind", "title", "sku", "price", "currency", "hashtag", "tax_category", "quantity", "per_cardholder_limit", "starts_at", "ends_at",
        "eligible_states", "capture_mode", "confirmation_window_seconds", "spend_threshold", "credit_amount", "budget", "acceptor_ids",
        "mccs", "announce",
    ]
    enum CodingKeys: String, CodingKey {
        case kind, title, sku, price, currency, hashtag, quantity, budget, mccs, announce
        case spendThreshold = "spend_threshold"
        case creditAmount = "credit_amount"
        case acceptorIds = "acceptor_ids"
        case taxCategory = "tax_category"
        case perCardholderLimit = "per_cardholder_limit"
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case eligibleStates = "eligible_states"
        case captureMode = "capture_mode"
        case confirmationWindowSeconds = "confirmation_window_seconds"
    }
}

public struct CreateLinkBody: StrictDecodable, Sendable {
    /// The network to link on, e.g. `sandbox`.
    public var network: String
    public static let fields: Set<String> = ["network"]
}

public struct CreateOAuthLinkBody: StrictDecodable, Sendable {
    /// The network to sign in at: `x` or `mastodon`, where this Hashcart has an OAuth app.
    public var network: String
    public static let fields: Set<String> = ["network"]
}

public struct ShipOrderBody: StrictDecodable, Sendable {
    public var carrier: String
    public var tracking: String
    public static let fields: Set<String> = ["carrier", "tracking"]
}

public struct RefundBody: StrictDecodable, Sendable {
    /// Minor units; at most what was captured and not yet refunded.
    public var amount: Int64
    public var currency: String?
    public static let fields: Set<String> = ["amount", "currency"]
}

public struct RotateWebhookSecretBody: StrictDecodable, Sendable {
    /// Seconds the old secret keeps signing beside the new one (0–604800; default 86400), so the
    /// receiver can switch without dropping a delivery.
    public var expirePreviousAfterSeconds: Int64?
    public static let fields: Set<String> = ["expire_previous_after_seconds"]

    enum CodingKeys: String, CodingKey {
        case expirePreviousAfterSeconds = "expire_previous_after_seconds"
    }
}

public struct CreateWebhookEndpointBody: StrictDecodable, Sendable {
    /// Where events are POSTed: an http(s) URL of at most 2,048 characters.
    public var url: String
    public static let fields: Set<String> = ["url"]

    public init(url: String) {
        self.url = url
    }
}

/// `POST /v1/card_transactions`: the issuer's card transactions, for processors that send JSON
/// rather than ISO 8583 (the card feed).
public struct CardTransactionsBody: StrictDecodable, Sendable {
    public var transactions: [CardTransactionBody]
    public static let fields: Set<String> = ["transactions"]
    public static let nestedArrayFields: [String: Set<String>] = ["transactions": CardTransactionBody.fields]
}

public struct CardTransactionBody: Codable, Sendable {
    /// `purchase` or `reversal` (of the purchase with the same `rrn`).
    public var kind: String
    /// The card number: fingerprinted on arrival and dropped.
    public var pan: String
    /// Minor units, positive.
    public var amount: Int64
    public var currency: String?
    /// Card acceptor id (ISO 8583 field 42).
    public var acceptorId: String
    /// Merchant category code (field 18), four digits.
    public var mcc: String?
    /// Retrieval reference number (field 37).
    public var rrn: String
    /// System trace audit number (field 11), six digits.
    public var stan: String
    /// Unix seconds (UTC) of the transaction.
    public var occurredAt: Int64
    static let fields: Set<String> = ["kind", "pan", "amount", "currency", "acceptor_id", "mcc", "rrn", "stan", "occurred_at"]
    enum CodingKeys: String, CodingKey {
        case kind, pan, amount, currency, mcc, rrn, stan
        case acceptorId = "acceptor_id"
        case occurredAt = "occurred_at"
    }
}
