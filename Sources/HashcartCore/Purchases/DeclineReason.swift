/// Why a purchase was declined. The exact reason goes only to the cardholder; the network sees
/// ``publicReason`` ("sold out", "offer ended", or a generic line).
public enum DeclineReason: String, Sendable, Hashable, Codable, CaseIterable {
    case offerNotLive = "offer_not_live"
    case offerEnded = "offer_ended"
    /// The merchant paused the offer while the purchase waited for its confirmation.
    case offerPaused = "offer_paused"
    case soldOut = "sold_out"
    case stateNotEligible = "state_not_eligible"
    case perCardholderLimit = "per_cardholder_limit"
    case dailySpendCap = "daily_spend_cap"
    case velocity = "velocity"
    case linkTooNew = "link_too_new"
    case offerKillSwitch = "offer_kill_switch"
    /// The issuer stopped every pay-by-post purchase (its kill switch for everything).
    case issuerKillSwitch = "issuer_kill_switch"
    case insufficientCredit = "insufficient_credit"

    /// What may be said in public about this decline.
    public var publicReason: PublicDeclineReason {
        switch self {
        case .soldOut: .soldOut
        case .offerEnded: .offerEnded
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
        case .stateNotEligible: "The offer is not available in your billing state."
        case .perCardholderLimit: "You have reached this offer's limit per cardholder."
        case .dailySpendCap: "This purchase would exceed your daily spending limit for social purchases."
        case .velocity: "Too many purchases in the last hour; please try again later."
        case .linkTooNew: "Your social account was linked too recently; please try again later."
        case .offerKillSwitch: "The issuer has stopped purchases of this offer."
        case .issuerKillSwitch: "The issuer has paused all social purchases for now; nothing was charged."
        case .insufficientCredit: "Your available credit is not enough for this purchase."
        }
    }
}

/// The only decline reasons that may appear on a network.
public enum PublicDeclineReason: String, Sendable, Hashable, Codable {
    case soldOut = "sold_out"
    case offerEnded = "offer_ended"
    case generic
}
