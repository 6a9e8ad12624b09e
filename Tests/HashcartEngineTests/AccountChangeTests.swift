import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// The issuer's changes to accounts: credit limits moved through the ledger, card accounts and
/// merchants closed. Each keeps every ledger rule, and a refused change leaves everything as it was.
@Suite(.onEveryBackend) struct AccountChangeTests {
    @Test func aRaiseIsAvailableAtOnceAndTheCardholderIsTold() async throws {
        let world = try await TestWorld()
        let (card, _) = try await world.cardholder(handle: "alice", limit: 50_000)
        let raised = try await world.engine.setCreditLimit(cardAccountID: card.id, to: .usd(80_000))
        #expect(raised.creditLimit == .usd(80_000))
        #expect(try await world.creditLine(card).availableCredit == 80_000)
        #expect(try await world.store.read { try $0.cardAccount(card.id) }?.creditLimit == .usd(80_000))
        #expect(try await world.notifications(card).contains { $0.kind == "credit_limit" && $0.message.contains("from $500.00 to $800.00") })
        try await expectBooksAgree(world)
    }

    @Test func aCutBelowWhatTheCardholderUsedIsRefusedAndChangesNothing() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant)
        let (card, alice) = try await world.cardholder(handle: "alice", limit: 50_000)
        let purchase = try await world.buy(alice)
        #expect(purchase.state == .authorized)
        let used = 50_000 - (try await world.creditLine(card).availableCredit)
        let before = try await world.moneySnapshot()

        await #expect(throws: EngineError.self) {
            try await world.engine.setCreditLimit(cardAccountID: card.id, to: .usd(used - 1))
        }
        #expect(try await world.moneySnapshot() == before)
        #expect(try await world.store.read { try $0.cardAccount(card.id) }?.creditLimit == .usd(50_000))

        // Down to a dollar over what is used: a dollar left to spend, and the books still agree.
        // (Not to exactly the total: the privacy audit would then find the new limit in the
        // confirmation request that quoted that total.)
        _ = try await world.engine.setCreditLimit(cardAccountID: card.id, to: .usd(used + 100))
        #expect(try await world.creditLine(card).availableCredit == 100)
        try await expectBooksAgree(world)
    }

    @Test func limitsOutsideTheBoundsAreRefused() async throws {
        let world = try await TestWorld()
        let (card, _) = try await world.cardholder(handle: "alice", limit: 50_000)
        for bad in [Money.usd(-1), Money.usd(CardAccount.maximumCreditLimit.minorUnits + 1)] {
            await #expect(throws: EngineError.self) { try await world.engine.setCreditLimit(cardAccountID: card.id, to: bad) }
        }
        await #expect(throws: EngineError.self) { try await world.engine.setCreditLimit(cardAccountID: CardAccountID("card_nobody"), to: .usd(1)) }
        #expect(try await world.creditLine(card).availableCredit == 50_000)
    }

    @Test func aClosedCardBuysNothingLinksNothingAndStillGetsItsRefund() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 5)
        _ = try await world.offer(merchant: merchant, hashtag: "#BuyTablet")
        let (card, alice) = try await world.cardholder(handle: "alice")
        let bought = try await world.buy(alice)
        let order = try #require(try await world.orders().first { $0.purchaseID == bought.id })
        // A second purchase waits for its confirmation when the card closes.
        let (waiting, _) = try await world.post(alice, "#BuyTablet")
        #expect(try await world.purchase(of: waiting)?.state == .awaitingConfirmation)

        let closed = try await world.engine.closeCardAccount(card.id, reason: "reported stolen")
        #expect(closed.closedAt != nil)
        #expect(try await world.purchase(of: waiting)?.state == .cancelled)  // its link ended
        #expect(try await world.store.read { try $0.links(cardAccountID: card.id) }.allSatisfy { $0.unlinkedAt != nil })
        #expect(try await world.creditLine(card).flags.contains(.closed))

        // Closing again changes nothing; the limit is frozen; no new link.
        let snapshot = try await world.moneySnapshot()
        #expect(try await world.engine.closeCardAccount(card.id, reason: "again").closedAt == closed.closedAt)
        #expect(try await world.moneySnapshot() == snapshot)
        await #expect(throws: EngineError.self) { try await world.engine.setCreditLimit(cardAccountID: card.id, to: .usd(1)) }
        await #expect(throws: EngineError.self) { try await world.engine.requestLinkCode(cardAccountID: card.id) }
        await #expect(throws: EngineError.self) { try await world.engine.link(cardAccountID: card.id, identity: world.identity(of: alice)) }

        // The order bought before the close ships and refunds as usual: the refund reaches the line.
        let available = try await world.creditLine(card).availableCredit
        _ = try await world.engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z999")
        _ = try await world.engine.refund(orderID: order.id, amount: .usd(1_000))
        #expect(try await world.creditLine(card).availableCredit == available + 1_000)
        #expect(try await world.offerNow(offer.id).soldUnits == 1)
        try await expectBooksAgree(world)
    }

    /// A link that slipped past the close (made by another instance that had not seen it) still
    /// cannot buy: the decline reads the credit line, which every transaction reads fresh.
    @Test func aLinkThatSlippedPastTheCloseIsDeclinedCardClosed() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant)
        let (card, alice) = try await world.cardholder(handle: "alice")
        _ = try await world.engine.closeCardAccount(card.id, reason: "account closed by the cardholder")
        let identity = world.identity(of: alice)
        try await world.store.write { tx in
            try tx.insertLink(Link(id: LinkID("lnk_slipped"), cardAccountID: card.id, identity: identity, createdAt: Instant(millisecondsSinceEpoch: 0)))
        }
        let (post, _) = try await world.post(alice)
        let purchase = try #require(try await world.purchase(of: post))
        #expect(purchase.state == .declined && purchase.declineReason == .cardClosed)
        #expect(try await world.offerNow(offer.id).reservedUnits == 0)
        #expect(try await world.creditLine(card).debitsPending == 0)
        #expect(try await world.notifications(card).contains { $0.message.hasSuffix(DeclineReason.cardClosed.cardholderMessage) })
        try await expectBooksAgree(world)
    }

    @Test func aClosedMerchantsOffersEndAndItStartsNoNewOnesButItsOrdersGoOn() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let other = try await world.engine.createMerchant(name: "Books Ltd")
        let offer = try await world.offer(merchant: merchant)
        let theirs = try await world.offer(merchant: other, hashtag: "#BuyNovel")
        let (_, alice) = try await world.cardholder(handle: "alice")
        let bought = try await world.buy(alice)
        let order = try #require(try await world.orders().first { $0.purchaseID == bought.id })

        let closed = try await world.engine.closeMerchant(merchant.id, reason: "stopped trading")
        #expect(closed.closedAt != nil)
        #expect(try await world.offerNow(offer.id).lifecycle == .ended)
        #expect(try await world.offerNow(theirs.id).lifecycle != .ended)  // another merchant's offer is untouched
        await #expect(throws: EngineError.self) { try await world.offer(merchant: merchant, hashtag: "#BuyAgain") }
        // The hashtag is free for someone else.
        _ = try await world.offer(merchant: other, hashtag: "#BuyKindleFireHD")

        let snapshot = try await world.moneySnapshot()
        #expect(try await world.engine.closeMerchant(merchant.id, reason: "again").closedAt == closed.closedAt)
        #expect(try await world.moneySnapshot() == snapshot)
        _ = try await world.engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z999")
        try await expectBooksAgree(world)
        await #expect(throws: EngineError.self) { try await world.engine.closeMerchant(MerchantID("mer_nobody"), reason: "x") }
        await #expect(throws: EngineError.self) { try await world.engine.closeMerchant(merchant.id, reason: "") }
    }

    func expectBooksAgree(_ world: TestWorld, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let violations = try await world.audit()
        #expect(violations == [], "\(violations)", sourceLocation: sourceLocation)
    }
}
