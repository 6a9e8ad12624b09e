import HashcartCore

/// What the cardholder reads in their Hashcart account about each change to a purchase: the
/// exact reasons and amounts that never go to a network. One notification per change, its id
/// derived from what changed, so a replayed cause adds nothing.
extension Engine {
    func notifyCardholder(_ kind: String, about purchase: Purchase, suffix: String = "", message: String,
                          tx: any StoreTransaction, now: Instant) throws {
        try tx.addCardholderNotification(CardholderNotification(
            id: "ntf_\(kind)_\(purchase.id)\(suffix.isEmpty ? "" : "_" + suffix)", cardAccountID: purchase.cardAccountID,
            purchaseID: purchase.id, kind: kind, message: message, createdAt: now))
    }

    /// A purchase that never got its repost in time.
    func notifyExpired(_ purchase: Purchase, offer: Offer, tx: any StoreTransaction, now: Instant) throws {
        try notifyCardholder("expired", about: purchase,
                             message: "\(offer.title) (ref \(purchase.reference)): the window to repost closed, so nothing was bought or charged.",
                             tx: tx, now: now)
    }

    /// A purchase cancelled before it was confirmed (or while it waited in line).
    func notifyCancelledBeforeConfirming(_ purchase: Purchase, offer: Offer, reason: CancellationReason, tx: any StoreTransaction,
                                         now: Instant) throws {
        let why = switch reason {
        case .postDeleted: "you deleted your post before confirming"
        case .unlinked: "you unlinked your social account"
        case .cardholderCancelled: "you cancelled it"
        default: "it could not go on"
        }
        try notifyCardholder("cancelled", about: purchase,
                             message: "\(offer.title) (ref \(purchase.reference)) was cancelled because \(why); nothing was charged.",
                             tx: tx, now: now)
    }

    /// An order cancelled after confirmation, before it shipped: the hold released or the money refunded.
    func notifyOrderCancelled(_ order: Order, purchase: Purchase, offer: Offer, reason: CancellationReason, refunded: Money,
                              tx: any StoreTransaction, now: Instant) throws {
        let who = switch reason {
        case .merchantCancelled: "The merchant cancelled"
        case .cardholderCancelled: "You cancelled"
        case .holdExpired: "The authorization lapsed before the merchant shipped, which cancelled"
        case .postDeleted: "Your post was deleted before your repost, which cancelled"
        default: "Hashcart cancelled"
        }
        let money = refunded.isPositive ? "\(refunded) was refunded to your card." : "The hold on your card was released; nothing was charged."
        try notifyCardholder("cancelled", about: purchase, message: "\(who) order \(order.reference) (\(offer.title)). \(money)", tx: tx, now: now)
    }

    func notifyShipped(_ order: Order, purchase: Purchase, offer: Offer, tx: any StoreTransaction, now: Instant) throws {
        try notifyCardholder("shipped", about: purchase,
                             message: "\(offer.title) (ref \(order.reference)) has shipped to your billing address: \(order.carrier ?? "carrier") tracking \(order.tracking ?? "-"). \(order.total) was charged to your card.",
                             tx: tx, now: now)
    }

    func notifyRefunded(_ order: Order, amount: Money, purchase: Purchase, offer: Offer, tx: any StoreTransaction, now: Instant) throws {
        try notifyCardholder("refunded", about: purchase, suffix: String(order.refundCount),
                             message: "\(amount) was refunded to your card for \(offer.title) (ref \(order.reference)); \(order.refundedAmount) of \(order.capturedAmount) refunded in all.",
                             tx: tx, now: now)
    }

    /// A new link: the cardholder hears of it whichever way it was made, so a link they did not
    /// make (a sign-in link that reached someone else) is seen and can be ended at once.
    func notifyLinked(_ link: Link, how: String, tx: any StoreTransaction, now: Instant) throws {
        try tx.addCardholderNotification(CardholderNotification(
            id: "ntf_linked_\(link.id)", cardAccountID: link.cardAccountID, purchaseID: nil, kind: "linked",
            message: "Your card is now linked to the \(link.identity.network) account \(link.identity.handle) (\(how)). If that was not you, unlink it now: its posts can buy with your card.",
            createdAt: now))
    }
}
