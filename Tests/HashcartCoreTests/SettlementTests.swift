import Testing
import HashcartCore

@Suite struct SettlementDayTests {
    @Test func daysParseOnlyAsYYYYMMDDAndRoundTrip() throws {
        for text in ["2000-01-01", "2024-02-29", "2026-12-01", "2099-12-31", "2026-03-01"] {
            let day = try SettlementDay(parsing: text)
            #expect(day.description == text)
            #expect(SettlementDay(containing: day.start) == day)
            #expect(SettlementDay(containing: day.end.adding(milliseconds: -1)) == day)
            #expect(SettlementDay(containing: day.end) == day.next)
        }
        #expect(try SettlementDay(parsing: "2026-12-01").nachaDate == "261201")
        #expect(try SettlementDay(parsing: "2026-12-01").dayNumber == 20_788)
    }

    @Test func otherSpellingsAndImpossibleDaysAreRefused() {
        for text in ["", "2026-2-01", "2026-02-1", "20261201", "2026/12/01", "2026-12-01T00:00:00Z", " 2026-12-01", "2026-12-01 ",
                     "2026-02-29", "2025-02-29", "2100-01-01", "1999-12-31", "2026-13-01", "2026-00-10", "2026-04-31", "２０２６-12-01",
                     "٢٠٢٦-12-01", "+026-12-01", "-026-12-01", "2026-12-0\u{0}", "2026-W48-1", "2026-335", "today"] {
            #expect(throws: ValidationError.self, "\(text.debugDescription)") { try SettlementDay(parsing: text) }
        }
    }
}

@Suite struct PayoutAccountTests {
    @Test func routingNumbersAreCheckedByTheABAChecksum() throws {
        for good in ["011000015", "021000021", "011401533", "091000019", "322271627"] { #expect(PayoutAccount.isRoutingNumber(good), "\(good)") }
        for bad in ["011000016", "000000000", "12345678", "0110000150", "01100001a", "０11000015", " 11000015", ""] {
            #expect(!PayoutAccount.isRoutingNumber(bad), "\(bad)")
        }
        let account = try PayoutAccount(routingNumber: "021000021", accountNumber: "000123456789", kind: .checking)
        #expect(account.masked == "checking ••••6789")
        #expect(!"\(account)".contains("123456789"))
        #expect(throws: ValidationError.self) { try PayoutAccount(routingNumber: "021000021", accountNumber: "123", kind: .savings) }
        #expect(throws: ValidationError.self) { try PayoutAccount(routingNumber: "021000021", accountNumber: "1234-5678", kind: .savings) }
        for lookAlike in ["１２３４５６７８", "١٢٣٤٥٦٧٨", "1234\u{200B}5678", "12345678\n", " 12345678", "12345678 ", "+12345678", "0x12345678"] {
            #expect(throws: ValidationError.self, "\(lookAlike.debugDescription)") {
                try PayoutAccount(routingNumber: "021000021", accountNumber: lookAlike, kind: .checking)
            }
        }
        for lookAlike in ["٠٢١٠٠٠٠٢١", "021000021\u{200B}", "021\u{00A0}000021", "21000021 "] {
            #expect(!PayoutAccount.isRoutingNumber(lookAlike), "\(lookAlike.debugDescription)")
        }
        #expect(throws: ValidationError.self) { try PayoutAccount(routingNumber: "021000021", accountNumber: String(repeating: "1", count: 18), kind: .savings) }
    }
}

@Suite struct SettlementCalculatorTests {
    let day = try! SettlementDay(parsing: "2026-12-01")
    let shop = MerchantID("mer_1")
    let other = MerchantID("mer_2")

    func move(_ merchant: MerchantID, _ kind: SettlementMovement.Kind, _ amount: Int64, _ n: Int = 0) -> SettlementMovement {
        SettlementMovement(merchantID: merchant, kind: kind, amount: amount)
    }

