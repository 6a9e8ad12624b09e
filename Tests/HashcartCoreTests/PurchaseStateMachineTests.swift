import Testing
import HashcartCore

// MARK: - Fixtures

private let t0 = Instant(secondsSinceEpoch: 1_750_000_000)
private let sevenDays: Int64 = 7 * 86_400
private let alice = SocialIdentity(network: .sandbox, userID: "u_alice", handle: "@alice")

/// A $149.99 + $6.00 tax purchase by @alice, in `state`, whose window closes at `expiresAt`.
private func makePurchase(_ state: PurchaseState = .requested, expiresAt: Instant = t0.adding(seconds: 900),
                          holdExpiresAt: Instant? = nil) -> Purchase {
    let id = Purchase.id(network: .sandbox, postID: "42")
    var purchase = Purchase(
        id: id, offerID: "off_kindle", merchantID: "mer_books", cardAccountID: "acct_alice", identity: alice,
        purchasePostID: "42", reference: OrderReference.make(for: id), state: state,
        unitPrice: .usd(14_999), tax: .usd(600), total: .usd(15_599), fee: .usd(450),
        taxRatePartsPerMillion: 40_000, taxTableVersion: "2025-01-01", billingState: .NY,
        confirmationWindowSeconds: 900, requestedAt: t0, expiresAt: expiresAt)
    purchase.holdExpiresAt = holdExpiresAt
    return purchase
}

/// Expects `event` to be refused for `purchase` at `now`, with an error naming the purchase, its state and the event.
private func expectRefused(_ purchase: Purchase, _ event: PurchaseEvent, now: Instant,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    let error = #expect(throws: PurchaseTransitionError.self, sourceLocation: sourceLocation) {
        try purchase.applying(event, now: now)
    }
    #expect(error?.purchaseID == purchase.id, sourceLocation: sourceLocation)
    #expect(error?.state == purchase.state, sourceLocation: sourceLocation)
    #expect(error?.event == Purchase.name(of: event), sourceLocation: sourceLocation)
}

// MARK: - Purchase

@Suite struct PurchaseTransitionTests {
    @Test func happyPathFromPostToCapture() throws {
        let requested = makePurchase()
        #expect(requested.state == .requested && requested.state.holdsReservation)

        let posted = t0.adding(seconds: 2)
        let awaiting = try requested.applying(.confirmationPosted(postID: "reply_1"), now: posted)
        #expect(awaiting.state == .awaitingConfirmation)
        #expect(awaiting.confirmationPostID == "reply_1")
        #expect(awaiting.expiresAt == posted.adding(seconds: 900), "the window starts when the reply is on the network")

        let confirmedAt = posted.adding(seconds: 61)
        let confirmed = try awaiting.applying(.confirm(repostedAt: posted.adding(seconds: 60)), now: confirmedAt)
        #expect(confirmed.state == .confirmed && confirmed.confirmedAt == posted.adding(seconds: 60))  // the repost's network time
        #expect(!confirmed.state.holdsReservation && confirmed.state.countsTowardLimits)

        let holdExpiresAt = confirmedAt.adding(seconds: sevenDays)
        let authorized = try confirmed.applying(.authorize(holdExpiresAt: holdExpiresAt), now: confirmedAt)
        #expect(authorized.state == .authorized)
        #expect(authorized.authorizedAt == confirmedAt && authorized.holdExpiresAt == holdExpiresAt)

        let capturedAt = confirmedAt.adding(seconds: 3600)
        let captured = try authorized.applying(.capture, now: capturedAt)
        #expect(captured.state == .captured && captured.state.isTerminal)
        #expect(captured.capturedAt == capturedAt && captured.endedAt == capturedAt)
        #expect(captured.total == .usd(15_599), "amounts never change along the way")
    }

    @Test(arguments: [PurchaseState.requested, .awaitingConfirmation])
    func unconfirmedPurchaseExpiresAtTheEndOfItsWindow(state: PurchaseState) throws {
        let purchase = makePurchase(state, expiresAt: t0.adding(seconds: 900))
        let expired = try purchase.applying(.expire, now: t0.adding(seconds: 900))
        #expect(expired.state == .expired && expired.endedAt == t0.adding(seconds: 900))
        #expect(!expired.state.holdsReservation && !expired.state.countsTowardLimits, "the unit is released")
    }

