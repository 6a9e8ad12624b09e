import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// Card-linked offers end to end on the engine and a real store: a linked identity's post loads
/// the offer; the issuer's card transactions earn the credit once, funded by the merchant; a
/// reversal claws it back, or, when the credit is spent, leaves it and tells the merchant.
@Suite(.onEveryBackend) struct CardLinkedOfferFlowTests {
    static let pan = "4111 1111 1111 1111"
    static let otherPan = "5555-5555-5555-4444"

    struct World {
        let world: TestWorld
        let merchant: Merchant
        let offer: Offer
        let card: CardAccount
        let alice: SandboxAccount

        /// A card transaction on `pan` at `acceptor`, happening now.
        func transaction(_ kind: CardTransactionKind = .purchase, pan: String = CardLinkedOfferFlowTests.pan, amount: Int64 = 8_000,
                         acceptor: String = "ZAPPOS-0001", rrn: String = "000000000001", stan: String = "000001",
                         at: Instant? = nil) throws -> CardTransaction {
            CardTransaction(kind: kind, card: world.store.cardFingerprint(of: try PrimaryAccountNumber(pan)), amount: .usd(amount),
                            acceptorID: acceptor, merchantCategoryCode: "5661", retrievalReference: rrn, systemTrace: stan,
                            occurredAt: at ?? world.clock.now())
        }

        func ingest(_ transactions: CardTransaction...) async throws -> [CardTransactionOutcome] {
            try await world.engine.ingestCardTransactions(transactions)
        }

        func payable() async throws -> LedgerAccount {
            let id = LedgerAccounts.merchantPayable(merchant.id).id
            return try #require(try await world.store.read { try $0.ledgerAccount(id) })
        }

        func credits(_ card: CardAccount) async throws -> [StatementCredit] {
            let id = card.id
            return try await world.store.read { try $0.statementCredits(cardAccountID: id, limit: 100) }
        }

        func funnel() async throws -> [String: Int64] {
            let id = offer.id
            return try await world.store.read { try $0.funnel(offer: id) }
        }
    }

    /// "Spend $75 at Zappos, get $20 back": budget for `budget` minor units of credits.
    static func world(budget: Int64 = 100_000, limit: Int64 = 500_000) async throws -> World {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Zappos")
        var draft = OfferDraft(merchantID: merchant.id, title: "Zappos $20 back", sku: "ZAP-CREDIT", price: .usd(0),
                               hashtag: "#ZapposCredit", quantity: nil)
        draft.type = .statementCredit
        draft.statementCredit = StatementCreditTerms(spendThreshold: .usd(7_500), credit: .usd(2_000), acceptorIDs: ["ZAPPOS-0001", "ZAPPOS-0002"],
                                                     budget: .usd(budget))
        let offer = try await world.engine.createOffer(draft)
        let card = try await world.engine.createCardAccounts([
            CardAccountDraft(creditLimit: .usd(limit), billing: world.address(), cardLast4: "1111", pan: try PrimaryAccountNumber(pan)),
        ])[0]
        let alice = try world.sandbox.createAccount(handle: "alice")
        try await world.engine.link(cardAccountID: card.id, identity: world.identity(of: alice), at: world.clock.now().adding(seconds: -86_400))
        return World(world: world, merchant: merchant, offer: offer, card: card, alice: alice)
    }

