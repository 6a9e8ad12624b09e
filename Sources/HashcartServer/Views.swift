/// Response bodies: snake_case JSON, each with its `object` type, amounts in minor units.

public struct MerchantView: Codable, Sendable, Hashable {
    public var object = "merchant"
    public var id: String
    public var name: String
    public var discountRateBps: Int64
    public var created: Int64

    public init(id: String, name: String, discountRateBps: Int64, created: Int64) {
        self.id = id
        self.name = name
        self.discountRateBps = discountRateBps
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, created
        case discountRateBps = "discount_rate_bps"
    }
}

public struct CardholderView: Codable, Sendable, Hashable {
    public var object = "cardholder"
    public var id: String
    public var creditLimit: Int64
    public var currency: String
    public var billingState: String
    public var created: Int64

    public init(id: String, creditLimit: Int64, currency: String, billingState: String, created: Int64) {
        self.id = id
        self.creditLimit = creditLimit
        self.currency = currency
        self.billingState = billingState
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case object, id, currency, created
        case creditLimit = "credit_limit"
        case billingState = "billing_state"
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
    public var ok: Bool
    public var violations: [ViolationView]

    public init(violations: [ViolationView]) {
        self.ok = violations.isEmpty
        self.violations = violations
    }
}

public struct SandboxAccountView: Codable, Sendable, Hashable {
    public var object = "sandbox_account"
    public var id: String
    public var handle: String

    public init(id: String, handle: String) {
        self.id = id
        self.handle = handle
    }
}

public struct SandboxPostView: Codable, Sendable, Hashable {
    public var object = "sandbox_post"
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
        case object, id, kind, text, deleted, created
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
