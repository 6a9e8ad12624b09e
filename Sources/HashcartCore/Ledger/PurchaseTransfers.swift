/// The ledger transfers of a purchase's life, with ids derived from the purchase or order, so
/// that replaying a cause (a redelivered repost, a retried ship call) finds them already there.
///
/// An authorization is one linked group of pending transfers out of the cardholder's credit line:
/// the merchant's share (price × units − fee), the issuer's fee, and the destination state's sales tax.
public enum PurchaseTransfers {
    public enum Part: String, CaseIterable, Sendable {
        case principal, fee, tax
    }

    static func id(_ prefix: String, _ subject: String, _ part: Part) -> TransferID {
        TransferID("\(prefix):\(subject):\(part.rawValue)")
    }

    /// The (part, debit, credit, amount) legs of a purchase, zero amounts left out.
    static func legs(of purchase: Purchase) -> [(Part, LedgerAccountID, LedgerAccountID, Int64)] {
        let card = LedgerAccounts.creditLine(purchase.cardAccountID).id
        let legs: [(Part, LedgerAccountID, LedgerAccountID, Int64)] = [
            (.principal, card, LedgerAccounts.merchantPayable(purchase.merchantID).id, purchase.amount.minorUnits - purchase.fee.minorUnits),
            (.fee, card, LedgerAccounts.issuerFeeRevenue.id, purchase.fee.minorUnits),
            (.tax, card, LedgerAccounts.salesTaxPayable(purchase.billingState).id, purchase.tax.minorUnits),
        ]
        return legs.filter { $0.3 > 0 }
    }

    /// The hold: pending transfers that lapse at `holdExpiresAt`.
    public static func authorization(of purchase: Purchase, holdExpiresAt: Instant, now: Instant) -> [Transfer] {
        let legs = legs(of: purchase)
        precondition(legs.reduce(0) { $0 + $1.3 } == purchase.total.minorUnits, "the hold is exactly the purchase total")
        return legs.map { part, debit, credit, amount in
            Transfer(id: id("auth", purchase.id.rawValue, part), debit: debit, credit: credit, amount: amount, type: .pending,
                     timeoutAt: holdExpiresAt, code: part == .principal ? .purchasePrincipal : part == .fee ? .purchaseFee : .purchaseTax,
                     createdAt: now)
        }
    }

    /// Resolves every leg of the hold: post (capture), void (cancel) or expire (lapsed).
    public static func resolution(of purchase: Purchase, as type: TransferType, now: Instant) -> [Transfer] {
        precondition(type == .postPending || type == .voidPending || type == .expirePending, "a resolution posts, voids or expires")
        let prefix = type == .postPending ? "capture" : type == .voidPending ? "void" : "expire"
        let code: TransferCode = type == .postPending ? .capture : type == .voidPending ? .void : .holdExpiry
        return legs(of: purchase).map { part, debit, credit, amount in
            Transfer(id: id(prefix, purchase.id.rawValue, part), debit: debit, credit: credit, amount: amount, type: type,
                     pendingID: id("auth", purchase.id.rawValue, part), code: code, createdAt: now)
        }
    }

    /// A refund of `amount` after `order.refundedAmount` was already refunded: money flows back to
    /// the credit line from the merchant, the fee revenue and the tax account, in proportion.
    ///
    /// Parts are computed on the cumulative refunded amount and differenced, so any sequence of
    /// partial refunds adds up to exactly the original parts when the whole total is refunded.
    public static func refund(of order: Order, amount: Money, now: Instant) -> [Transfer] {
        precondition(amount.isPositive && amount <= order.refundableAmount, "refunds never exceed what was captured")
        let before = order.refundedAmount.minorUnits
        let after = before + amount.minorUnits
        func taxPart(_ cumulative: Int64) -> Int64 {
            MinorUnitMath.multiplyRoundingHalfUp(cumulative, by: order.tax.minorUnits, dividedBy: order.total.minorUnits)
        }
        func feePart(_ cumulative: Int64) -> Int64 {
            guard order.amount.isPositive else { return 0 }
            return MinorUnitMath.multiplyRoundingHalfUp(cumulative - taxPart(cumulative), by: order.fee.minorUnits,
                                                        dividedBy: order.amount.minorUnits)
        }
        let tax = taxPart(after) - taxPart(before)
        let fee = feePart(after) - feePart(before)
        let principal = amount.minorUnits - tax - fee
        precondition(tax >= 0 && fee >= 0 && principal >= 0, "refund parts are never negative")
        let card = LedgerAccounts.creditLine(order.cardAccountID).id
        let prefix = "refund\(order.refundCount + 1)"
        let legs: [(Part, LedgerAccountID, Int64, TransferCode)] = [
            (.principal, LedgerAccounts.merchantPayable(order.merchantID).id, principal, .refundPrincipal),
            (.fee, LedgerAccounts.issuerFeeRevenue.id, fee, .refundFee),
            (.tax, LedgerAccounts.salesTaxPayable(order.billingState).id, tax, .refundTax),
        ]
        return legs.filter { $0.2 > 0 }.map { part, debit, value, code in
            Transfer(id: id(prefix, order.id.rawValue, part), debit: debit, credit: card, amount: value, code: code, createdAt: now)
        }
    }

    /// Grants (or raises) a credit line: the issuer's control account funds the cardholder's line.
    public static func creditLimit(card: CardAccountID, amount: Money, sequence: Int, now: Instant) -> Transfer {
        Transfer(id: TransferID("limit:\(card.rawValue):\(sequence)"), debit: LedgerAccounts.issuerCreditLines.id,
                 credit: LedgerAccounts.creditLine(card).id, amount: amount.minorUnits, code: .creditLimit, createdAt: now)
    }

    /// Moves a credit line from `old` to `new` limit: a raise is credited to the line, a cut
    /// debited from it (refused by the line's bound if the cardholder has used more than the
    /// new limit leaves). `changeID` names the change, so a replay of it is recognised.
    public static func creditLimitChange(card: CardAccountID, from old: Money, to new: Money, changeID: String, now: Instant) -> Transfer? {
        precondition(old.currency == new.currency, "a credit line keeps its currency")
        let id = TransferID("limit:\(card.rawValue):\(changeID)")
        let (line, issuer) = (LedgerAccounts.creditLine(card).id, LedgerAccounts.issuerCreditLines.id)
        if new > old {
            return Transfer(id: id, debit: issuer, credit: line, amount: new.minorUnits - old.minorUnits, code: .creditLimit, createdAt: now)
        }
        if new < old {
            return Transfer(id: id, debit: line, credit: issuer, amount: old.minorUnits - new.minorUnits, code: .creditLimitDecrease, createdAt: now)
        }
        return nil
    }
}