    @Test(arguments: [PurchaseState.requested, .awaitingConfirmation])
    func expiryIsRefusedWhileTheWindowIsOpen(state: PurchaseState) {
        let purchase = makePurchase(state, expiresAt: t0.adding(seconds: 900))
        expectRefused(purchase, .expire, now: t0.adding(seconds: 900).adding(milliseconds: -1))
        expectRefused(purchase, .expire, now: t0)
    }

    @Test(arguments: [PurchaseState.requested, .awaitingConfirmation, .confirmed], DeclineReason.allCases)
    func declineRecordsTheReason(state: PurchaseState, reason: DeclineReason) throws {
        let declined = try makePurchase(state).applying(.decline(reason), now: t0.adding(seconds: 5))
        #expect(declined.state == .declined && declined.declineReason == reason)
        #expect(declined.endedAt == t0.adding(seconds: 5))
    }

    @Test(arguments: [PurchaseState.requested, .awaitingConfirmation],
          [CancellationReason.postDeleted, .unlinked, .cardholderCancelled])
    func cardholderCancelsAnUnconfirmedPurchase(state: PurchaseState, reason: CancellationReason) throws {
        let cancelled = try makePurchase(state).applying(.cancel(reason), now: t0.adding(seconds: 5))
        #expect(cancelled.state == .cancelled && cancelled.cancellationReason == reason)
        #expect(cancelled.endedAt == t0.adding(seconds: 5))
    }

    @Test(arguments: [PurchaseState.requested, .awaitingConfirmation], [CancellationReason.merchantCancelled, .holdExpired])
    func onlyTheCardholderCancelsAnUnconfirmedPurchase(state: PurchaseState, reason: CancellationReason) {
        expectRefused(makePurchase(state), .cancel(reason), now: t0.adding(seconds: 5))
    }

    @Test(arguments: [CancellationReason.cardholderCancelled, .merchantCancelled])
    func authorizedPurchaseIsCancelledBeforeShipment(reason: CancellationReason) throws {
        let purchase = makePurchase(.authorized, holdExpiresAt: t0.adding(seconds: sevenDays))
        let cancelled = try purchase.applying(.cancel(reason), now: t0.adding(seconds: 60))
        #expect(cancelled.state == .cancelled && cancelled.cancellationReason == reason)
    }

    @Test func unlinkingDoesNotCancelAConfirmedPurchase() {
        expectRefused(makePurchase(.authorized, holdExpiresAt: t0.adding(seconds: sevenDays)), .cancel(.unlinked), now: t0)
    }

    /// A delete made before the repost but delivered after it cancels (the engine compares the times).
    @Test func aDeleteThatPrecededTheRepostCancelsAConfirmedPurchase() throws {
        let cancelled = try makePurchase(.authorized, holdExpiresAt: t0.adding(seconds: sevenDays)).applying(.cancel(.postDeleted), now: t0)
        #expect(cancelled.state == .cancelled && cancelled.cancellationReason == .postDeleted)
    }

    @Test func lapsedHoldCancelsOnlyOnceTheHoldHasExpired() throws {
        let holdExpiresAt = t0.adding(seconds: sevenDays)
        let purchase = makePurchase(.authorized, holdExpiresAt: holdExpiresAt)
        expectRefused(purchase, .cancel(.holdExpired), now: holdExpiresAt.adding(milliseconds: -1))
        expectRefused(purchase, .cancel(.holdExpired), now: t0)
        let cancelled = try purchase.applying(.cancel(.holdExpired), now: holdExpiresAt)
        #expect(cancelled.state == .cancelled && cancelled.cancellationReason == .holdExpired)
    }

    @Test func repostAtExactlyTheEndOfTheWindowConfirms() throws {
        let expiresAt = t0.adding(seconds: 900)
        let purchase = makePurchase(.awaitingConfirmation, expiresAt: expiresAt)
        let confirmed = try purchase.applying(.confirm(repostedAt: expiresAt), now: expiresAt)
        #expect(confirmed.state == .confirmed)
        expectRefused(purchase, .confirm(repostedAt: expiresAt.adding(milliseconds: 1)), now: expiresAt.adding(milliseconds: 1))
    }

