import HashcartCore

/// `POST /v1/dashboard_users` (operator): a person who signs in to the dashboard of this mode.
public struct CreateDashboardUserBody: StrictDecodable, Sendable {
    public var email: String
    /// `operator`, `merchant` (with `merchant_id`) or `cardholder` (with `cardholder_id`).
    public var role: String
    public var merchantID: String?
    public var cardholderID: String?
    /// 12 characters to 72 bytes; without it, Hashcart makes one and shows it once.
    public var password: String?
    public static let fields: Set<String> = ["email", "role", "merchant_id", "cardholder_id", "password"]

    public init(email: String, role: String, merchantID: String? = nil, cardholderID: String? = nil, password: String? = nil) {
        self.email = email
        self.role = role
        self.merchantID = merchantID
        self.cardholderID = cardholderID
        self.password = password
    }

    enum CodingKeys: String, CodingKey {
        case email, role, password
        case merchantID = "merchant_id"
        case cardholderID = "cardholder_id"
    }
}

public struct DashboardUserView: Codable, Sendable, Hashable {
    public var object = "dashboard_user"
    /// Whether this object lives in live mode (false: test mode). Set by the encoder of the mode that answered.
    public var livemode = Livemode()
    public var id: String
    public var email: String
    public var role: String
    public var merchant: String?
    public var cardholder: String?
    /// The password Hashcart made, shown once (absent when the operator chose it, and afterwards).
    public var password: String?
    public var created: Int64
    public var disabled: Bool

    public init(id: String, email: String, role: String, merchant: String?, cardholder: String?, password: String?, created: Int64, disabled: Bool) {
        self.id = id
        self.email = email
        self.role = role
        self.merchant = merchant
        self.cardholder = cardholder
        self.password = password
        self.created = created
        self.disabled = disabled
    }
}
