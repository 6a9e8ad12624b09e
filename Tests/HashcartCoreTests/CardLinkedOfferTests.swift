import Testing
import HashcartCore

@Suite struct PrimaryAccountNumberTests {
    @Test func cardNumbersThatPassLuhnAreTakenWithTheirLastFour() throws {
        for (text, last4) in [("4111111111111111", "1111"), ("4242 4242 4242 4242", "4242"), ("3782-822463-10005", "0005"),
                              ("6011111111111117", "1117"), ("5555555555554444", "4444"), ("4222222222222", "2222")] {
            let pan = try PrimaryAccountNumber(text)
            #expect(pan.last4 == last4)
            #expect(!pan.digits.contains(" ") && !pan.digits.contains("-"))
        }
    }

    @Test func garbageAndLookAlikeDigitsAreRefusedWithTheField() {
        let refused = [
            "", "4111111111111112", "41111111111", "41111111111111111111", "4111 1111 1111 111a", "４１１１１１１１１１１１１１１１",
            "٤١١١١١١١١١١١١١١١", "4111111111111111\n", "4111\t1111111111111", "+4111111111111111", String(repeating: "4", count: 40),
            "4111111111111111 OR 1=1", "0x4111111111111111",
        ]
        for text in refused {
            #expect(throws: ValidationError.self, "\(text.debugDescription) must be refused") { try PrimaryAccountNumber(text) }
            do { _ = try PrimaryAccountNumber(text) } catch { #expect(error.field == "pan") }
        }
    }

    @Test func aPANNeverPrintsItsDigits() throws {
        let pan = try PrimaryAccountNumber("4111111111111111")
        #expect("\(pan)" == "PAN ending 1111")
        #expect(!String(reflecting: pan).contains("411111"))
    }

    @Test func fingerprintsAreExactlySixtyFourLowercaseHexDigits() {
        #expect(CardFingerprint(hex: String(repeating: "ab", count: 32)) != nil)
        #expect(CardFingerprint(hex: String(repeating: "AB", count: 32)) == nil)
        #expect(CardFingerprint(hex: String(repeating: "a", count: 63)) == nil)
        #expect(CardFingerprint(hex: String(repeating: "g", count: 64)) == nil)
    }
}

@Suite struct StatementCreditTermsTests {
    let good = StatementCreditTerms(spendThreshold: .usd(7_500), credit: .usd(2_000), acceptorIDs: ["ZAPPOS0001", "ZAPPOS 0002"],
                                    merchantCategoryCodes: ["5661"], budget: .usd(200_000))

    @Test func termsAMerchantWouldSetAreAccepted() throws {
        #expect(try good.validated() == good)
    }

    @Test func everyBadTermNamesItsField() {
        func field(_ change: (inout StatementCreditTerms) -> Void) -> String? {
            var terms = good
            change(&terms)
            do { _ = try terms.validated(); return nil } catch { return error.field }
        }
        #expect(field { $0.spendThreshold = .usd(0) } == "spend_threshold")
        #expect(field { $0.credit = .usd(-1) } == "credit_amount")
        #expect(field { $0.credit = .usd(7_501) } == "credit_amount")
        #expect(field { $0.budget = .usd(1_999) } == "budget")
        #expect(field { $0.budget = .usd(1_000_000_001) } == "budget")
        #expect(field { $0.acceptorIDs = [] } == "acceptor_ids")
        #expect(field { $0.acceptorIDs = ["<script>"] } == "acceptor_ids")
        #expect(field { $0.acceptorIDs = ["ZAPPOS00010001XX"] } == "acceptor_ids")  // 16 characters
        #expect(field { $0.acceptorIDs = [" ZAPPOS"] } == "acceptor_ids")
        #expect(field { $0.acceptorIDs = ["ZAPPOS\u{0}"] } == "acceptor_ids")
        #expect(field { $0.acceptorIDs = Set((0...100).map { "A\($0)" }) } == "acceptor_ids")
        #expect(field { $0.merchantCategoryCodes = ["566"] } == "mccs")
        #expect(field { $0.merchantCategoryCodes = ["٥٦٦١"] } == "mccs")
    }
}

@Suite struct CardTransactionTests {
    static let card = CardFingerprint(hex: String(repeating: "0f", count: 32))!
    static let now = Instant(secondsSinceEpoch: 1_795_000_000)

