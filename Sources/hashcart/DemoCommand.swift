import ArgumentParser
import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore

/// `hashcart demo`: a whole flash sale on the embedded store and the sandbox network.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a flash sale of the three 2013 launch offers on the sandbox network and print each offer's funnel and the ledger check.")

    @Option(name: .customLong("data"), help: "A new data folder to keep the demo's store in (default: a fresh temporary folder).")
    var data: String?

    @Option(help: "Cardholders with linked sandbox accounts (100…20000).")
    var cardholders = 3_000

    @Option(help: "Seed of the sale's randomness: the same seed gives the same sale.")
    var seed: UInt64 = 2013

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    @Flag(help: "After the sale, keep serving the API and the dashboard on the sale's data until stopped (Ctrl-C), and print the sign-ins.")
    var serve = false

    @Option(help: "The port --serve listens on, on 127.0.0.1 (0: any free port).")
    var port = 8080

    /// Black Friday 2026, 15:00 UTC: the demo's clock starts here and moves only as the sale does.
    static let start = Instant(secondsSinceEpoch: 1_795_791_600)

    func validate() throws {
        guard (100...20_000).contains(cardholders) else { throw ValidationError("--cardholders must be between 100 and 20000") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard !serve || !json else { throw ValidationError("--serve prints the dashboard's sign-ins as text: leave out --json") }
    }

    func run() async throws {
        let started = Date()
        let directory = data ?? (NSTemporaryDirectory() + "hashcart-demo-" + String(UUID().uuidString.prefix(8)).lowercased())
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            fail("\(directory) is a file; --data needs a folder")
        }
        if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(SQLiteStore.fileName)) {
            fail("\(directory) already holds a Hashcart store; the demo needs a new folder")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Demo data only: the key is kept beside the data so `hashcart check --data` can open it.
        let key = AddressCipher.generateEncodedKey()
        try key.write(toFile: (directory as NSString).appendingPathComponent(StoreOptions.demoKeyFile), atomically: true, encoding: .utf8)

        let clock = ManualClock(Self.start)
        let demoClock = DemoClock(clock)
        let store = try SQLiteStore(directory: directory, encryptionKey: key)
        let sandbox = try SandboxNetwork(directory: directory, clock: demoClock)
        let connector = FaultyDeliveryConnector(wrapping: SandboxConnector(sandbox: sandbox), seed: seed, duplicatePercent: 10, reorderPercent: 10)
        let engine = try await Engine(store: store, connector: connector, clock: demoClock, ids: SequentialIDGenerator(),
                                taxTable: try BundledTaxTable.load())
        var sale = FlashSale(engine: engine, store: store, sandbox: sandbox, clock: clock, random: SplitMix64(seed: seed),
                             cardholderCount: cardholders, log: { message in
                                 if !json { FileHandle.standardError.write(Data("· \(message)\n".utf8)) }
                             })
        let outcome = try await sale.run()
        // The sale's day settled as the issuer would just after midnight UTC: one batch per
        // merchant, waiting in clearing for `hashcart settle --nacha FILE` to pay it.
        let saleDay = SettlementDay(containing: clock.now())
        let settled = try await Settlement(store: store).close(through: saleDay, now: saleDay.end.adding(seconds: Settlement.closingGraceSeconds))
        let report = try await DemoReport.build(store: store, offers: outcome.offers, cardLinkedOffers: outcome.cardLinkedOffers,
                                                directory: directory, settled: settled)
        let elapsed = Date().timeIntervalSince(started)
        if json {
            var object = report.json
            object["cardholders"] = outcome.cardholders
            object["unlinked_accounts"] = outcome.unlinkedAccounts
            object["seed"] = seed
            object["elapsed_seconds"] = (elapsed * 10).rounded() / 10
            printJSON(object)
        } else {
            print("Hashcart demo: flash sale on the sandbox network (seed \(seed))")
            print("\(outcome.cardholders) cardholders (\(outcome.linkedByCode) linked by posting a code), \(outcome.unlinkedAccounts) unlinked accounts; deliveries duplicated and reordered ~10 %")
            print("")
            print(report.text)
            print("data folder: \(directory)  (inspect it: hashcart check --data \(directory))")
            print(String(format: "finished in %.1f s", elapsed))
        }
        if !report.violations.isEmpty { throw ExitCode(1) }
        if serve {
            // Time moves on from when the day was settled (just after midnight UTC), not from the
            // sale: a refund or cancellation now belongs to the next day's batch, as it would in
            // production, never to the day already settled.
            let settledAt = saleDay.end.adding(seconds: Settlement.closingGraceSeconds)
            clock.advance(seconds: max(0, (settledAt.millisecondsSinceEpoch - clock.now().millisecondsSinceEpoch + 999) / 1000))
            demoClock.release()
            try await DemoServer(engine: engine, store: store, sandbox: sandbox, merchantID: outcome.offers[0].merchantID, port: port).run()
        }
    }
}

