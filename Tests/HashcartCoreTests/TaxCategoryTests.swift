import HashcartCore
import Testing

/// Categories beyond general and exempt, per state, and tables that take effect on a day.
@Suite struct TaxCategoryTests {
    static func table(version: String = "t1", effective: String? = nil, extra: String = "") -> String {
        """
        version,\(version)
        \(effective.map { "effective,\($0)" } ?? "")
        state,zip,rate_ppm
        \(USState.allCases.map { "\($0.rawValue),,\($0 == .NY ? 40000 : $0 == .MA ? 62500 : $0 == .RI ? 70000 : $0 == .TN ? 70000 : 50000)" }.joined(separator: "\n"))
        NY,10004,88750
        category,NY,clothing,exempt_below,11000
        category,MA,clothing,exempt_up_to,17500
        category,RI,clothing,exempt_up_to,25000
        category,PA,clothing,exempt
        category,TN,groceries,reduced,40000
        category,NY,groceries,exempt
        category,NY,digital_goods,exempt
        \(extra)
        """
    }

    @Test func eachStateTreatsACategoryItsOwnWay() throws {
        let table = try TaxRateTable.parse(Self.table())
        // New York: clothing under $110 an item is exempt; at $110 the whole item is taxed, ZIP rate and all.
        #expect(table.quote(unitPrice: .usd(10999), quantity: 2, category: .clothing, state: .NY, zip5: "10004").tax == .zero)
        let at = table.quote(unitPrice: .usd(11000), quantity: 2, category: .clothing, state: .NY, zip5: "10004")
        #expect(at.tax == .usd(1953) && at.ratePartsPerMillion == 88750)  // 8.875 % of 220.00 = 19.525 → 19.53
        // Massachusetts: the first $175 of each item is exempt, the rest taxed.
        #expect(table.quote(unitPrice: .usd(20000), quantity: 3, category: .clothing, state: .MA, zip5: nil).tax == .usd(469))  // 6.25 % of 75.00 = 4.6875
        #expect(table.quote(unitPrice: .usd(17500), category: .clothing, state: .MA, zip5: nil).tax == .zero)
        #expect(table.quote(unitPrice: .usd(25001), category: .clothing, state: .RI, zip5: nil).tax == .zero)  // 7 % of 0.01 rounds to 0
        #expect(table.quote(unitPrice: .usd(30000), category: .clothing, state: .RI, zip5: nil).tax == .usd(350))
        #expect(table.quote(unitPrice: .usd(9999), category: .clothing, state: .PA, zip5: nil).tax == .zero)
        // A state without a rule: the general rate.
        #expect(table.quote(unitPrice: .usd(10000), category: .clothing, state: .CA, zip5: nil).tax == .usd(500))
        // Tennessee's groceries at its reduced rate; New York's exempt, whatever the ZIP says.
        let groceries = table.quote(unitPrice: .usd(1000), quantity: 3, category: .groceries, state: .TN, zip5: nil)
        #expect(groceries.tax == .usd(120) && groceries.ratePartsPerMillion == 40000)
        let nothing = table.quote(unitPrice: .usd(1000), category: .groceries, state: .NY, zip5: "10004")
        #expect(nothing.tax == .zero && nothing.ratePartsPerMillion == 0)
        #expect(table.quote(unitPrice: .usd(999), category: .digitalGoods, state: .NY, zip5: "10004").tax == .zero)
        #expect(table.quote(unitPrice: .usd(1000), category: .digitalGoods, state: .TN, zip5: nil).tax == .usd(70))
    }

    @Test func treatmentsReadAsWritten() throws {
        let table = try TaxRateTable.parse(Self.table())
        #expect(table.treatment(of: .clothing, in: .NY) == .exemptBelow(minorUnits: 11000))
        #expect(table.treatment(of: .general, in: .PA) == .general)
        #expect(table.treatment(of: .exempt, in: .TN) == .exempt)
    }

    @Test("a broken category row or date is refused with its line", arguments: [
        "category,NY,clothing,exempt_below", "category,NY,clothing,exempt_below,-5", "category,NY,clothing,exempt_below,0",
        "category,NY,clothing,exempt_below,1e3", "category,NY,clothing,exempt,5", "category,NY,clothing,reduced,999999",
        "category,NY,clothing,reduced, 40000", "category,XX,clothing,exempt", "category,NY,shoes,exempt", "category,NY,general,exempt",
        "category,NY,exempt,exempt", "category,NY,clothing,free", "category,NY,clothing,exempt_below,11000",
        "category,NY", "effective,2026-02-30", "effective,tomorrow", "version,again", "NY,10004,88750",
    ])
    func refusals(line: String) {
        #expect(throws: ValidationError.self) { try TaxRateTable.parse(Self.table(extra: line)) }
    }

