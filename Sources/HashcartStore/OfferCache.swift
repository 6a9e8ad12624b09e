import HashcartCore

/// The offers one write transaction has read or changed, by id and by hashtag: both stores keep
/// them here for the life of the transaction and write the changed ones back once, at commit.
struct OfferCache {
    private(set) var offers: [OfferID: Offer] = [:]
    private var byHashtag: [String: OfferID] = [:]
    /// Offers changed since the last write-back.
    private(set) var dirty: Set<OfferID> = []

    /// The cached offer not ended that owns `hashtagKey`, if any.
    func live(hashtagKey: String) -> Offer? {
        guard let id = byHashtag[hashtagKey], let offer = offers[id], offer.lifecycle != .ended else { return nil }
        return offer
    }

    subscript(id: OfferID) -> Offer? { offers[id] }

    /// Keeps an offer read from the database, unless a newer one is already held.
    mutating func remember(_ offer: Offer) -> Offer {
        if let held = offers[offer.id] { return held }
        offers[offer.id] = offer
        byHashtag[offer.hashtag.key] = offer.id
        return offer
    }

    /// Records a change, checking that no offer is ever oversold.
    mutating func update(_ offer: Offer) {
        precondition(offer.reservedUnits >= 0 && offer.soldUnits >= 0, "unit counts never go negative")
        if let quantity = offer.quantity {
            precondition(offer.reservedUnits + offer.soldUnits <= quantity, "no offer is ever oversold")
        }
        if let previous = offers[offer.id], previous.hashtag.key != offer.hashtag.key {
            byHashtag[previous.hashtag.key] = nil
        }
        offers[offer.id] = offer
        byHashtag[offer.hashtag.key] = offer.id
        dirty.insert(offer.id)
    }

    mutating func written() {
        dirty = []
    }
}