/// Per-offer funnels and the ledger check, as text and JSON.
///
/// Sendable by hand: `json` holds only strings, numbers, and arrays and dictionaries of them,
/// built inside the store's read and never changed after.
struct DemoReport: @unchecked Sendable {
    var text: String
    var json: [String: Any]
    var violations: [InvariantViolation]

    static func build(store: SQLiteStore, offers: [Offer], cardLinkedOffers: [Offer], directory: String,
                      settled: SettlementCloseResult) async throws -> DemoReport {
        try await store.read { reader in
            var lines: [String] = []
            var offerObjects: [[String: Any]] = []
            for offer in offers {
                guard let current = try reader.offers().first(where: { $0.id == offer.id }) else { continue }
                let funnel = try reader.funnel(offer: offer.id)
                func metric(_ name: FunnelMetric) -> Int64 { funnel[name.rawValue] ?? 0 }
                var declined: [String: Int64] = [:]
                for (name, value) in funnel where name.hasPrefix("declined.") { declined[String(name.dropFirst(9))] = value }
                let declinedTotal = declined.values.reduce(0, +)
                let stock = current.quantity ?? -1
                let waiting = try reader.purchaseCounts(offer: offer.id)[.waitlisted] ?? 0
                offerObjects.append([
                    "offer_id": offer.id.rawValue, "title": offer.title, "hashtag": offer.hashtag.description,
                    "price": offer.price.minorUnits, "currency": offer.price.currency.rawValue,
                    "posts": metric(.posts), "unique_authors": metric(.uniqueAuthors), "linked_posts": metric(.linkedPosts),
                    "unlinked_posts": metric(.unlinkedPosts), "quotes": metric(.quotes),
                    "confirmations_sent": metric(.confirmationsSent), "confirmed": metric(.confirmed), "orders": metric(.orders),
                    "units_sold": current.soldUnits, "stock": stock, "reserved": current.reservedUnits,
                    "state": current.state(at: DemoCommand.start).rawValue,
                    "expired": metric(.expired), "cancelled": metric(.cancelled), "late_reposts": metric(.lateReposts),
                    "foreign_reposts": metric(.foreignReposts), "declined": declined, "declined_total": declinedTotal,
                    "revenue": metric(.revenue), "tax": metric(.tax),
                    "waitlisted": metric(.waitlisted), "waitlist_turns": metric(.waitlistTurns),
                    "waitlist_closed": metric(.waitlistClosed), "waiting": waiting,
                ])
                lines.append("\(offer.title)  \(offer.hashtag)  \(offer.price)\(offer.taxCategory == .exempt ? " (tax-exempt)" : " + tax")  stock \(stock)")
                lines.append(row("posts with the hashtag", metric(.posts), "unique authors \(metric(.uniqueAuthors)), quotes \(metric(.quotes))"))
                lines.append(row("from linked identities", metric(.linkedPosts), "unlinked \(metric(.unlinkedPosts))"))
                lines.append(row("confirmation replies sent", metric(.confirmationsSent), ""))
                lines.append(row("confirmed by repost", metric(.confirmed), "foreign reposts \(metric(.foreignReposts)), late reposts \(metric(.lateReposts))"))
                lines.append(row("orders", metric(.orders), "units sold now \(current.soldUnits) of \(stock)"))
                lines.append(row("expired", metric(.expired), "cancelled \(metric(.cancelled))"))
                lines.append(row("joined the waitlist", metric(.waitlisted), "turns given \(metric(.waitlistTurns)), still waiting \(waiting)"))
                lines.append(row("declined", declinedTotal, declined.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
                lines.append("")
            }
            var creditObjects: [[String: Any]] = []
            for offer in cardLinkedOffers {
                guard let current = try reader.offer(offer.id), let terms = current.statementCredit else { continue }
                let funnel = try reader.funnel(offer: offer.id)
                func metric(_ name: FunnelMetric) -> Int64 { funnel[name.rawValue] ?? 0 }
                creditObjects.append([
                    "offer_id": offer.id.rawValue, "title": offer.title, "hashtag": offer.hashtag.description,
                    "spend_threshold": terms.spendThreshold.minorUnits, "credit_amount": terms.credit.minorUnits,
                    "posts": metric(.posts), "loaded": metric(.loads), "qualifying_transactions": metric(.qualifyingTransactions),
                    "credits_earned": metric(.creditsEarned), "credits_reversed": metric(.creditsReversed), "credit_total": metric(.creditTotal),
                    "credited_total": current.creditedTotal, "budget": terms.budget.minorUnits,
                    "budget_left": terms.budget.minorUnits - current.creditedTotal,
                ])
                lines.append("\(offer.title)  \(offer.hashtag)  (card-linked: spend \(terms.spendThreshold), get \(terms.credit) back)")
                lines.append(row("loaded onto cards", metric(.loads), "posts \(metric(.posts))"))
                lines.append(row("qualifying transactions", metric(.qualifyingTransactions), ""))
                lines.append(row("credits earned", metric(.creditsEarned), "reversed \(metric(.creditsReversed)), paid out \(Money.usd(current.creditedTotal)) of \(terms.budget)"))
                lines.append("")
            }
            let batches = settled.batches
            let toPay = batches.reduce(Int64(0)) { $0 + $1.payout }
            lines.append("settlement of \(settled.daysClosed.map(\.description).joined(separator: ", ")): \(batches.count) batch(es), \(Money.usd(toPay)) to pay"
                + " (pay it: hashcart settle --data \(directory) --through \(settled.through?.description ?? "") --nacha payout.ach)")
            for batch in batches {
                lines.append("  \(batch.merchantID): sales \(Money.usd(batch.sales)), fees \(Money.usd(batch.fees)), refunds \(Money.usd(batch.refunds)), credits \(Money.usd(batch.statementCredits)) → payout \(Money.usd(batch.payout))")
            }
            lines.append("")
            let violations = try reader.audit()
            let balanced = !violations.contains { $0.rule.hasPrefix("ledger.") }
            let transfers = try reader.count("ledger_transfers")
            lines.append("ledger: \(balanced ? "balanced" : "NOT balanced") over \(transfers) transfers; merchant events: "
                + (try reader.merchantEventCounts()).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            lines.append(violations.isEmpty ? "invariants: none violated" : "invariants: \(violations.count) VIOLATED")
            for violation in violations.prefix(20) { lines.append("  \(violation)") }
            let json: [String: Any] = [
                "data_dir": directory, "offers": offerObjects, "ledger_balanced": balanced, "ledger_transfers": transfers,
                "invariant_violations": violations.map { ["rule": $0.rule, "subject": $0.subject, "detail": $0.detail] },
                "merchant_events": try reader.merchantEventCounts(),
                "card_linked_offers": creditObjects,
                "settlement": [
                    "days": settled.daysClosed.map(\.description), "batches": batches.count, "net_settled": toPay,
                    "carried_forward": batches.reduce(Int64(0)) { $0 + $1.carriedOut },
                    "settlements": batches.map(SettleCommand.json),
                ] as [String: Any],
            ]
            return DemoReport(text: lines.joined(separator: "\n"), json: json, violations: violations)
        }
    }

    static func row(_ label: String, _ value: Int64, _ note: String) -> String {
        let padded = label.padding(toLength: 28, withPad: " ", startingAt: 0)
        let number = String(value)
        return "  \(padded)\(String(repeating: " ", count: max(0, 7 - number.count)))\(number)\(note.isEmpty ? "" : "   (\(note))")"
    }
}