    @Test func repostMadeInTimeButDeliveredLateStillConfirms() throws {
        let expiresAt = t0.adding(seconds: 900)
        let purchase = makePurchase(.awaitingConfirmation, expiresAt: expiresAt)
        let deliveredAt = expiresAt.adding(seconds: 30)
        let confirmed = try purchase.applying(.confirm(repostedAt: expiresAt.adding(seconds: -1)), now: deliveredAt)
        #expect(confirmed.state == .confirmed && confirmed.confirmedAt == expiresAt.adding(seconds: -1))  // when it was reposted
    }

    // MARK: Every state × every event

    /// One event of each kind, with arguments that satisfy every time guard at `matrixNow`, so only
    /// the state decides.
    static let matrixNow = t0.adding(seconds: 900)
    static let events: [(label: String, event: PurchaseEvent)] = [
        ("waitlistTurn", .waitlistTurn),
        ("confirmationPosted", .confirmationPosted(postID: "reply_9")),
        ("confirm", .confirm(repostedAt: matrixNow)),
        ("authorize", .authorize(holdExpiresAt: matrixNow.adding(seconds: sevenDays))),
        ("capture", .capture),
        ("expire", .expire),
        ("decline", .decline(.soldOut)),
    ] + CancellationReason.allCases.map { ("cancel.\($0.rawValue)", .cancel($0)) }

    /// The only transitions a purchase makes. Everything else is refused.
    static let allowed: [PurchaseState: Set<String>] = [
        .waitlisted: ["waitlistTurn", "decline", "cancel.post_deleted", "cancel.unlinked", "cancel.cardholder_cancelled", "cancel.waitlist_closed"],
        .requested: ["confirmationPosted", "expire", "decline", "cancel.post_deleted", "cancel.unlinked", "cancel.cardholder_cancelled"],
        .awaitingConfirmation: ["confirm", "expire", "decline", "cancel.post_deleted", "cancel.unlinked", "cancel.cardholder_cancelled"],
        .confirmed: ["authorize", "decline"],
        .authorized: ["capture", "cancel.post_deleted", "cancel.cardholder_cancelled", "cancel.merchant_cancelled", "cancel.hold_expired"],
        .captured: [], .expired: [], .declined: [], .cancelled: [],
    ]

    @Test(arguments: PurchaseState.allCases)
    func onlyTheAllowedTransitionsHappen(state: PurchaseState) throws {
        let purchase = makePurchase(state, expiresAt: Self.matrixNow, holdExpiresAt: Self.matrixNow)
        let allowed = try #require(Self.allowed[state])
        for (label, event) in Self.events {
            if allowed.contains(label) {
                let next = try purchase.applying(event, now: Self.matrixNow)
                #expect(next.state != state, "\(state) + \(label) moves the purchase")
            } else {
                expectRefused(purchase, event, now: Self.matrixNow)
            }
        }
    }

    /// A turn gives a fresh window from the moment it is given; the line's close time is dropped.
    @Test func aWaitlistTurnStartsAFreshWindow() throws {
        let waiting = makePurchase(.waitlisted, expiresAt: t0.adding(seconds: 86_400))
        let turnAt = t0.adding(seconds: 3_600)
        let turned = try waiting.applying(.waitlistTurn, now: turnAt)
        #expect(turned.state == .requested && turned.expiresAt == turnAt.adding(seconds: waiting.confirmationWindowSeconds))
        #expect(!PurchaseState.waitlisted.holdsReservation && !PurchaseState.waitlisted.isTerminal)
    }

    @Test(arguments: PurchaseState.allCases)
    func terminalStatesAreExactlyThoseWithoutTransitions(state: PurchaseState) {
        #expect(state.isTerminal == Self.allowed[state]!.isEmpty)
    }
}

// MARK: - Order