    @Test func aRuleMarkedPlusLocalLeavesTheZIPsLocalTaxOn() throws {
        let table = try TaxRateTable.parse(Self.table(extra: """
            TN,37201,97500
            CA,90210,95000
            category,TN,digital_goods,reduced,40000,plus_local
            category,TN,clothing,exempt_below,5000,plus_local
            """))
        // Tennessee's groceries rule covers the whole rate: 4 % in any ZIP.
        #expect(table.quote(unitPrice: .usd(1_000), quantity: 3, category: .groceries, state: .TN, zip5: "37201").tax == .usd(120))
        // Its digital goods (marked plus_local): the state's 4 % and the ZIP's local 2.75 %, rounded once.
        let both = table.quote(unitPrice: .usd(1_000), quantity: 3, category: .digitalGoods, state: .TN, zip5: "37201")
        #expect(both.tax == .usd(203) && both.ratePartsPerMillion == 67_500)  // 6.75 % of 30.00 = 2.025
        // Below the clothing threshold the state's part is exempt, the local part is not.
        let local = table.quote(unitPrice: .usd(4_999), category: .clothing, state: .TN, zip5: "37201")
        #expect(local.tax == .usd(137) && local.ratePartsPerMillion == 27_500)  // 2.75 % of 49.99 = 1.3747
        #expect(table.quote(unitPrice: .usd(5_000), category: .clothing, state: .TN, zip5: "37201").tax == .usd(488))  // 9.75 %
        // Without a ZIP row, no local part.
        #expect(table.quote(unitPrice: .usd(4_999), category: .clothing, state: .TN, zip5: "37000").tax == .zero)
        // A ZIP of another state never moves an address to that state's rate.
        #expect(table.quote(unitPrice: .usd(10_000), category: .general, state: .NY, zip5: "90210").tax == .usd(400))
        #expect(table.quote(unitPrice: .usd(10_000), category: .general, state: .CA, zip5: "90210").tax == .usd(950))
        #expect(throws: ValidationError.self) { try TaxRateTable.parse(Self.table(extra: "category,TN,digital_goods,exempt,,local")) }
    }

    @Test func aTableWrittenOutReadsBackTheSame() throws {
        let table = try TaxRateTable.parse(Self.table(version: "v9", effective: "2026-03-01", extra: """
            TN,37201,97500
            category,TN,digital_goods,reduced,40000,plus_local
            category,TN,clothing,exempt,,plus_local
            """))
        #expect(try TaxRateTable.parse(table.csv) == table)
    }

    @Test func aWindowsFileReadsAsItsLines() throws {
        let crlf = Self.table().replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try TaxRateTable.parse(crlf) == (try TaxRateTable.parse(Self.table())))
    }

    @Test func oversizeTablesAreRefusedBeforeParsing() {
        let huge = String(repeating: "#", count: TaxRateTable.maximumTextBytes + 1)
        #expect(throws: ValidationError.self) { try TaxRateTable.parse(huge) }
    }

    @Test func theTableInEffectIsTheLatestWhoseDayHasCome() throws {
        let base = try TaxRateTable.parse(Self.table(version: "base"))
        let september = try TaxRateTable.parse(Self.table(version: "sep", effective: "2025-09-01"))
        let january = try TaxRateTable.parse(Self.table(version: "jan", effective: "2026-01-01"))
        let schedule = try TaxSchedule([january, base, september])
        let day = try SettlementDay(parsing: "2025-09-01")
        #expect(schedule.table(at: day.start.adding(seconds: -1)).version == "base")
        #expect(schedule.table(at: day.start).version == "sep")
        #expect(schedule.table(at: try SettlementDay(parsing: "2026-06-30").start).version == "jan")
        // Before every dated table and with no undated one: the earliest.
        let dated = try TaxSchedule([january, september])
        #expect(dated.table(at: Instant(secondsSinceEpoch: 0)).version == "sep")
        // Two tables for one day, two versions alike, two without a day, or none: refused.
        #expect(throws: ValidationError.self) { try TaxSchedule([september, try TaxRateTable.parse(Self.table(version: "x", effective: "2025-09-01"))]) }
        #expect(throws: ValidationError.self) { try TaxSchedule([base, try TaxRateTable.parse(Self.table(version: "base", effective: "2027-01-01"))]) }
        #expect(throws: ValidationError.self) { try TaxSchedule([base, try TaxRateTable.parse(Self.table(version: "other"))]) }
        #expect(throws: ValidationError.self) { try TaxSchedule([]) }
    }
}