    @Test func aPostLoadsTheOfferAndAQualifyingTransactionEarnsTheCreditOnce() async throws {
        let w = try await Self.world()
        let world = w.world
        // Stored and read back whole: the type, the terms, the price that is the credit.
        let stored = try await world.offerNow(w.offer.id)
        #expect(stored == w.offer && stored.type == .statementCredit && stored.price == .usd(2_000) && stored.quantity == nil)
        #expect(w.card.panFingerprint != nil && w.card.cardLast4 == "1111")

        // Before the load, a qualifying amount earns nothing.
        #expect(try await w.ingest(try w.transaction(rrn: "000000000001", stan: "000001")) == [.noCredit])

        world.clock.advance(seconds: 60)
        let (post, reply) = try await world.post(w.alice, "Loading this #ZapposCredit")
        let text = try #require(reply?.text)
        #expect(text.contains("Loaded") && text.contains("$75.00") && text.contains("$20.00"), "\(text)")
        #expect(!text.contains("1111") && !text.contains("Albany"), "no card or address data in public: \(text)")
        // Posting again does not load twice.
        let (_, again) = try await world.post(w.alice, "again #ZapposCredit")
        #expect(again?.text.contains("already loaded") == true, "\(again?.text ?? "")")
        _ = post

        world.clock.advance(seconds: 60)
        let lineBefore = try await world.creditLine(w.card)
        let below = try w.transaction(amount: 7_499, rrn: "000000000002", stan: "000002")
        let elsewhere = try w.transaction(acceptor: "NIKE-01", rrn: "000000000003", stan: "000003")
        let qualifying = try w.transaction(amount: 7_500, acceptor: "ZAPPOS-0002", rrn: "000000000004", stan: "000004")
        #expect(try await w.ingest(below, elsewhere, qualifying) == [.noCredit, .noCredit, .credited])

        let line = try await world.creditLine(w.card)
        #expect(line.creditsPosted == lineBefore.creditsPosted + 2_000)
        #expect(line.availableCredit == lineBefore.availableCredit + 2_000)
        #expect(try await w.payable().debitsPosted == 2_000)
        let credits = try await w.credits(w.card)
        #expect(credits.count == 1 && credits[0].amount == .usd(2_000) && credits[0].state == .earned && credits[0].transactionID == qualifying.id)
        #expect(try await world.offerNow(w.offer.id).creditedTotal == 2_000)
        #expect(try await world.notifications(w.card).contains { $0.kind == "credit_earned" && $0.message.contains("$20.00") })

        // The same message again (a redelivery) changes nothing; a second qualifying purchase
        // earns nothing more: once per card.
        let snapshot = try await world.moneySnapshot()
        #expect(try await w.ingest(qualifying) == [.duplicate])
        #expect(try await world.moneySnapshot() == snapshot)
        #expect(try await w.ingest(try w.transaction(amount: 9_000, rrn: "000000000005", stan: "000005")) == [.noCredit])
        #expect(try await w.credits(w.card).count == 1)

        let funnel = try await w.funnel()
        #expect(funnel[FunnelMetric.loads.rawValue] == 1)
        #expect(funnel[FunnelMetric.qualifyingTransactions.rawValue] == 2)  // the earning one and the one already earned
        #expect(funnel[FunnelMetric.creditsEarned.rawValue] == 1)
        #expect(funnel[FunnelMetric.creditTotal.rawValue] == 2_000)
        #expect(try await world.audit() == [])
    }

    @Test func aReversalClawsBackOnlyWhenWhatIsLeftFallsBelowTheThreshold() async throws {
        let w = try await Self.world()
        let world = w.world
        _ = try await world.post(w.alice, "#ZapposCredit")
        world.clock.advance(seconds: 60)
        let lineBefore = try await world.creditLine(w.card)
        #expect(try await w.ingest(try w.transaction(amount: 10_000, rrn: "RRN000000042", stan: "000010")) == [.credited])

        // $20 of $100 reversed: $80 is still over $75, the credit stands.
        world.clock.advance(seconds: 60)
        #expect(try await w.ingest(try w.transaction(.reversal, amount: 2_000, rrn: "RRN000000042", stan: "000011")) == [.reversalKept])
        #expect(try await w.credits(w.card).first?.state == .earned)
        // $10 more: $70 left, under $75: clawed back.
        #expect(try await w.ingest(try w.transaction(.reversal, amount: 1_000, rrn: "RRN000000042", stan: "000012")) == [.clawedBack])
        let credit = try #require(try await w.credits(w.card).first)
        #expect(credit.state == .reversed && credit.reversedAt != nil)
        #expect(try await world.creditLine(w.card).availableCredit == lineBefore.availableCredit)
        let payable = try await w.payable()
        #expect(payable.debitsPosted == payable.creditsPosted)
        #expect(try await world.offerNow(w.offer.id).creditedTotal == 0)
        #expect(try await world.notifications(w.card).contains { $0.kind == "credit_reversed" })
        // A reversal of a purchase never seen matches nothing.
        #expect(try await w.ingest(try w.transaction(.reversal, rrn: "RRN000000099", stan: "000013")) == [.reversalUnmatched])
        // Once per card: a reversal does not give a second chance.
        #expect(try await w.ingest(try w.transaction(amount: 10_000, rrn: "RRN000000043", stan: "000014")) == [.noCredit])
        #expect(try await world.audit() == [])
    }