/// The order for an authorized purchase, created at t0.
private func makeOrder(status: OrderStatus = .created, captured: Bool = false) -> Order {
    let purchase = makePurchase(.authorized, holdExpiresAt: t0.adding(seconds: sevenDays))
    var order = Order(purchase: purchase, now: t0)
    order.status = status
    if captured { order.capturedAmount = order.total }
    return order
}

private func expectRefused(_ order: Order, _ event: OrderEvent, sourceLocation: SourceLocation = #_sourceLocation) {
    let error = #expect(throws: OrderTransitionError.self, sourceLocation: sourceLocation) {
        try order.applying(event, now: t0.adding(seconds: 60))
    }
    #expect(error?.orderID == order.id && error?.status == order.status, sourceLocation: sourceLocation)
}

@Suite struct OrderTransitionTests {
    @Test func orderCopiesTheAuthorizedPurchase() {
        let order = makeOrder()
        #expect(order.id == "ord_sandbox_42" && order.purchaseID == "pur_sandbox_42")
        #expect(order.status == .created)
        #expect(order.unitPrice == .usd(14_999) && order.tax == .usd(600) && order.total == .usd(15_599) && order.fee == .usd(450))
        #expect(order.billingState == .NY && order.taxTableVersion == "2025-01-01")
        #expect(order.capturedAmount == .zero && order.refundedAmount == .zero && order.refundableAmount == .zero)
    }

    @Test func captureOnConfirmationThenShip() throws {
        let captured = try makeOrder().applying(.captured(.usd(15_599)), now: t0.adding(seconds: 1))
        #expect(captured.status == .created && captured.capturedAmount == .usd(15_599))
        #expect(captured.refundableAmount == .usd(15_599) && captured.updatedAt == t0.adding(seconds: 1))

        let shipped = try captured.applying(.ship(carrier: "UPS", tracking: "1Z999"), now: t0.adding(seconds: 86_400))
        #expect(shipped.status == .shipped && shipped.carrier == "UPS" && shipped.tracking == "1Z999")
        #expect(shipped.capturedAmount == .usd(15_599))
    }

    @Test func captureOnShipment() throws {
        let shipped = try makeOrder().applying(.ship(carrier: "USPS", tracking: "9400"), now: t0.adding(seconds: 60))
        #expect(shipped.status == .shipped && shipped.capturedAmount == .zero)
        let captured = try shipped.applying(.captured(.usd(15_599)), now: t0.adding(seconds: 61))
        #expect(captured.status == .shipped && captured.capturedAmount == .usd(15_599))
    }

    @Test(arguments: [OrderStatus.created, .shipped])
    func captureHappensAtMostOnce(status: OrderStatus) {
        expectRefused(makeOrder(status: status, captured: true), .captured(.usd(15_599)))
    }

    @Test func cancelBeforeCaptureRefundsNothing() throws {
        let cancelled = try makeOrder().applying(.cancel(refunding: .zero), now: t0.adding(seconds: 60))
        #expect(cancelled.status == .cancelled && cancelled.refundedAmount == .zero && cancelled.refundCount == 0)
        expectRefused(makeOrder(), .cancel(refunding: .usd(1)))
    }

