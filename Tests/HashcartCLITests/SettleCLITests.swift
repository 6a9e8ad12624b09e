import Foundation
import GRDB
import HashcartTestSupport
import Testing

/// `hashcart settle` on the demo's data: the demo closes its sale's day; `settle --nacha` pays
/// the batch in a NACHA file that carta-ach (PyPI), a parser nobody here wrote, reads back with
/// the same totals; nothing is settled or paid twice; bad runs change nothing.
@Suite struct SettleCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let reader = root.appendingPathComponent("scripts/nacha_read.py").path

    /// Counts that settlement would change.
    static func counts(_ folder: TemporaryFolder) throws -> [Int] {
        let queue = try DatabaseQueue(path: folder.file("hashcart.sqlite"))
        defer { try? queue.close() }
        return try queue.read { db in
            try ["settlement_days", "settlement_batches", "payout_files", "ledger_transfers"].map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)")! }
        }
    }

    @Test(.enabled(if: ChildProcess.pythonCanImport("ach.parser"), "needs carta-ach (pip install carta-ach)"))
    func theDemosSaleIsPaidOnceByAFileANACHAParserReadsBack() async throws {
        let folder = TemporaryFolder("settle")
        let demo = try await hashcart(["demo", "--json", "--cardholders", "200", "--data", folder.path])
        try #require(demo.status == 0, "\(demo)")
        let settlement = try #require(try demo.json()["settlement"] as? [String: Any])
        let netSettled = try #require(settlement["net_settled"] as? Int)
        #expect(settlement["days"] as? [String] == ["2026-11-27"] && settlement["batches"] as? Int == 1 && netSettled > 0, "\(settlement)")

        // A day not over yet, and a run through today, are refused and change nothing.
        let before = try Self.counts(folder)
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let early = try await hashcart(["settle", "--data", folder.path, "--through", today, "--nacha", folder.file("early.ach")])
        #expect(early.status == 2 && early.stderr.contains("is not over"), "\(early)")
        #expect(try Self.counts(folder) == before && !FileManager.default.fileExists(atPath: folder.file("early.ach")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("early.ach.partial")))

        // Pay it: the day was closed by the demo, so this run closes nothing and pays its batch.
        let path = folder.file("payout.ach")
        let paid = try await hashcart(["settle", "--data", folder.path, "--through", "2026-11-27", "--nacha", path, "--json"])
        try #require(paid.status == 0, "\(paid)")
        let report = try paid.json()
        #expect(report["days_closed"] as? [String] == [] && report["batches"] as? Int == 0, "\(report)")
        #expect(report["batches_paid"] as? Int == 1 && report["net_paid"] as? Int == netSettled, "\(report)")
        let file = try #require(report["payout_file"] as? [String: Any])
        #expect(file["total_credit"] as? Int == netSettled && file["entry_count"] as? Int == 1)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))

        // carta-ach reads it back: consistent controls, the merchant's account, the same total.
        let read = try await ChildProcess.python([Self.reader, path])
        try #require(read.status == 0, "\(read)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: Any])
        #expect((parsed["problems"] as? [String]) == [], "\(parsed)")
        #expect(parsed["total_credit"] as? Int == netSettled && parsed["total_debit"] as? Int == 0 && parsed["entry_count"] as? Int == 1)
        #expect(parsed["entry_hash"] as? Int == file["entry_hash"] as? Int && parsed["block_count"] as? Int == file["block_count"] as? Int)
        let entry = try #require((parsed["entries"] as? [[String: Any]])?.first)
        #expect(entry["routing"] as? String == "110000000" && entry["account"] as? String == "000123456789")
        #expect(entry["transaction_code"] as? String == "22" && entry["amount"] as? Int == netSettled)
        #expect(entry["name"] as? String == "HASHCART DEMO STORE" && entry["settlement_date"] as? String == "261127")

        // A second run pays nothing and writes no file; the store passes its check.
        let again = try await hashcart(["settle", "--data", folder.path, "--through", "2026-11-28", "--nacha", folder.file("again.ach"), "--json"])
        try #require(again.status == 0, "\(again)")
        let second = try again.json()
        #expect(second["batches_paid"] as? Int == 0 && second["net_paid"] as? Int == 0 && second["days_closed"] as? [String] == ["2026-11-28"])
        #expect(!FileManager.default.fileExists(atPath: folder.file("again.ach")))
        let check = try await hashcart(["check", "--data", folder.path])
        #expect(check.status == 0, "\(check)")

        // An originator with a bad routing number in hashcart.yaml is refused before anything.
        let counted = try Self.counts(folder)
        let config = folder.file("bad.yaml")
        try """
            settlement:
              destination_routing: "011000016"
              destination_name: FEDERAL RESERVE BANK
              origin_id: "1234567890"
              origin_name: EXAMPLE ISSUER
              company_name: EXAMPLE ISSUER
              company_id: "1234567890"
              odfi_routing: "021000021"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let badConfig = try await hashcart(["settle", "--data", folder.path, "--through", "2026-11-29", "--nacha", folder.file("x.ach"), "--config", config])
        #expect(badConfig.status == 2 && badConfig.stderr.contains("settlement.destination_routing"), "\(badConfig)")
        #expect(try Self.counts(folder) == counted)
    }
}

/// `serve --settle-daily --payout-dir DIR`: settlement on a schedule inside `serve`. On the
/// demo's data as test mode's store, the scheduler pays the batch the demo closed, once, in a
/// NACHA file carta-ach reads back, and a second serve on the same data pays nothing again.
@Suite struct ServeSettlementTests {
    static func serve(_ data: TemporaryFolder, payouts: String) throws -> SpawnedProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["HASHCART_DATABASE_URL"] = nil
        environment["HASHCART_ENCRYPTION_KEY"] = try String(contentsOfFile: data.file("test/demo-encryption.key"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return try SpawnedProcess(try HashcartBinary.require(),
                                  ["serve", "--data", data.path, "--port", "0", "--settle-daily", "--payout-dir", payouts, "--admin-token", "settle-admin-token-0123456789"],
                                  environment: environment, outputPath: (payouts as NSString).appendingPathComponent("serve-\(UUID().uuidString).log"))
    }

    static func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    @Test(.enabled(if: ChildProcess.pythonCanImport("ach.parser"), "needs carta-ach (pip install carta-ach)"))
    func serveSettlesOnItsScheduleAndPaysOnce() async throws {
        let data = TemporaryFolder("serve-settle")
        try FileManager.default.createDirectory(atPath: data.path, withIntermediateDirectories: true)
        let demo = try await hashcart(["demo", "--json", "--cardholders", "150", "--data", data.file("test")])
        try #require(demo.status == 0, "\(demo)")
        let netSettled = try #require((try demo.json()["settlement"] as? [String: Any])?["net_settled"] as? Int)
        let payouts = TemporaryFolder("payouts")
        try FileManager.default.createDirectory(atPath: payouts.path, withIntermediateDirectories: true)
        let testFolder = payouts.file("test")

        let process = try Self.serve(data, payouts: payouts.path)
        defer { process.stopBlocking() }
        var written: [String] = []
        for _ in 0..<150 where written.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            written = Self.files(testFolder).filter { $0.hasSuffix(".ach") }
        }
        await process.stop(grace: .seconds(10))
        let printed = process.output
        try #require(written.count == 1, "no payout file within 15 s: \(Self.files(testFolder)) \(printed.suffix(3000))")
        #expect(written[0].hasPrefix("payout_") && !Self.files(testFolder).contains { $0.hasSuffix(".partial") })
        let read = try await ChildProcess.python([SettleCLITests.reader, (testFolder as NSString).appendingPathComponent(written[0])])
        try #require(read.status == 0, "\(read)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: Any])
        #expect((parsed["problems"] as? [String]) == [] && parsed["total_credit"] as? Int == netSettled, "\(parsed)")

        // Started again on the same data: nothing more is paid.
        let again = try Self.serve(data, payouts: payouts.path)
        defer { again.stopBlocking() }
        try await Task.sleep(for: .seconds(3))
        await again.stop(grace: .seconds(10))
        #expect(Self.files(testFolder) == written)
        let key = try String(contentsOfFile: data.file("test/demo-encryption.key"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let check = try await hashcart(["check", "--data", data.path, "--mode", "test", "--encryption-key", key])
        #expect(check.status == 0, "\(check)")
    }
}