    @Test func aClawbackTheLineCannotTakeLeavesTheCreditAndTellsTheMerchant() async throws {
        // A card with no credit of its own: the $20 credit is all it can spend.
        let w = try await Self.world(limit: 0)
        let world = w.world
        _ = try await world.post(w.alice, "#ZapposCredit")
        world.clock.advance(seconds: 60)
        #expect(try await w.ingest(try w.transaction(rrn: "000000000007", stan: "000020")) == [.credited])
        // Spend $15 of it on a purchase by post.
        let gadget = try await world.offer(merchant: w.merchant, price: 1_500) { $0.taxCategory = .exempt }
        let purchase = try await world.buy(w.alice)
        #expect(purchase.offerID == gadget.id && purchase.state == .authorized, "\(purchase.state)")

        let snapshotLine = try await world.creditLine(w.card)
        #expect(try await w.ingest(try w.transaction(.reversal, rrn: "000000000007", stan: "000021")) == [.clawbackRefused])
        #expect(try await world.creditLine(w.card) == snapshotLine)
        #expect(try await w.credits(w.card).first?.state == .earned)
        let events = try await world.store.read { try $0.merchantEventCounts() }
        #expect(events[MerchantEventType.statementCreditClawbackRefused.rawValue] == 1, "\(events)")
        #expect(try await world.audit() == [])
    }

    @Test func theBudgetBoundsThePayoutAndLoadsStopWhenItIsSpent() async throws {
        let w = try await Self.world(budget: 2_000)
        let world = w.world
        let bob = try await world.engine.createCardAccounts([
            CardAccountDraft(creditLimit: .usd(50_000), billing: world.address(.CA), cardLast4: "4444", pan: try PrimaryAccountNumber(Self.otherPan)),
        ])[0]
        let bobAccount = try world.sandbox.createAccount(handle: "bob")
        try await world.engine.link(cardAccountID: bob.id, identity: world.identity(of: bobAccount), at: world.clock.now().adding(seconds: -86_400))
        _ = try await world.post(w.alice, "#ZapposCredit")
        _ = try await world.post(bobAccount, "#ZapposCredit")
        world.clock.advance(seconds: 60)
        let outcomes = try await w.ingest(try w.transaction(rrn: "000000000001", stan: "000001"),
                                          try w.transaction(pan: Self.otherPan, rrn: "000000000002", stan: "000002"))
        #expect(outcomes == [.credited, .noCredit])
        #expect(try await w.credits(bob).isEmpty)
        #expect(try await world.offerNow(w.offer.id).creditedTotal == 2_000)
        #expect(try await w.funnel()[FunnelMetric.qualifyingTransactions.rawValue] == 2)

        // The budget is spent: a new load is refused, and the reply says so without card data.
        let carol = try await world.engine.createCardAccount(creditLimit: .usd(50_000), billing: world.address(), cardLast4: "0005")
        let carolAccount = try world.sandbox.createAccount(handle: "carol")
        try await world.engine.link(cardAccountID: carol.id, identity: world.identity(of: carolAccount), at: world.clock.now().adding(seconds: -86_400))
        let (_, reply) = try await world.post(carolAccount, "#ZapposCredit")
        #expect(reply?.text.contains("sold out") == true, "\(reply?.text ?? "")")
        #expect(try await world.store.read { try $0.count("statement_credit_loads") } == 2)
        #expect(try await world.audit() == [])
    }