    @Test func cancelAfterCaptureRefundsEverythingCaptured() throws {
        let order = makeOrder(captured: true)
        let cancelled = try order.applying(.cancel(refunding: .usd(15_599)), now: t0.adding(seconds: 60))
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.refundedAmount == .usd(15_599) && cancelled.refundableAmount == .zero && cancelled.refundCount == 1)
        expectRefused(order, .cancel(refunding: .zero))
        expectRefused(order, .cancel(refunding: .usd(15_598)))
        expectRefused(order, .cancel(refunding: .usd(15_600)))
    }

    @Test func cancelAfterAPartialRefundRefundsTheRest() throws {
        let partly = try makeOrder(captured: true).applying(.refund(.usd(5_000)), now: t0)
        expectRefused(partly, .cancel(refunding: .usd(15_599)))
        let cancelled = try partly.applying(.cancel(refunding: .usd(10_599)), now: t0.adding(seconds: 60))
        #expect(cancelled.status == .cancelled && cancelled.refundedAmount == .usd(15_599) && cancelled.refundCount == 2)
    }

    @Test func shipTwiceAndCancelAfterShipAreRefused() throws {
        let shipped = try makeOrder(captured: true).applying(.ship(carrier: "UPS", tracking: "1Z1"), now: t0)
        expectRefused(shipped, .ship(carrier: "UPS", tracking: "1Z2"))
        expectRefused(shipped, .cancel(refunding: shipped.refundableAmount))
        expectRefused(shipped, .cancel(refunding: .zero))
    }

    @Test func partialRefundThenTheRestRefundsTheOrder() throws {
        let shipped = try makeOrder(captured: true).applying(.ship(carrier: "UPS", tracking: "1Z1"), now: t0)
        let partly = try shipped.applying(.refund(.usd(5_000)), now: t0.adding(seconds: 60))
        #expect(partly.status == .shipped && partly.isPartiallyRefunded)
        #expect(partly.refundedAmount == .usd(5_000) && partly.refundableAmount == .usd(10_599) && partly.refundCount == 1)

        expectRefused(partly, .refund(.usd(10_600)))

        let refunded = try partly.applying(.refund(.usd(10_599)), now: t0.adding(seconds: 120))
        #expect(refunded.status == .refunded && !refunded.isPartiallyRefunded)
        #expect(refunded.refundedAmount == .usd(15_599) && refunded.refundableAmount == .zero && refunded.refundCount == 2)
        expectRefused(refunded, .refund(.usd(1)))
    }

    @Test func fullRefundOfACapturedUnshippedOrder() throws {
        let refunded = try makeOrder(captured: true).applying(.refund(.usd(15_599)), now: t0)
        #expect(refunded.status == .refunded && refunded.refundCount == 1)
    }

    @Test func refundAboveWhatWasCapturedIsRefused() {
        expectRefused(makeOrder(captured: true), .refund(.usd(15_600)))
    }

    @Test func refundOfAnUncapturedOrderIsRefused() throws {
        let order = makeOrder()
        #expect(order.refundableAmount == .zero)
        expectRefused(order, .refund(.usd(1)))
        expectRefused(try order.applying(.ship(carrier: "UPS", tracking: "1Z"), now: t0), .refund(.usd(1)))
    }

    @Test func refundMustBePositive() {
        expectRefused(makeOrder(captured: true), .refund(.zero))
        expectRefused(makeOrder(captured: true), .refund(.usd(-100)))
    }

    // MARK: Every status × every event

    /// One event of each kind, with arguments the order's amounts make acceptable, so only the status decides.
    static func events(for order: Order) -> [(label: String, event: OrderEvent)] {
        [
            ("captured", .captured(order.total)),
            ("ship", .ship(carrier: "UPS", tracking: "1Z")),
            ("cancel", .cancel(refunding: order.refundableAmount)),
            ("refund", .refund(.usd(100))),
        ]
    }

    /// Before capture: capture, ship and cancel while created; capture while shipped. Never refund.
    static let allowedUncaptured: [OrderStatus: Set<String>] = [
        .created: ["captured", "ship", "cancel"], .shipped: ["captured"], .cancelled: [], .refunded: [],
    ]
    /// After capture: ship, cancel or refund while created; refund while shipped. Never capture again.
    static let allowedCaptured: [OrderStatus: Set<String>] = [
        .created: ["ship", "cancel", "refund"], .shipped: ["refund"], .cancelled: [], .refunded: [],
    ]

    @Test(arguments: OrderStatus.allCases, [false, true])
    func onlyTheAllowedTransitionsHappen(status: OrderStatus, captured: Bool) throws {
        var order = makeOrder(status: status, captured: captured)
        if status == .refunded { order.refundedAmount = order.capturedAmount }
        let allowed = try #require((captured ? Self.allowedCaptured : Self.allowedUncaptured)[status])
        for (label, event) in Self.events(for: order) {
            if allowed.contains(label) {
                let next = try order.applying(event, now: t0.adding(seconds: 60))
                #expect(next != order, "\(status) + \(label) changes the order")
            } else {
                expectRefused(order, event)
            }
        }
    }
}
