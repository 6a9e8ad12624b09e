import HashcartCore

/// What one network event did, for reports, `hashcart replay` and tests.
public enum EventOutcome: Sendable, Hashable, CustomStringConvertible {
    /// Seen before (same network and event id): nothing changed.
    case duplicate
    /// Malformed: refused with a reason, nothing changed.
    case rejected(String)
    /// Not about any offer, link code or confirmation.
    case ignored
    /// A post with an offer's hashtag from an unlinked identity (maybe invited to link).
    case unlinkedPost(OfferID, invited: Bool)
    /// A quote of a post: counted, never buys.
    case quoteCounted(OfferID)
    /// A unit was reserved and the confirmation reply queued.
    case purchaseRequested(PurchaseID)
    case declined(PurchaseID, DeclineReason)
    /// The offer was sold out: the post joined its waitlist at `position`.
    case waitlisted(PurchaseID, position: Int64)
    /// Confirmed and authorized: an order exists.
    case confirmed(PurchaseID)
    /// Someone else's repost of a confirmation, or a repost of someone else's post.
    case foreignRepost
    case lateRepost(PurchaseID)
    /// A repost/reply that does not (or no longer) confirm anything.
    case confirmationIgnored(PurchaseID)
    case purchaseCancelled(PurchaseID)
    /// The purchase post of a purchase still waiting was deleted: a repost made before the delete
    /// may still arrive and buy; otherwise the purchase is cancelled when its window closes.
    case postDeleted(PurchaseID)
    /// A repost of an official post not yet recorded: kept until the post is.
    case parked
    case linked(CardAccountID)
    case linkCodeRefused(String)
    /// A card-linked offer loaded onto the poster's card.
    case creditLoaded(OfferID, CardAccountID)
    /// A card-linked offer the poster's card already holds.
    case creditAlreadyLoaded(OfferID)
    /// A card-linked offer that cannot be loaded now (not live, not for this card's state, budget spent).
    case loadRefused(OfferID, String)

    public var description: String {
        switch self {
        case .duplicate: "duplicate"
        case .rejected(let why): "rejected: \(why)"
        case .ignored: "ignored"
        case .unlinkedPost(let offer, let invited): "unlinked post for \(offer)\(invited ? " (invited to link)" : "")"
        case .quoteCounted(let offer): "quote of \(offer) counted"
        case .purchaseRequested(let id): "purchase \(id) requested"
        case .declined(let id, let reason): "purchase \(id) declined: \(reason.rawValue)"
        case .waitlisted(let id, let position): "purchase \(id) waitlisted at \(position)"
        case .confirmed(let id): "purchase \(id) confirmed and authorized"
        case .foreignRepost: "foreign repost"
        case .lateRepost(let id): "late repost for \(id)"
        case .confirmationIgnored(let id): "repost ignored for \(id)"
        case .purchaseCancelled(let id): "purchase \(id) cancelled"
        case .postDeleted(let id): "post of purchase \(id) deleted: cancelled at its window's end unless an earlier repost arrives"
        case .parked: "parked until its post is recorded"
        case .linked(let card): "linked to \(card)"
        case .linkCodeRefused(let why): "link code refused: \(why)"
        case .creditLoaded(let offer, let card): "\(offer) loaded onto \(card)"
        case .creditAlreadyLoaded(let offer): "\(offer) already loaded"
        case .loadRefused(let offer, let why): "load of \(offer) refused: \(why)"
        }
    }
}