    static func transaction(_ kind: CardTransactionKind = .purchase, amount: Int64 = 8_000, acceptor: String = "ZAPPOS0001",
                            mcc: String? = "5661", rrn: String = "433912345678", stan: String = "000123",
                            at: Instant = now) -> CardTransaction {
        CardTransaction(kind: kind, card: card, amount: .usd(amount), acceptorID: acceptor, merchantCategoryCode: mcc,
                        retrievalReference: rrn, systemTrace: stan, occurredAt: at)
    }

    @Test func aRepeatOfTheSameMessageHasTheSameKeyAndAReversalItsOwn() {
        let request = Self.transaction()
        let advice = Self.transaction(at: Self.now.adding(seconds: 30))  // 0220 after 0200, same STAN, RRN and day
        #expect(request.id == advice.id)
        #expect(Self.transaction(.reversal).id != request.id)
        #expect(Self.transaction(stan: "000124").id != request.id)
        #expect(Self.transaction(at: Self.now.adding(seconds: 86_400)).id != request.id)
        #expect(CardTransactionID(validating: request.id.rawValue) != nil)
    }

    @Test func malformedFieldsAreRefusedWithTheirNames() {
        func field(_ transaction: CardTransaction) -> String? {
            do { _ = try transaction.validated(now: Self.now); return nil } catch { return error.field }
        }
        #expect(field(Self.transaction()) == nil)
        #expect(field(Self.transaction(mcc: nil)) == nil)
        #expect(field(Self.transaction(amount: 0)) == "amount")
        #expect(field(Self.transaction(amount: 10_000_001)) == "amount")
        #expect(field(Self.transaction(acceptor: "")) == "acceptor_id")
        #expect(field(Self.transaction(acceptor: "ZAPPOS'; DROP")) == "acceptor_id")
        #expect(field(Self.transaction(mcc: "56a1")) == "mcc")
        #expect(field(Self.transaction(rrn: "")) == "rrn")
        #expect(field(Self.transaction(rrn: "4339123456789")) == "rrn")
        #expect(field(Self.transaction(rrn: "4339_2345678")) == "rrn")
        #expect(field(Self.transaction(stan: "12345")) == "stan")
        #expect(field(Self.transaction(stan: "１２３４５６")) == "stan")
        #expect(field(Self.transaction(at: Self.now.adding(seconds: 86_401))) == "occurred_at")
    }
}

@Suite struct StatementCreditRuleTests {
    static let start = Instant(secondsSinceEpoch: 1_794_000_000)
    let terms = StatementCreditTerms(spendThreshold: .usd(7_500), credit: .usd(2_000), acceptorIDs: ["ZAPPOS0001"],
                                     merchantCategoryCodes: ["5661"], budget: .usd(4_000))
    var offer: Offer {
        Offer(id: "offer_1", merchantID: "mer_1", title: "Spend $75, get $20 back", sku: "CREDIT", price: .usd(2_000), quantity: nil,
              startsAt: Self.start, endsAt: Self.start.adding(seconds: 30 * 86_400), hashtag: try! Hashtag("#ZapposCredit"),
              createdAt: Self.start)
    }
    let load = StatementCreditLoad(offerID: "offer_1", cardAccountID: "card_1", loadedAt: Instant(secondsSinceEpoch: 1_794_000_600))

    func decide(_ transaction: CardTransaction, offer: Offer? = nil, credited: Int64 = 0, earned: Bool = false) -> StatementCreditRule.Decision {
        StatementCreditRule.evaluate(transaction, offer: offer ?? self.offer, terms: terms, load: load, credited: .usd(credited),
                                     alreadyEarned: earned)
    }

    func spend(_ amount: Int64 = 7_500, acceptor: String = "ZAPPOS0001", mcc: String? = "5661", kind: CardTransactionKind = .purchase,
               secondsAfterStart: Int64 = 3_600) -> CardTransaction {
        CardTransactionTests.transaction(kind, amount: amount, acceptor: acceptor, mcc: mcc,
                                         at: Self.start.adding(seconds: secondsAfterStart))
    }

    @Test func aPurchaseAtTheThresholdAtTheMerchantAfterLoadingQualifies() {
        #expect(decide(spend()) == .qualifies)
        #expect(decide(spend(7_500), credited: 2_000) == .qualifies)  // the budget holds exactly one more
    }

