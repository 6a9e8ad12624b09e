/// A broken rule from PRODUCT.md's "Rules that are never broken", as `hashcart check` reports it.
public struct InvariantViolation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which rule, e.g. `ledger.balanced`, `stock.not_oversold`, `privacy.outbound_post`.
    public var rule: String
    /// What it concerns: an account, offer, order or post.
    public var subject: String
    public var detail: String

    public init(rule: String, subject: String, detail: String) {
        self.rule = rule
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(rule) [\(subject)]: \(detail)" }
}