    @Test func aDayPaysSalesLessFeesRefundsAndFundedCredits() {
        // Two sales of $100.00 (fee 2.5 % = $2.50 each), a refund of $40 of one (fee part $1.00 back),
        // a $20 credit funded and a $5 claw-back.
        let movements = [
            move(shop, .sale, 9_750, 1), move(shop, .saleFee, 250, 1), move(shop, .sale, 9_750, 2), move(shop, .saleFee, 250, 2),
            move(shop, .refund, 3_900, 3), move(shop, .refundFee, 100, 3), move(shop, .creditFunding, 2_000, 4),
            move(shop, .creditClawback, 500, 5), move(other, .sale, 1_000, 6),
        ]
        let batches = SettlementCalculator.batches(day: day, movements: movements, carried: [:], now: day.end)
        #expect(batches.count == 2)
        let batch = batches[0]
        #expect(batch.merchantID == shop && batch.id.rawValue == "stl_20261201_mer_1")
        #expect(batch.sales == 20_000 && batch.fees == -400 && batch.refunds == -4_000 && batch.statementCredits == -1_500)
        #expect(batch.net == 14_100 && batch.payout == 14_100 && batch.carriedOut == 0 && batch.state == .awaitingPayout)
        #expect(batch.net == 9_750 * 2 - 3_900 - 2_000 + 500, "net is exactly what the payable moved")
        #expect(batch.movementCount == 8)
        #expect(batches[1].payout == 1_000)
    }

    @Test func aNegativeDayPaysNothingAndComesOffTheNextBatch() {
        let refundDay = SettlementCalculator.batches(day: day, movements: [move(shop, .refund, 5_000, 1), move(shop, .refundFee, 100, 1)],
                                                     carried: [:], now: day.end)[0]
        #expect(refundDay.net == -5_000 && refundDay.payout == 0 && refundDay.carriedOut == -5_000 && refundDay.state == .nothingToPay)
        #expect(refundDay.refunds == -5_100 && refundDay.fees == 100)
        let next = day.next
        let sale = SettlementMovement(merchantID: shop, kind: .sale, amount: 3_000)
        let small = SettlementCalculator.batches(day: next, movements: [sale], carried: [shop: refundDay.carriedOut], now: next.end)[0]
        #expect(small.carriedIn == -5_000 && small.payout == 0 && small.carriedOut == -2_000)
        let big = SettlementMovement(merchantID: shop, kind: .sale, amount: 9_000, count: 3)
        let paid = SettlementCalculator.batches(day: next.next, movements: [big], carried: [shop: small.carriedOut], now: next.next.end)[0]
        #expect(paid.payout == 7_000 && paid.carriedOut == 0)
    }

    @Test func classifyingTransfersFollowsTheChartOfAccounts() {
        let now = day.start
        let payable = LedgerAccounts.merchantPayable(shop).id
        let card = LedgerAccounts.creditLine("acct_1").id
        func t(_ debit: LedgerAccountID, _ credit: LedgerAccountID, _ code: TransferCode, _ type: TransferType = .postPending) -> Transfer {
            Transfer(id: "x", debit: debit, credit: credit, amount: 100, type: type, code: code, createdAt: now)
        }
        #expect(SettlementMovement.classify(t(card, payable, .capture), merchantOfSubject: nil)?.kind == .sale)
        #expect(SettlementMovement.classify(t(card, LedgerAccounts.issuerFeeRevenue.id, .capture), merchantOfSubject: shop)?.kind == .saleFee)
        #expect(SettlementMovement.classify(t(card, LedgerAccounts.salesTaxPayable(.NY).id, .capture), merchantOfSubject: shop) == nil)
        #expect(SettlementMovement.classify(t(card, payable, .purchasePrincipal, .pending), merchantOfSubject: nil) == nil, "a hold is not money yet")
        #expect(SettlementMovement.classify(t(payable, card, .refundPrincipal, .single), merchantOfSubject: nil)?.kind == .refund)
        #expect(SettlementMovement.classify(t(LedgerAccounts.issuerFeeRevenue.id, card, .refundFee, .single), merchantOfSubject: shop)?.kind == .refundFee)
        #expect(SettlementMovement.classify(t(payable, LedgerAccounts.statementCreditExpense.id, .statementCreditFunding, .single), merchantOfSubject: nil)?.kind == .creditFunding)
        #expect(SettlementMovement.classify(t(LedgerAccounts.statementCreditExpense.id, payable, .statementCreditClawback, .single), merchantOfSubject: nil)?.kind == .creditClawback)
        #expect(SettlementMovement.classify(t(card, LedgerAccounts.statementCreditExpense.id, .statementCreditClawback, .single), merchantOfSubject: nil) == nil)
        #expect(SettlementMovement.classify(t(payable, LedgerAccounts.settlementClearing.id, .settlementBatch, .single), merchantOfSubject: nil) == nil,
                "a payout is not a movement of the day it is made")
    }
}

