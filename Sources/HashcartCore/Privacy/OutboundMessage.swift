/// Every public post Hashcart makes, as text. Nothing here ever takes card, address or balance
/// data: the only amounts are an offer's price and a purchase's total.
public enum OutboundMessage: Sendable, Hashable {
    /// `units` is written only when more than one (`2 × Kindle Fire HD, …`).
    case confirmationRequest(handle: String, title: String, units: Int64, total: Money, windowSeconds: Int64, reference: String)
    case confirmed(handle: String, reference: String)
    /// `hashtag` shows how to write a quantity when the post's could not be read.
    case declined(handle: String, title: String, hashtag: Hashtag, reason: PublicDeclineReason)
    case expired(handle: String, reference: String, hashtag: Hashtag)
    case lateRepost(handle: String, reference: String)
    case linkInvitation(handle: String)
    case linked(handle: String)
    /// A card-linked offer now on the cardholder's card: its public terms only.
    case creditLoaded(handle: String, title: String, threshold: Money, credit: Money)
    /// A card-linked offer the card already holds.
    case creditAlreadyLoaded(handle: String, title: String)
    /// A sold-out offer's waitlist took the post: its place in line (a count, nothing private).
    case waitlisted(handle: String, title: String, position: Int64)
    /// Units freed up for a waitlisted post: a confirmation request like any other.
    case waitlistTurn(handle: String, title: String, units: Int64, total: Money, windowSeconds: Int64, reference: String)
    /// The offer ended before the post's turn came.
    case waitlistClosed(handle: String, title: String)
    /// The fallback when a confirmation request's text would reveal something: no amount at all.
    case minimalConfirmationRequest(windowSeconds: Int64, reference: String)

    /// The post's text (at most 280 characters: every network takes that).
    public var text: String {
        let result: String
        switch self {
        case .confirmationRequest(let handle, let title, let units, let total, let window, let reference):
            let what = units > 1 ? "\(units) × \(title.prefix(80))" : "\(title.prefix(80))"
            result = "\(handle) \(what), \(total) total with tax. Repost this within \(Self.minutes(window)) to buy. Ref \(reference)"
        case .confirmed(let handle, let reference):
            result = "\(handle) Confirmed, ref \(reference). Your receipt is in your Hashcart account."
        case .declined(let handle, let title, let hashtag, let reason):
            switch reason {
            case .soldOut: result = "\(handle) Sorry, \(title.prefix(80)) is sold out."
            case .notEnoughLeft: result = "\(handle) Sorry, not enough of \(title.prefix(80)) is left for that quantity. Post \(hashtag) again with fewer."
            case .quantityUnreadable: result = "\(handle) We couldn't read that quantity. Post \(hashtag) x2 to buy two; nothing was reserved."
            case .offerEnded: result = "\(handle) Sorry, this offer has ended."
            case .generic: result = "\(handle) We couldn't complete this — see your Hashcart account."
            }
        case .expired(let handle, let reference, let hashtag):
            result = "\(handle) The window for ref \(reference) has closed, so nothing was bought. Post \(hashtag) again to try once more."
        case .lateRepost(let handle, let reference):
            result = "\(handle) Thanks! The window for ref \(reference) had already closed, so nothing was bought."
        case .linkInvitation(let handle):
            result = "\(handle) Link your card in your Hashcart account to buy with a post."
        case .linked(let handle):
            result = "\(handle) Your account is now linked to your card. Happy shopping!"
        case .creditLoaded(let handle, let title, let threshold, let credit):
            result = "\(handle) Loaded: \(title.prefix(80)). Spend \(threshold) or more with your linked card and get \(credit) back, once."
        case .creditAlreadyLoaded(let handle, let title):
            result = "\(handle) \(title.prefix(80)) is already loaded on your card."
        case .waitlisted(let handle, let title, let position):
            result = "\(handle) \(title.prefix(80)) is sold out for now. You're number \(position) in line: if units free up, we'll reply here."
        case .waitlistTurn(let handle, let title, let units, let total, let window, let reference):
            let what = units > 1 ? "\(units) × \(title.prefix(80))" : "\(title.prefix(80))"
            result = "\(handle) Your turn: \(what), \(total) total with tax. Repost this within \(Self.minutes(window)) to buy. Ref \(reference)"
        case .waitlistClosed(let handle, let title):
            result = "\(handle) \(title.prefix(80)) has ended before your turn came, so nothing was bought."
        case .minimalConfirmationRequest(let window, let reference):
            result = "Repost this within \(Self.minutes(window)) to buy. Ref \(reference)"
        }
        // Networks that notify by thread (Bluesky) give no handle: no leading space then.
        return String(result.trimmingPrefix(" ").prefix(280))
    }

    public static func minutes(_ seconds: Int64) -> String {
        let minutes = max(1, seconds / 60)
        return minutes == 1 ? "1 minute" : "\(minutes) minutes"
    }
}
