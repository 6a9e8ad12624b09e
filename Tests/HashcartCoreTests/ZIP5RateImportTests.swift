import HashcartCore
import Testing

/// A rate provider's ZIP5 tables (the layout of Avalara's free downloads) read into a table:
/// decimals to parts per million exactly, every malformed row refused with its file and line.
@Suite struct ZIP5RateImportTests {
    static let header = "State,ZipCode,TaxRegionName,EstimatedCombinedRate,StateRate,EstimatedCountyRate,EstimatedCityRate,EstimatedSpecialRate,RiskLevel"
    static let base = try! TaxRateTable(version: "base", stateRates: Dictionary(uniqueKeysWithValues: USState.allCases.map { ($0, Int64(50_000)) }),
                                        zipRates: ["10004": ZIPRate(state: .NY, ratePartsPerMillion: 88_750), "73301": ZIPRate(state: .TX, ratePartsPerMillion: 82_500)],
                                        categoryRules: [.groceries: [.TN: .reduced(ratePartsPerMillion: 40_000)]],
                                        localPartStillTaxed: [.groceries: [.TN]])

    @Test func providerFilesBecomeATable() throws {
        var importer = ZIP5RateImport()
        try importer.add("""
            \u{FEFF}\(Self.header)\r
            TN,37201,"NASHVILLE, DAVIDSON CO",0.097500,0.070000,0.022500,0,0.005000,1\r
            TN,37027,WILLIAMSON CO,.0975,.07,.0275,0,0,1\r
            """, name: "TAXRATES_ZIP5_TN202612.csv")
        try importer.add("\(Self.header)\nNY,10001,NEW YORK CITY,0.088750,0.040000,0,0.045000,0.003750,1\nNY,12207,ALBANY,0.08,0.04,0.04,0,0,1\n", name: "ny.csv")
        #expect(importer.rows == 4 && importer.files == 2)
        let table = try importer.table(version: "2026-12", effective: try SettlementDay(parsing: "2026-12-01"), base: Self.base)
        #expect(table.stateRates[.TN] == 70_000 && table.stateRates[.NY] == 40_000 && table.stateRates[.CA] == 50_000)
        #expect(table.zipRates["37201"] == ZIPRate(state: .TN, ratePartsPerMillion: 97_500))
        #expect(table.zipRates["10001"]?.ratePartsPerMillion == 88_750)
        // The files are the word on the states they cover: the base's New York ZIP is gone, its Texas one kept.
        #expect(table.zipRates["10004"] == nil && table.zipRates["73301"] != nil)
        #expect(table.treatment(of: .groceries, in: .TN) == .reduced(ratePartsPerMillion: 40_000))
        #expect(table.quote(unitPrice: .usd(10_000), category: .groceries, state: .TN, zip5: "37201").tax == .usd(675))
        #expect(try TaxRateTable.parse(table.csv) == table)
    }

    @Test("a malformed row is refused with its file and line", arguments: [
        ("TN,37201,X,8.875%,0.07,0,0,0,1", "line 2"), ("TN,37201,X,0.0887501,0.07,0,0,0,1", "a millionth"),
        ("TN,37201,X,-0.01,0.07,0,0,0,1", "decimal fraction"), ("TN,37201,X,1e-2,0.07,0,0,0,1", "decimal fraction"),
        ("TN,37201,X,0.30,0.07,0,0,0,1", "over 25 %"), ("TN,37201,X,,0.07,0,0,0,1", "a rate is missing"),
        ("TN,3720,X,0.0975,0.07,0,0,0,1", "five-digit ZIP"), ("Tennessee,37201,X,0.0975,0.07,0,0,0,1", "two-letter"),
        ("TN,37201,X,0.05,0.07,0,0,0,1", "over the combined"),
        ("TN,37201,X,0.0975,0.07,0,0,0,1\nTN,37201,X,0.0950,0.07,0,0,0,1", "ZIP 37201"),
        ("TN,37201,X,0.0975,0.07,0,0,0,1\nTN,37202,X,0.0975,0.06,0,0,0,1", "state rate"),
        ("TN,37201,X,0.0975,0.07,0,0,0,1\nNY,37201,X,0.0975,0.07,0,0,0,1", "ZIP 37201"),
    ])
    func refusals(_ rows: String, _ message: String) {
        var importer = ZIP5RateImport()
        do {
            try importer.add("\(Self.header)\n\(rows)\n", name: "tn.csv")
            Issue.record("accepted: \(rows)")
        } catch {
            #expect("\(error.field): \(error.message)".contains(message), "\(error)")
            #expect(error.field.hasPrefix("tn.csv"))
        }
        #expect(importer.rows == 0 || importer.files == 0)
    }

    @Test func filesThatAreNotRateTablesAreRefused() {
        var importer = ZIP5RateImport()
        #expect(throws: ValidationError.self) { try importer.add("", name: "empty.csv") }
        #expect(throws: ValidationError.self) { try importer.add("State,Zip,Rate\nTN,37201,0.0975", name: "other.csv") }
        #expect(throws: ValidationError.self) { try importer.add(Self.header + "\n", name: "headeronly.csv") }
        #expect(throws: ValidationError.self) { try importer.add("\u{0}\u{1}garbage", name: "binary.csv") }
        #expect(importer.files == 0 && importer.zipRates.isEmpty)
    }
}
