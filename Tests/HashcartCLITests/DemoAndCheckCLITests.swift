import Foundation
import GRDB
import Testing

@Suite struct DemoAndCheckCLITests {
    static let perOfferKeys = ["posts", "linked_posts", "confirmations_sent", "confirmed", "orders", "units_sold", "stock", "expired",
                               "waitlisted", "waitlist_turns", "waitlist_closed", "waiting"]

    @Test func demoReportsAFunnelPerOfferThenCheckPassesAndAWrongKeyIsRefused() async throws {
        let folder = TemporaryFolder("demo")
        let demo = try await hashcart(["demo", "--json", "--cardholders", "300", "--data", folder.path])
        try #require(demo.status == 0, "\(demo)")
        let report = try demo.json()

        #expect(report["ledger_balanced"] as? Bool == true, "\(demo)")
        let violations = try #require(report["invariant_violations"] as? [Any], "\(demo)")
        #expect(violations.isEmpty, "\(violations)")
        #expect(report["cardholders"] as? Int == 300)
        let offers = try #require(report["offers"] as? [[String: Any]])
        #expect(offers.count >= 1)
        var totalConfirmed = 0
        for offer in offers {
            let name = offer["hashtag"] as? String ?? "?"
            for key in Self.perOfferKeys {
                #expect(offer[key] is Int, "offer \(name) has no integer \(key)")
            }
            #expect(offer["declined"] is [String: Any], "offer \(name) has no declined object")
            let sold = try #require(offer["units_sold"] as? Int)
            let stock = try #require(offer["stock"] as? Int)
            #expect(sold >= 0)
            if stock >= 0 { #expect(sold <= stock, "offer \(name) sold \(sold) of \(stock)") }
            let posts = offer["posts"] as? Int ?? 0, linked = offer["linked_posts"] as? Int ?? 0
            let sent = offer["confirmations_sent"] as? Int ?? 0, confirmed = offer["confirmed"] as? Int ?? 0
            let orders = offer["orders"] as? Int ?? 0
            // The funnel narrows: posts ≥ linked ≥ replies sent ≥ confirmed ≥ orders ≥ units still sold.
            #expect(posts >= linked && linked >= sent && sent >= confirmed, "offer \(name): \(offer)")
            #expect(orders <= confirmed && sold <= orders, "offer \(name): \(offer)")
            // Everyone who joined a waitlist is still in it, got a turn, saw it close, or left it.
            let joined = offer["waitlisted"] as? Int ?? -1, turns = offer["waitlist_turns"] as? Int ?? -1
            let closed = offer["waitlist_closed"] as? Int ?? -1, waiting = offer["waiting"] as? Int ?? -1
            #expect(turns >= 0 && closed >= 0 && waiting >= 0 && turns + closed + waiting <= joined, "offer \(name): \(offer)")
            for (reason, count) in offer["declined"] as? [String: Any] ?? [:] {
                #expect((count as? Int ?? -1) > 0, "offer \(name) declined.\(reason) = \(count)")
            }
            totalConfirmed += confirmed
        }
        #expect(totalConfirmed > 0, "the demo sold nothing: \(demo)")
        // The card-linked offer: loads, qualifying transactions, credits within the budget.
        let credits = try #require(report["card_linked_offers"] as? [[String: Any]])
        #expect(credits.count == 1)
        for offer in credits {
            let loaded = offer["loaded"] as? Int ?? -1, qualifying = offer["qualifying_transactions"] as? Int ?? -1
            let earned = offer["credits_earned"] as? Int ?? -1, total = offer["credit_total"] as? Int ?? -1
            let budget = offer["budget"] as? Int ?? -1, amount = offer["credit_amount"] as? Int ?? -1
            #expect(loaded > 0 && qualifying > 0 && earned > 0, "\(offer)")
            #expect(earned <= qualifying && qualifying <= loaded, "each card earns once, by a transaction after its load: \(offer)")
            #expect(total == (earned - (offer["credits_reversed"] as? Int ?? 0)) * amount && total <= budget, "\(offer)")
            #expect(offer["credited_total"] as? Int == total && offer["budget_left"] as? Int == budget - total, "\(offer)")
        }
        #expect(FileManager.default.fileExists(atPath: folder.file("hashcart.sqlite")))

        // `check` opens the folder (with the demo's key file) and finds nothing broken.
        let check = try await hashcart(["check", "--data", folder.path])
        #expect(check.status == 0, "\(check)")
        #expect(check.stdout.contains("ok"), "\(check)")
        let checkJSON = try await hashcart(["check", "--json", "--data", folder.path])
        #expect(checkJSON.status == 0, "\(checkJSON)")
        let checked = try checkJSON.json()
        #expect(checked["ok"] as? Bool == true)
        #expect((checked["invariant_violations"] as? [Any])?.isEmpty == true)
        #expect(((checked["checked"] as? [String: Any])?["purchases"] as? Int ?? 0) > 0)

        // Another valid key, by flag or by environment, is refused with a message about the key.
        let wrong = try await hashcart(["check", "--data", folder.path, "--encryption-key", randomKey()])
        #expect(wrong.status != 0, "\(wrong)")
        #expect(wrong.stderr.contains("key"), "\(wrong)")
        #expect(!wrong.stderr.contains("Error Domain"), "\(wrong)")
        let wrongEnv = try await hashcart(["check", "--data", folder.path], environment: ["HASHCART_ENCRYPTION_KEY": randomKey()])
        #expect(wrongEnv.status != 0 && wrongEnv.stderr.contains("key"), "\(wrongEnv)")
        // A malformed key is refused before anything is opened.
        let malformed = try await hashcart(["check", "--encryption-key", "notakey", "--data", folder.path])
        #expect(malformed.status != 0, "\(malformed)")
        #expect(malformed.stderr.contains("32 bytes"), "\(malformed)")
        // The right key given explicitly works.
        let key = try String(contentsOfFile: folder.file("demo-encryption.key"), encoding: .utf8)
        let right = try await hashcart(["check", "--data", folder.path, "--encryption-key", key.trimmingCharacters(in: .whitespacesAndNewlines)])
        #expect(right.status == 0, "\(right)")

        // A second demo into the same folder is refused and touches nothing.
        let before = try folder.snapshot()
        let again = try await hashcart(["demo", "--json", "--cardholders", "100", "--data", folder.path])
        #expect(again.status != 0, "\(again)")
        #expect(again.stderr.contains("already holds a Hashcart store"), "\(again)")
        let after = try folder.snapshot()
        #expect(after.keys.sorted() == before.keys.sorted())
        for (name, bytes) in before {
            #expect(after[name]?.elementsEqual(bytes) == true, "\(name) changed after a refused demo")
        }
        #expect(try await hashcart(["check", "--data", folder.path]).status == 0)
    }

    /// `check` judges holds as of the store's last recorded moment: the demo's store (its clock
    /// stopped on Black Friday) stays clean however long ago that was, while a store that went on
    /// recording past a hold's timeout without voiding it is reported.
    @Test func checkJudgesHoldsAsOfTheStoresLastMoment() async throws {
        let folder = TemporaryFolder("holds")
        let demo = try await hashcart(["demo", "--json", "--cardholders", "100", "--data", folder.path])
        try #require(demo.status == 0, "\(demo)")
        let queue = try DatabaseQueue(path: folder.file("hashcart.sqlite"))
        let (pendingHolds, lastTimeout) = try await queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ledger_transfers WHERE type = 'pending' AND pending_status = 'pending'") ?? 0,
             try Int64.fetchOne(db, sql: "SELECT MAX(timeout_at) FROM ledger_transfers WHERE type = 'pending' AND pending_status = 'pending'"))
        }
        try #require(pendingHolds > 0, "the demo leaves authorized, unshipped orders holding credit")
        try #require(Int64(Date().timeIntervalSince1970 * 1000) > (lastTimeout ?? 0), "the demo's holds time out seven days after its clock")
        #expect(try await hashcart(["check", "--data", folder.path]).status == 0)

