/// A cardholder's load of a card-linked offer: the post of its hashtag from a linked identity.
/// A card loads an offer once; only transactions after the load can earn its credit.
public struct StatementCreditLoad: Sendable, Hashable, Codable {
    /// The most loads a card transaction is matched against (the card's newest, of offers not
    /// ended), and so the most credits one transaction earns.
    public static let maximumReadPerCard = 200

    public var offerID: OfferID
    public var cardAccountID: CardAccountID
    public var loadedAt: Instant

    public init(offerID: OfferID, cardAccountID: CardAccountID, loadedAt: Instant) {
        self.offerID = offerID
        self.cardAccountID = cardAccountID
        self.loadedAt = loadedAt
    }
}

public enum StatementCreditKindTag {}
/// `scr_<offer>_<card>`: one credit per offer and card, by construction.
public typealias StatementCreditID = Identifier<StatementCreditKindTag>

public enum StatementCreditState: String, Sendable, Hashable, Codable, CaseIterable {
    /// On the cardholder's credit line.
    case earned
    /// Clawed back: the transaction that earned it was reversed.
    case reversed
}

/// A statement credit earned by a qualifying card transaction.
public struct StatementCredit: Sendable, Hashable, Codable {
    public var id: StatementCreditID
    public var offerID: OfferID
    public var merchantID: MerchantID
    public var cardAccountID: CardAccountID
    /// The transaction that earned it.
    public var transactionID: CardTransactionID
    public var amount: Money
    public var state: StatementCreditState
    public var earnedAt: Instant
    public var reversedAt: Instant?

    public init(offerID: OfferID, merchantID: MerchantID, cardAccountID: CardAccountID, transactionID: CardTransactionID, amount: Money,
                earnedAt: Instant) {
        self.id = Self.id(offer: offerID, card: cardAccountID)
        self.offerID = offerID
        self.merchantID = merchantID
        self.cardAccountID = cardAccountID
        self.transactionID = transactionID
        self.amount = amount
        self.state = .earned
        self.earnedAt = earnedAt
    }

    public static func id(offer: OfferID, card: CardAccountID) -> StatementCreditID {
        StatementCreditID("scr_\(offer.rawValue)_\(card.rawValue)")
    }
}

/// Whether a card transaction earns a loaded offer's credit: the rules, in a fixed order.
public enum StatementCreditRule {
    public enum Decision: String, Sendable, Hashable, CaseIterable {
        case qualifies
        case notAPurchase = "not_a_purchase"
        case otherAcceptor = "other_acceptor"
        case otherCategory = "other_category"
        case belowThreshold = "below_threshold"
        case beforeLoad = "before_load"
        case outsideWindow = "outside_window"
        case offerStopped = "offer_stopped"
        case alreadyEarned = "already_earned"
        case budgetExhausted = "budget_exhausted"
    }

    /// - Parameters:
    ///   - credited: what the offer has already paid out in credits not reversed.
    ///   - alreadyEarned: whether this card already has the offer's credit (earned or reversed:
    ///     once per card, a reversal does not give a second chance).
    public static func evaluate(_ transaction: CardTransaction, offer: Offer, terms: StatementCreditTerms, load: StatementCreditLoad,
                                credited: Money, alreadyEarned: Bool) -> Decision {
        guard transaction.kind == .purchase else { return .notAPurchase }
        guard terms.acceptorIDs.contains(transaction.acceptorID) else { return .otherAcceptor }
        if !terms.merchantCategoryCodes.isEmpty {
            guard let code = transaction.merchantCategoryCode, terms.merchantCategoryCodes.contains(code) else { return .otherCategory }
        }
        guard transaction.amount >= terms.spendThreshold else { return .belowThreshold }
        guard transaction.occurredAt >= load.loadedAt else { return .beforeLoad }
        guard transaction.occurredAt >= offer.startsAt, transaction.occurredAt < offer.endsAt else { return .outsideWindow }
        guard !offer.killSwitch, offer.lifecycle == .published else { return .offerStopped }
        guard !alreadyEarned else { return .alreadyEarned }
        guard credited.minorUnits + terms.credit.minorUnits <= terms.budget.minorUnits else { return .budgetExhausted }
        return .qualifies
    }
}

/// The ledger transfers of a statement credit, with ids derived from the credit, so a redelivered
/// transaction finds them already there. The merchant funds it: its payable is debited through
/// statement-credit expense, which nets to zero, onto the cardholder's credit line.
public enum StatementCreditTransfers {
    /// The credit: payable → expense, expense → credit line (one linked group).
    public static func earning(_ credit: StatementCredit, now: Instant) -> [Transfer] {
        precondition(credit.amount.isPositive, "a statement credit moves a positive amount")
        let expense = LedgerAccounts.statementCreditExpense.id
        return [
            Transfer(id: TransferID("credit:\(credit.id.rawValue):funding"), debit: LedgerAccounts.merchantPayable(credit.merchantID).id,
                     credit: expense, amount: credit.amount.minorUnits, code: .statementCreditFunding, createdAt: now),
            Transfer(id: TransferID("credit:\(credit.id.rawValue):statement"), debit: expense,
                     credit: LedgerAccounts.creditLine(credit.cardAccountID).id, amount: credit.amount.minorUnits, code: .statementCredit,
                     createdAt: now),
        ]
    }

    /// The claw-back of a reversed credit: the same legs the other way.
    public static func clawback(_ credit: StatementCredit, now: Instant) -> [Transfer] {
        earning(credit, now: now).map { leg in
            let part = leg.id.rawValue.split(separator: ":").last.map(String.init) ?? "leg"
            return Transfer(id: TransferID("clawback:\(credit.id.rawValue):\(part)"), debit: leg.creditAccountID, credit: leg.debitAccountID,
                            amount: leg.amount, code: .statementCreditClawback, createdAt: now)
        }.reversed()
    }
}
