/// What one card transaction did, as the card feed and `POST /v1/card_transactions` report it
/// and the store keeps it (``CardTransactionRecord/outcome``).
public enum CardTransactionOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// Seen before under the same processing key: nothing changed.
    case duplicate
    /// No card account has this card's fingerprint: kept, earns nothing.
    case unknownCard = "unknown_card"
    /// A purchase that earned no credit (no loaded offer it qualifies for).
    case noCredit = "no_credit"
    /// A purchase that earned one or more statement credits.
    case credited
    /// A reversal that clawed back the credits its purchase earned.
    case clawedBack = "clawed_back"
    /// A reversal that left the credits standing: what remains of the purchase still qualifies,
    /// or it earned none.
    case reversalKept = "reversal_kept"
    /// A reversal whose purchase Hashcart never saw.
    case reversalUnmatched = "reversal_unmatched"
    /// A reversal whose claw-back the credit line cannot take (the credit was already spent):
    /// the credit stands and the operator is told (a merchant event and the audit's report).
    case clawbackRefused = "clawback_refused"
}

/// A card transaction as the store keeps it: the message (its PAN already replaced by the
/// fingerprint), the card account it matched, when it arrived and what it did.
public struct CardTransactionRecord: Sendable, Hashable, Codable {
    public var transaction: CardTransaction
    public var cardAccountID: CardAccountID?
    public var receivedAt: Instant
    public var outcome: CardTransactionOutcome

    public init(transaction: CardTransaction, cardAccountID: CardAccountID?, receivedAt: Instant, outcome: CardTransactionOutcome) {
        precondition(outcome != .duplicate, "a duplicate is not recorded again")
        self.transaction = transaction
        self.cardAccountID = cardAccountID
        self.receivedAt = receivedAt
        self.outcome = outcome
    }
}

/// Turns a card number into its keyed fingerprint: the store does it, under its own key, so a
/// PAN crosses Hashcart only as far as this call.
public protocol CardFingerprinter: Sendable {
    func cardFingerprint(of pan: PrimaryAccountNumber) -> CardFingerprint
}
