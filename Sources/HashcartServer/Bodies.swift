/// Request bodies: snake_case JSON, amounts in minor units, every field listed.

public struct CreateMerchantBody: StrictDecodable, Sendable {
    public var name: String
    /// The issuer's merchant discount rate in basis points (default 250 = 2.5 %).
    public var discountRateBps: Int64?
    public static let fields: Set<String> = ["name", "discount_rate_bps"]
    enum CodingKeys: String, CodingKey {
        case name
        case discountRateBps = "discount_rate_bps"
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
    public var cardLast4: String
    public static let fields: Set<String> = ["credit_limit", "currency", "billing_name", "address", "card_last4"]
    public static let nestedFields: [String: Set<String>] = ["address": AddressBody.fields]
    enum CodingKeys: String, CodingKey {
        case creditLimit = "credit_limit"
        case currency
        case billingName = "billing_name"
        case address
        case cardLast4 = "card_last4"
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
    public var title: String
    public var sku: String
    /// Unit price before tax, in minor units.
    public var price: Int64
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
    public static let fields: Set<String> = [
        "title", "sku", "price", "currency", "hashtag", "tax_category", "quantity", "per_cardholder_limit", "starts_at", "ends_at",
        "eligible_states", "capture_mode", "confirmation_window_seconds",
    ]
    enum CodingKeys: String, CodingKey {
        case title, sku, price, currency, hashtag, quantity
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

public struct CreateWebhookEndpointBody: StrictDecodable, Sendable {
    /// Where events are POSTed: an http(s) URL of at most 2,048 characters.
    public var url: String
    public static let fields: Set<String> = ["url"]

    public init(url: String) {
        self.url = url
    }
}
