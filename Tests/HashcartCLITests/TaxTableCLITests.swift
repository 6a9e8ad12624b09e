import Foundation
import HashcartTestSupport
import Testing

/// `hashcart tax-table`: a provider's ZIP5 files become a table serve can load; anything wrong is
/// one clear error and no file.
@Suite struct TaxTableCLITests {
    static let header = "State,ZipCode,TaxRegionName,EstimatedCombinedRate,StateRate,EstimatedCountyRate,EstimatedCityRate,EstimatedSpecialRate,RiskLevel"

    @Test func zip5FilesBecomeATableThatChecks() async throws {
        let folder = TemporaryFolder("tax-cli")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        try "\(Self.header)\r\nTN,37201,\"NASHVILLE, DAVIDSON CO\",0.097500,0.070000,0.022500,0,0.005,1\r\nTN,37027,WILLIAMSON,0.0975,0.07,0.0275,0,0,1\r\n"
            .write(toFile: folder.file("tn.csv"), atomically: true, encoding: .utf8)
        try "\(Self.header)\nNY,10001,NEW YORK CITY,0.08875,0.04,0,0.045,0.00375,1\n".write(toFile: folder.file("ny.csv"), atomically: true, encoding: .utf8)
        let built = try await hashcart(["tax-table", "import", "--version", "2026-12-zip", "--effective", "2026-12-01", "--output", folder.file("table.csv"),
                                        folder.file("tn.csv"), folder.file("ny.csv")])
        #expect(built.status == 0, "\(built)")
        #expect(built.stdout.contains("3 ZIP rows from 2 files, states NY TN"), "\(built)")
        let table = try String(contentsOfFile: folder.file("table.csv"), encoding: .utf8)
        #expect(table.contains("TN,37201,97500") && table.contains("NY,10001,88750") && table.contains("effective,2026-12-01"))
        #expect(table.contains("category,TN,groceries,reduced,40000,plus_local"))
        let checked = try await hashcart(["tax-table", "check", folder.file("table.csv")])
        #expect(checked.status == 0 && checked.stdout.contains("version 2026-12-zip, effective 2026-12-01, 51 state rates, 3 ZIP rates"), "\(checked)")
        // A second import never overwrites it.
        let again = try await hashcart(["tax-table", "import", "--version", "x", "--effective", "2026-12-01", "--output", folder.file("table.csv"),
                                        folder.file("tn.csv")])
        #expect(again.status != 0 && again.stderr.contains("already exists"), "\(again)")
    }

    @Test(arguments: [
        ("TN,37201,X,8.875%,0.07,0,0,0,1", "bad.csv line 2"), ("TN,37201,X,0.0975,0.07,0,0,0,1\nTN,37201,X,0.09,0.07,0,0,0,1", "ZIP 37201"),
        ("", "no ZIP rows"),
    ])
    func aBadProviderFileWritesNothing(rows: String, message: String) async throws {
        let folder = TemporaryFolder("tax-cli-bad")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        try "\(Self.header)\n\(rows)\n".write(toFile: folder.file("bad.csv"), atomically: true, encoding: .utf8)
        let result = try await hashcart(["tax-table", "import", "--version", "v", "--effective", "2026-12-01", "--output", folder.file("out.csv"),
                                         folder.file("bad.csv")])
        #expect(result.status != 0 && result.stderr.contains(message), "\(result)")
        #expect(!result.stderr.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("out.csv")))
    }
}
