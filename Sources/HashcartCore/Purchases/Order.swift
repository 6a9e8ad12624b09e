/// Where an order is for the merchant.
public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case created, shipped, cancelled, refunded
}

/// Something that happens to an order. See ``Order/applying(_:now:)``.
public enum OrderEvent: Sendable, Hashable {
    /// The authorization was captured for `amount`.
    case captured(Money)
    case ship(carrier: String, tracking: String)
    /// Cancelled before shipment (by merchant, cardholder, or a lapsed hold). If money was
    /// captured, `refunding` is what the caller has just refunded: all of what is still refundable.
    case cancel(refunding: Money)
    /// Money returned to the card; at most what was captured, in total.
    case refund(Money)
}

public struct OrderTransitionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var orderID: OrderID
    public var status: OrderStatus
    public var message: String
    public var description: String { "order \(orderID) is \(status.rawValue): \(message)" }
}

/// What the merchant fulfils: ``units`` units of an offer, shipped to the cardholder's billing address.
public struct Order: Sendable, Hashable, Codable {
    public var id: OrderID
    public var purchaseID: PurchaseID
    public var merchantID: MerchantID
    public var offerID: OfferID
    public var cardAccountID: CardAccountID
    public var reference: String
    public var unitPrice: Money
    public var units: Int64
    public var tax: Money
    public var total: Money
    public var fee: Money
    public var taxRatePartsPerMillion: Int64
    public var taxTableVersion: String
    public var billingState: USState
    public var status: OrderStatus
    public var capturedAmount: Money
    public var refundedAmount: Money
    /// How many refunds were made (each one's ledger transfers are keyed by its number).
    public var refundCount: Int64
    public var carrier: String?
    public var tracking: String?
    public var createdAt: Instant
    public var updatedAt: Instant

    public init(purchase: Purchase, now: Instant) {
        precondition(purchase.state == .authorized, "an order is created from an authorized purchase")
        id = Order.id(for: purchase.id)
        purchaseID = purchase.id
        merchantID = purchase.merchantID
        offerID = purchase.offerID
        cardAccountID = purchase.cardAccountID
        reference = purchase.reference
        unitPrice = purchase.unitPrice
        units = purchase.units
        tax = purchase.tax
        total = purchase.total
        fee = purchase.fee
        taxRatePartsPerMillion = purchase.taxRatePartsPerMillion
        taxTableVersion = purchase.taxTableVersion
        billingState = purchase.billingState
        status = .created
        capturedAmount = .zero
        refundedAmount = .zero
        refundCount = 0
        createdAt = now
        updatedAt = now
    }

    /// Every field, as a store reads an order back.
    public init(id: OrderID, purchaseID: PurchaseID, merchantID: MerchantID, offerID: OfferID, cardAccountID: CardAccountID,
                reference: String, unitPrice: Money, units: Int64 = 1, tax: Money, total: Money, fee: Money, taxRatePartsPerMillion: Int64,
                taxTableVersion: String, billingState: USState, status: OrderStatus, capturedAmount: Money, refundedAmount: Money,
                refundCount: Int64, carrier: String?, tracking: String?, createdAt: Instant, updatedAt: Instant) {
        self.id = id
        self.purchaseID = purchaseID
        self.merchantID = merchantID
        self.offerID = offerID
        self.cardAccountID = cardAccountID
        self.reference = reference
        self.unitPrice = unitPrice
        self.units = units
        self.tax = tax
        self.total = total
        self.fee = fee
        self.taxRatePartsPerMillion = taxRatePartsPerMillion
        self.taxTableVersion = taxTableVersion
        self.billingState = billingState
        self.status = status
        self.capturedAmount = capturedAmount
        self.refundedAmount = refundedAmount
        self.refundCount = refundCount
        self.carrier = carrier
        self.tracking = tracking
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public static func id(for purchaseID: PurchaseID) -> OrderID {
        OrderID("ord_" + purchaseID.rawValue.dropFirst(4))
    }

    /// The line before tax: ``unitPrice`` times ``units``.
    public var amount: Money { Money(minorUnits: unitPrice.minorUnits * units, currency: unitPrice.currency) }

    /// A partial refund leaves the order shipped (or created); a full one makes it refunded.
    public var isPartiallyRefunded: Bool { refundedAmount.isPositive && refundedAmount < capturedAmount }
    public var refundableAmount: Money { Money(minorUnits: capturedAmount.minorUnits - refundedAmount.minorUnits) }

    public func applying(_ event: OrderEvent, now: Instant) throws(OrderTransitionError) -> Order {
        var next = self
        next.updatedAt = now
        switch (status, event) {
        case (.created, .captured(let amount)), (.shipped, .captured(let amount)):
            guard capturedAmount == .zero else { throw refusal("the order was already captured") }
            precondition(amount == total, "an order is captured for its total")
            next.capturedAmount = amount
        case (.created, .ship(let carrier, let tracking)):
            next.status = .shipped
            next.carrier = carrier
            next.tracking = tracking
        case (.created, .cancel(let refunding)):
            guard refunding == refundableAmount else {
                throw refusal("cancelling must refund the \(refundableAmount) captured, not \(refunding)")
            }
            if refunding.isPositive {
                next.refundedAmount = capturedAmount
                next.refundCount += 1
            }
            next.status = .cancelled
        case (.created, .refund(let amount)), (.shipped, .refund(let amount)):
            guard amount.isPositive else { throw refusal("a refund must be a positive amount") }
            guard amount <= refundableAmount else {
                throw refusal("a refund of \(amount) exceeds the \(refundableAmount) still refundable")
            }
            next.refundedAmount = Money(minorUnits: refundedAmount.minorUnits + amount.minorUnits)
            next.refundCount += 1
            if next.refundedAmount == capturedAmount { next.status = .refunded }
        case (.shipped, .ship):
            throw refusal("the order was already shipped")
        case (.shipped, .cancel):
            throw refusal("a shipped order cannot be cancelled; refund it instead")
        default:
            throw refusal("this change is not possible for a \(status.rawValue) order")
        }
        precondition(next.refundedAmount <= next.capturedAmount, "refunds never exceed what was captured")
        return next
    }

    private func refusal(_ message: String) -> OrderTransitionError {
        OrderTransitionError(orderID: id, status: status, message: message)
    }
}