@Suite struct NACHAFileTests {
    let day = try! SettlementDay(parsing: "2026-12-01")

    func entries() throws -> [NACHAEntry] {
        [
            NACHAEntry(account: try PayoutAccount(routingNumber: "021000021", accountNumber: "123456789", kind: .checking),
                       amount: 14_100, identification: "HC0000000000001", receiverName: "Zappos <script>alert(1)</script>", day: day),
            NACHAEntry(account: try PayoutAccount(routingNumber: "011401533", accountNumber: "99887766554433221", kind: .savings),
                       amount: 1_000, identification: "HC0000000000002", receiverName: "Café\nRésumé\u{202E} ☕ shop", day: day),
            NACHAEntry(account: try PayoutAccount(routingNumber: "091000019", accountNumber: "5555", kind: .checking),
                       amount: 1, identification: "HC0000000000003", receiverName: "Next Day Co", day: day.next),
        ]
    }

    @Test func recordsAre94CharactersBlockedToTenWithControlTotals() throws {
        let createdAt = day.next.next.start.adding(seconds: 2 * 3600 + 5 * 60)
        let file = try NACHAFile(originator: .testMode, entries: try entries(), createdAt: createdAt, fileIDModifier: "A",
                                 effectiveDate: day.next.next.next)
        let lines = file.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(file.text.hasSuffix("\n"))
        #expect(lines.count % 10 == 0 && lines.allSatisfy { $0.utf8.count == 94 && $0.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } })
        #expect(lines.first!.hasPrefix("101 011000015") && lines.first!.contains("2612030205A094101"))
        // Two settlement days: two batches; three entries.
        #expect(lines.filter { $0.hasPrefix("5220") }.count == 2 && lines.filter { $0.hasPrefix("6") }.count == 3)
        #expect(file.totals.batchCount == 2 && file.totals.entryCount == 3 && file.totals.totalCredit == 15_101)
        #expect(file.totals.entryHash == 2_100_002 + 1_140_153 + 9_100_001)
        #expect(file.totals.blockCount == 1)
        let control = lines.first { $0.hasPrefix("9") && !$0.allSatisfy { $0 == "9" } }!
        #expect(control.hasPrefix("9000002000001000000030012340156000000000000000000015101"))
        #expect(file.traceNumbers == ["011000010000001", "011000010000002", "011000010000003"])
        // Merchant-written names are folded: no markup, no newline, no bidi control, uppercase ASCII.
        let entry = lines.first { $0.hasPrefix("622") }!
        #expect(entry.contains("ZAPPOS SCRIPT ALERT(1)"))
        let second = lines.first { $0.hasPrefix("632") }!
        #expect(second.contains("CAF R SUM SHOP"))
    }