    @Test func eachRuleRefusesWhatItShould() {
        var stopped = offer
        stopped.killSwitch = true
        #expect(decide(spend(kind: .reversal)) == .notAPurchase)
        #expect(decide(spend(acceptor: "ZAPPOS0002")) == .otherAcceptor)
        #expect(decide(spend(acceptor: "zappos0001")) == .otherAcceptor)  // acceptor ids are exact
        #expect(decide(spend(mcc: "5411")) == .otherCategory)
        #expect(decide(spend(mcc: nil)) == .otherCategory)
        #expect(decide(spend(7_499)) == .belowThreshold)
        #expect(decide(spend(secondsAfterStart: 599)) == .beforeLoad)
        #expect(decide(spend(secondsAfterStart: 30 * 86_400)) == .outsideWindow)
        #expect(decide(spend(), offer: stopped) == .offerStopped)
        #expect(decide(spend(), earned: true) == .alreadyEarned)
        #expect(decide(spend(), credited: 2_001) == .budgetExhausted)
    }

    @Test func theCreditMovesFromTheMerchantThroughExpenseToTheCardAndBack() throws {
        let now = Self.start.adding(seconds: 3_600)
        let line = LedgerAccounts.creditLine("card_1")
        let payable = LedgerAccounts.merchantPayable("mer_1")
        let storage = InMemoryLedgerStorage([line, payable] + LedgerAccounts.issuerAccounts)
        try Ledger.submit([PurchaseTransfers.creditLimit(card: "card_1", amount: .usd(2_000), sequence: 1, now: now)], now: now, storage: storage)
        let credit = StatementCredit(offerID: "offer_1", merchantID: "mer_1", cardAccountID: "card_1", transactionID: spend().id,
                                     amount: .usd(2_000), earnedAt: now)
        #expect(credit.id == StatementCredit.id(offer: "offer_1", card: "card_1"))

        #expect(try Ledger.submit(StatementCreditTransfers.earning(credit, now: now), now: now, storage: storage) == .applied)
        #expect(try Ledger.submit(StatementCreditTransfers.earning(credit, now: now), now: now, storage: storage) == .replayed)
        #expect(storage.accounts[line.id]!.availableCredit == 4_000)
        #expect(storage.accounts[payable.id]!.debitsPosted == 2_000)
        let expense = storage.accounts[LedgerAccounts.statementCreditExpense.id]!
        #expect(expense.debitsPosted == 2_000 && expense.creditsPosted == 2_000)

        try Ledger.submit(StatementCreditTransfers.clawback(credit, now: now), now: now, storage: storage)
        #expect(storage.accounts[line.id]!.availableCredit == 2_000)
        #expect(storage.accounts[payable.id]!.debitsPosted == storage.accounts[payable.id]!.creditsPosted)
        let debits = storage.accounts.values.reduce(0) { $0 + $1.debitsPosted }
        let credits = storage.accounts.values.reduce(0) { $0 + $1.creditsPosted }
        #expect(debits == credits)
    }

    @Test func aClawbackNeverTakesTheLineOverItsLimit() throws {
        let now = Self.start.adding(seconds: 3_600)
        let line = LedgerAccounts.creditLine("card_1")
        let storage = InMemoryLedgerStorage([line, LedgerAccounts.merchantPayable("mer_1")] + LedgerAccounts.issuerAccounts)
        let credit = StatementCredit(offerID: "offer_1", merchantID: "mer_1", cardAccountID: "card_1", transactionID: spend().id,
                                     amount: .usd(2_000), earnedAt: now)
        try Ledger.submit(StatementCreditTransfers.earning(credit, now: now), now: now, storage: storage)
        // The cardholder spends the credit; the claw-back is refused whole, nothing moves.
        try Ledger.submit([Transfer(id: "spend:1", debit: line.id, credit: LedgerAccounts.issuerFeeRevenue.id, amount: 1_500,
                                    code: .purchasePrincipal, createdAt: now)], now: now, storage: storage)
        #expect(throws: LedgerError.exceedsCredits(line.id)) {
            try Ledger.submit(StatementCreditTransfers.clawback(credit, now: now), now: now, storage: storage)
        }
        #expect(storage.accounts[line.id]!.availableCredit == 500)
    }
}