        // The engine went on recording (an event processed two hours after the last timeout)
        // without voiding those holds: that is a broken rule.
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO processed_events (network, event_id, processed_at) VALUES ('x', 'late-event', ?)",
                           arguments: [lastTimeout! + 7_200_000])
        }
        try queue.close()
        let json = try await hashcart(["check", "--json", "--data", folder.path])
        #expect(json.status == 1, "\(json)")
        let rules = Set(((try json.json())["invariant_violations"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String })
        #expect(rules == ["ledger.hold_outlived_timeout"], "\(json)")
    }

    @Test func checkFindsTamperedStock() async throws {
        let folder = TemporaryFolder("tamper")
        let demo = try await hashcart(["demo", "--json", "--cardholders", "100", "--data", folder.path])
        try #require(demo.status == 0, "\(demo)")

        let queue = try DatabaseQueue(path: folder.file("hashcart.sqlite"))
        let tampered = try await queue.write { db in
            let id = try #require(try String.fetchOne(db, sql: """
                SELECT id FROM offers WHERE quantity IS NULL OR reserved_units + sold_units < quantity ORDER BY id LIMIT 1
                """))
            try db.execute(sql: "UPDATE offers SET sold_units = sold_units + 1 WHERE id = ?", arguments: [id])
            return id
        }
        try queue.close()

        let check = try await hashcart(["check", "--data", folder.path])
        #expect(check.status == 1, "\(check)")
        #expect(check.stdout.contains("stock.not_oversold"), "\(check)")
        #expect(check.stdout.contains(tampered), "\(check)")

        let json = try await hashcart(["check", "--json", "--data", folder.path])
        #expect(json.status == 1, "\(json)")
        let report = try json.json()
        #expect(report["ok"] as? Bool == false)
        let rules = (report["invariant_violations"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
        #expect(rules == ["stock.not_oversold"], "\(json)")
    }

    @Test func benchPurchasesConfirmsEveryPurchase() async throws {
        let folder = TemporaryFolder("bench")
        let bench = try await hashcart(["bench", "purchases", "--count", "300", "--json", "--data", folder.path])
        #expect(bench.status == 0, "\(bench)")
        let report = try bench.json()
        #expect(report["confirmed"] as? Int == 300, "\(bench)")
        #expect(report["count"] as? Int == 300)
        #expect(report["invariant_violations"] as? Int == 0, "\(bench)")
        // Kept in the folder given, as a real store (its throwaway key is not kept, so no key opens it).
        #expect(FileManager.default.fileExists(atPath: folder.file("hashcart.sqlite")))
        let check = try await hashcart(["check", "--data", folder.path, "--encryption-key", randomKey()])
        #expect(check.status != 0 && check.stderr.contains("key"), "\(check)")
    }

    @Test func benchLatencyRunsEachLoadOpenLoopAndConfirmsEveryRepost() async throws {
        let bench = try await hashcart(["bench", "latency", "--peak-count", "1000", "--seconds", "1", "--json"])
        #expect(bench.status == 0, "\(bench)")
        let report = try bench.json()
        let peak = try #require(report["peak_per_second"] as? Int, "\(bench)")
        #expect(peak > 0)
        let runs = report["runs"] as? [[String: Any]] ?? []
        #expect(runs.map { $0["load_percent"] as? Int } == [25, 50, 75], "\(bench)")
        for run in runs {
            let load = try #require(run["load_percent"] as? Int)
            // The rate offered is the share of the peak; every scheduled repost bought, none twice.
            #expect(abs((run["rate"] as? Int ?? 0) - peak * load / 100) <= 1, "\(run)")
            #expect(run["confirmed"] as? Int == run["reposts"] as? Int, "\(run)")
            #expect(run["invariant_violations"] as? Int == 0, "\(run)")
            let (p50, p99, p999) = (run["p50_ms"] as? Double ?? -1, run["p99_ms"] as? Double ?? -1, run["p999_ms"] as? Double ?? -1)
            #expect(0 < p50 && p50 <= p99 && p99 <= p999, "\(run)")
        }
    }

    @Test func benchFlashSaleSellsExactlyTheUnits() async throws {
        let bench = try await hashcart(["bench", "flash-sale", "--cardholders", "2000", "--units", "50", "--json"])
        #expect(bench.status == 0, "\(bench)")
        let report = try bench.json()
        #expect(report["posts"] as? Int == 2000 && report["units"] as? Int == 50, "\(bench)")
        #expect(report["sold"] as? Int == 50 && report["confirmed"] as? Int == 50, "\(bench)")
        #expect(report["invariant_violations"] as? Int == 0, "\(bench)")
        #expect((report["seconds"] as? Double ?? 0) > 0, "\(bench)")
    }

    @Test func benchScaleRunsEveryEventThroughTheConnectorAndKeepsEveryRule() async throws {
        let bench = try await hashcart(["bench", "scale", "--cardholders", "3000", "--events", "100000", "--json"])
        #expect(bench.status == 0, "\(bench)")
        let report = try bench.json()
        // 1 % purchase posts, each confirmed once by its cardholder's repost; the rest dropped by the connector.
        #expect(report["purchase_posts"] as? Int == 1_000 && report["reposts"] as? Int == 1_000, "\(bench)")
        #expect(report["confirmed"] as? Int == 1_000 && report["orders"] as? Int == 1_000, "\(bench)")
        #expect(report["kept_by_connector"] as? Int == 2_000, "\(bench)")
        #expect(report["invariant_violations"] as? Int == 0, "\(bench)")
        let tenths = report["tenths_us_per_event"] as? [Double] ?? []
        #expect(tenths.count == 10 && tenths.allSatisfy { $0 > 0 }, "\(bench)")
        #expect((report["peak_rss_bytes"] as? Int ?? 0) > 0, "\(bench)")
    }
}
