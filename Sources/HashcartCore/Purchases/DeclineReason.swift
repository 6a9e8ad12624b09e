/// Why a purchase was declined. The exact reason goes only to the cardholder; the network sees
/// ``publicReason`` ("sold out", "offer ended", or a generic line).
public enum DeclineReason: String, Sendable, Hashable, Codable, CaseIterable {
    case offerNotLive = "offer_not_live"
    case offerEnded = "offer_ended"
    /// The merchant paused the offer while the purchase waited for its confirmation.
    case offerPaused = "offer_paused"
    case soldOut = "sold_out"
    /// Fewer units are left than the post asked for (`#Tag x3` with two left).
    case notEnoughLeft = "not_enough_left"
    /// Something after the tag looked like a quantity but was not a count of 1 to 999 (`x0`, `x1.5`).
    case quantityUnreadable = "quantity_unreadable"
    case stateNotEligible = "state_not_eligible"
    case perCardholderLimit = "per_cardholder_limit"
    case dailySpendCap = "daily_spend_cap"
    case velocity = "velocity"
    case linkTooNew = "link_too_new"
    case offerKillSwitch = "offer_kill_switch"
    /// The issuer stopped every pay-by-post purchase (its kill switch for everything).
    case issuerKillSwitch = "issuer_kill_switch"
    case insufficientCredit = "insufficient_credit"
    /// The issuer closed the card account.
    case cardClosed = "card_closed"

    /// What may be said in public about this decline.
    public var publicReason: PublicDeclineReason {
        switch self {
        case .soldOut: .soldOut
        case .offerEnded: .offerEnded
        case .notEnoughLeft: .notEnoughLeft
        case .quantityUnreadable: .quantityUnreadable
        default: .generic
        }
    }

    /// The message the cardholder sees in their Hashcart account.
    public var cardholderMessage: String {
        switch self {
        case .offerNotLive: "The offer is not open for purchases right now."
        case .offerEnded: "The offer has ended."
        case .offerPaused: "The merchant paused the offer before your confirmation arrived; nothing was charged."
        case .soldOut: "The offer sold out before your purchase could be reserved."
        case .notEnoughLeft: "Fewer units are left than you asked for; post again with a smaller quantity."
        case .quantityUnreadable: "We couldn't read the quantity in your post. Write it right after the hashtag as x and a number, e.g. x2; nothing was reserved."
        case .stateNotEligible: "The offer is not available in your billing state."
        case .perCardholderLimit: "That would take you past this offer's limit per cardholder."
        case .dailySpendCap: "This purchase would exceed your daily spending limit for social purchases."
        case .velocity: "Too many purchases in the last hour; please try again later."
        case .linkTooNew: "Your social account was linked too recently; please try again later."
        case .offerKillSwitch: "The issuer has stopped purchases of this offer."
        case .issuerKillSwitch: "The issuer has paused all social purchases for now; nothing was charged."
        case .insufficientCredit: "Your available credit is not enough for this purchase."
        case .cardClosed: "This card account is closed; nothing was charged."
        }
    }
}

/// The only decline reasons that may appear on a network.
public enum PublicDeclineReason: String, Sendable, Hashable, Codable {
    case soldOut = "sold_out"
    case offerEnded = "offer_ended"
    case notEnoughLeft = "not_enough_left"
    case quantityUnreadable = "quantity_unreadable"
    case generic
}
