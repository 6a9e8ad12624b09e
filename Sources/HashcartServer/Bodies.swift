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
    public var authorId: String
    public static let fields: Set<String> = ["author_id"]
    enum CodingKeys: String, CodingKey {
        case authorId = "author_id"
    }
}