    @Test func badEntriesAreRefusedBeforeAnythingIsWritten() throws {
        var tooMuch = try entries()
        tooMuch[0].amount = NACHAEntry.maximumAmount + 1
        #expect(throws: NACHAFile.BuildError.self) {
            try NACHAFile(originator: .testMode, entries: tooMuch, createdAt: day.start, fileIDModifier: "A", effectiveDate: day)
        }
        #expect(throws: NACHAFile.BuildError.noEntries) {
            try NACHAFile(originator: .testMode, entries: [], createdAt: day.start, fileIDModifier: "A", effectiveDate: day)
        }
        #expect(throws: NACHAFile.BuildError.self) {
            try NACHAFile(originator: .testMode, entries: try entries(), createdAt: day.start, fileIDModifier: "a", effectiveDate: day)
        }
        #expect(throws: ValidationError.self) {
            try NACHAOriginator(destinationRouting: "011000015", destinationName: "BANK\n", originID: "1", originName: "X", companyName: "X",
                                companyID: "1", odfiRouting: "011000015")
        }
        #expect(throws: ValidationError.self) {
            try NACHAOriginator(destinationRouting: "011000016", destinationName: "BANK", originID: "1", originName: "X", companyName: "X",
                                companyID: "1", odfiRouting: "011000015")
        }
    }
}

/// A payout file settles on the next day the Federal Reserve's ACH runs: weekends and the
/// Reserve Banks' holidays skipped, a Sunday holiday observed on the Monday, a Saturday one not moved.
@Suite struct BankingCalendarTests {
    static func day(_ text: String) throws -> SettlementDay { try SettlementDay(parsing: text) }

    @Test("the next banking day after a file's day", arguments: [
        ("2026-12-07", "2026-12-08"),  // Monday → Tuesday
        ("2026-12-04", "2026-12-07"),  // Friday → Monday
        ("2026-12-05", "2026-12-07"),  // Saturday → Monday
        ("2026-11-25", "2026-11-27"),  // Thanksgiving (Thursday 26th) skipped
        ("2026-12-24", "2026-12-28"),  // Christmas on a Friday, then the weekend
        ("2026-07-02", "2026-07-03"),  // July 4th on a Saturday: the Friday before is open
        ("2022-12-30", "2023-01-03"),  // New Year's Day on a Sunday: Monday the 2nd closed
        ("2022-06-17", "2022-06-21"),  // Juneteenth on a Sunday (2022): Monday the 20th closed
        ("2021-06-18", "2021-06-21"),  // 2021: Juneteenth (a Saturday) not yet a Reserve Bank holiday
        ("2026-01-16", "2026-01-20"),  // Martin Luther King Jr. Day, the third Monday of January
        ("2026-02-13", "2026-02-17"),  // Washington's Birthday
        ("2026-05-22", "2026-05-26"),  // Memorial Day, the last Monday of May
        ("2026-09-04", "2026-09-08"),  // Labor Day
        ("2026-10-09", "2026-10-13"),  // Columbus Day
        ("2026-11-10", "2026-11-12"),  // Veterans Day, a Wednesday
        ("2026-06-18", "2026-06-22"),  // Juneteenth on a Friday
    ])
    func nextBankingDay(_ made: String, _ settles: String) throws {
        #expect(BankingCalendar.nextBankingDay(after: try Self.day(made)) == (try Self.day(settles)))
    }

    @Test func weekdaysAndAYearOfHolidays() throws {
        #expect(try Self.day("2026-01-01").weekday == 4)  // a Thursday
        #expect(try Self.day("2026-12-07").weekday == 1)
        // 2026 has eleven Reserve Bank holidays, all on weekdays but July 4th (a Saturday).
        var day = try Self.day("2026-01-01")
        var closedWeekdays = 0
        while day.components.year == 2026 {
            if day.weekday != 0 && day.weekday != 6 && !BankingCalendar.isBankingDay(day) { closedWeekdays += 1 }
            day = day.next
        }
        #expect(closedWeekdays == 10)
    }
}