    @Test func aCardNotOnFileEarnsNothingAndMalformedTransactionsChangeNothing() async throws {
        let w = try await Self.world()
        let world = w.world
        _ = try await world.post(w.alice, "#ZapposCredit")
        #expect(try await w.ingest(try w.transaction(pan: "4242424242424242")) == [.unknownCard])

        let snapshot = try await world.moneySnapshot()
        let recorded = try await world.store.read { try $0.count("card_transactions") }
        var bad: [CardTransaction] = []
        var t = try w.transaction(stan: "12"); bad.append(t)
        t = try w.transaction(rrn: "RRN-WITH-DASH"); bad.append(t)
        t = try w.transaction(amount: 0); bad.append(t)
        t = try w.transaction(amount: -5); bad.append(t)
        t = try w.transaction(acceptor: "<script>"); bad.append(t)
        t = try w.transaction(acceptor: "ZAPPOS\u{0}0001"); bad.append(t)
        t = try w.transaction(stan: "００００01"); bad.append(t)
        t = try w.transaction(at: world.clock.now().adding(seconds: 3 * 86_400)); bad.append(t)
        for transaction in bad {
            // Valid first, bad second: the whole call is refused, the valid one is not recorded either.
            await #expect(throws: EngineError.self) {
                _ = try await world.engine.ingestCardTransactions([try w.transaction(rrn: "000000000077", stan: "000077"), transaction])
            }
        }
        await #expect(throws: EngineError.self) {
            _ = try await world.engine.ingestCardTransactions(Array(repeating: try w.transaction(), count: Engine.maximumCardTransactionsPerCall + 1))
        }
        #expect(try await world.moneySnapshot() == snapshot)
        #expect(try await world.store.read { try $0.count("card_transactions") } == recorded)
    }

    @Test func aCardNumberIsCheckedAndKeptOnlyAsAFingerprint() async throws {
        let world = try await TestWorld()
        // The last four must be the card's.
        await #expect(throws: EngineError.self) {
            _ = try await world.engine.createCardAccounts([
                CardAccountDraft(creditLimit: .usd(1_000), billing: world.address(), cardLast4: "9999", pan: try PrimaryAccountNumber(Self.pan)),
            ])
        }
        let card = try await world.engine.createCardAccounts([
            CardAccountDraft(creditLimit: .usd(1_000), billing: world.address(), cardLast4: "1111", pan: try PrimaryAccountNumber(Self.pan)),
        ])[0]
        // The same card again, spelled another way, is the same card.
        await #expect(throws: EngineError.self) {
            _ = try await world.engine.createCardAccounts([
                CardAccountDraft(creditLimit: .usd(1_000), billing: world.address(), cardLast4: "1111",
                                 pan: try PrimaryAccountNumber("4111-1111-1111-1111")),
            ])
        }
        let read = try #require(try await world.store.read { try $0.cardAccount(card.id) })
        let expected = world.store.cardFingerprint(of: try PrimaryAccountNumber(Self.pan))
        #expect(read.panFingerprint == card.panFingerprint && read.panFingerprint == expected)
        // Nowhere in the store's files (or tables) do the card's digits appear.
        if let directory = Optional(world.directory) {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
                let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
                #expect(data.range(of: Data("4111111111111111".utf8)) == nil, "\(name) holds the PAN")
            }
        }
    }

    @Test func aStatementCreditOfferRefusesPurchaseOnlyTerms() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Zappos")
        var draft = OfferDraft(merchantID: merchant.id, title: "Zappos $20 back", sku: "ZAP", price: .usd(0), hashtag: "#ZapposCredit", quantity: 10)
        draft.type = .statementCredit
        draft.statementCredit = StatementCreditTerms(spendThreshold: .usd(7_500), credit: .usd(2_000), acceptorIDs: ["ZAPPOS-0001"], budget: .usd(10_000))
        await #expect(throws: EngineError.self) { _ = try await world.engine.createOffer(draft) }
        draft.quantity = nil
        draft.statementCredit?.budget = .usd(1_000)  // less than one credit
        await #expect(throws: EngineError.self) { _ = try await world.engine.createOffer(draft) }
        draft.statementCredit = nil
        await #expect(throws: EngineError.self) { _ = try await world.engine.createOffer(draft) }
        #expect(try await world.store.read { try $0.offers() }.isEmpty)
    }
}
