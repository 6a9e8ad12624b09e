import Foundation
import HashcartApp
import HashcartCardFeed
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Logging
import Testing

/// The card feed over real TCP on loopback, with pyiso8583 (PyPI, a codec nobody here wrote) as the
/// sending side: a purchase earns a loaded offer's credit, its repeat is answered the same and
/// changes nothing, garbage gets a format error (or nothing) without stopping the listener, and a
/// reversal claws the credit back. The PAN is never stored.
@Suite("card feed against pyiso8583", .onEveryBackend,
       .enabled(if: Pyiso8583.available, Comment(rawValue: "python3 with pyiso8583 is not installed (.ci/run installs it): skipped")))
struct CardFeedPeerTests {
    static let pan = "4111111111111111"

    @Test func aPurchaseAndItsReversalFromPyiso8583() async throws {
        let database = try TestDatabase()
        let store = try await database.open(key: AddressCipher.generateEncodedKey())
        defer { store.closeLater() }
        let clock = ManualClock(Instant(secondsSinceEpoch: 1_796_479_200))  // 2026-12-05 14:00:00 UTC
        let sandbox = try SandboxNetwork(directory: database.directory, clock: clock)
        let engine = try await Engine(store: store, connector: SandboxConnector(sandbox: sandbox), clock: clock, ids: SequentialIDGenerator(),
                                      taxTable: try BundledTaxTable.load(), configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0)))
        let merchant = try await engine.createMerchant(name: "Zappos")
        var draft = OfferDraft(merchantID: merchant.id, title: "Zappos $20 back", sku: "ZAP", price: .usd(0), hashtag: "#ZapposCredit", quantity: nil)
        draft.type = .statementCredit
        draft.statementCredit = StatementCreditTerms(spendThreshold: .usd(7_500), credit: .usd(2_000), acceptorIDs: ["ZAPPOS-0001"], budget: .usd(100_000))
        draft.startsAt = clock.now().adding(seconds: -86_400)
        let offer = try await engine.createOffer(draft)
        let billing = BillingAddress(name: "Ada Lovelace", line1: "65 Broadway", city: "Albany", state: .NY, postalCode: "12207")
        let card = try await engine.createCardAccounts([CardAccountDraft(creditLimit: .usd(50_000), billing: billing, cardLast4: "1111",
                                                                         pan: try PrimaryAccountNumber(Self.pan))])[0]
        let alice = try sandbox.createAccount(handle: "alice")
        try await engine.link(cardAccountID: card.id, identity: SocialIdentity(network: .sandbox, userID: alice.id, handle: "@alice"))
        _ = try sandbox.post(authorID: alice.id, text: "Loading #ZapposCredit")
        for _ in 0..<10 where !(try await engine.runRound().isQuiet) {}
        #expect(try await store.read { try $0.count("statement_credit_loads") } == 1)
        clock.advance(seconds: 60)

        var quiet = Logger(label: "test.card-feed")
        quiet.logLevel = .critical
        let logger = quiet
        let bound = AsyncStream.makeStream(of: Int.self)
        let listener = Task {
            try await CardFeedListener.run(host: "127.0.0.1", port: 0, onBound: { bound.continuation.yield($0) }) { message in
                await CardFeedService.process(message, engine: engine, logger: logger)
            }
        }
        defer { listener.cancel() }
        var ports = bound.stream.makeAsyncIterator()
        let port = try #require(await ports.next())

        func message(_ type: String, stan: String, amount: String = "000000008000", pan: String = Self.pan) -> [String: String] {
            ["t": type, "2": pan, "3": "000000", "4": amount, "7": "1205140100", "11": stan, "12": "140100", "13": "1205", "18": "5661",
             "37": "RRN000000042", "41": "TERM0001", "42": "ZAPPOS-0001    ", "43": "ZAPPOS LAS VEGAS NV".padding(toLength: 40, withPad: " ", startingAt: 0),
             "49": "840"]
        }
        let plan: [[String: Any]] = [
            ["message": message("0200", stan: "000001")],
            ["message": message("0200", stan: "000001")],  // the same message again
            ["raw": Data("0200ZZZZ".utf8).hexEncoded],  // unreadable, but an 0200: a format error
            ["raw": Data("hello".utf8).hexEncoded, "expect_response": false],  // not a message type Hashcart answers
            ["message": message("0220", stan: "000002", pan: "4111111111111112")],  // fails Luhn
            ["message": message("0800", stan: "000003"), "expect_response": false],  // network management: not ours
            ["message": message("0420", stan: "000004")],  // the reversal of the first
        ]
        let planURL = URL(fileURLWithPath: database.directory).appendingPathComponent("plan.json")
        try JSONSerialization.data(withJSONObject: plan).write(to: planURL)
        let run = try await ChildProcess.python([Pyiso8583.script, "127.0.0.1", String(port), planURL.path])
        try #require(run.status == 0, "pyiso8583 did not finish: \(run)")
        let responses = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [Any])
        #expect(responses.count == plan.count)
        func fields(_ index: Int) -> [String: String]? { responses[index] as? [String: String] }
        let first = try #require(fields(0))
        #expect(first["t"] == "0210" && first["39"] == "00")
        for field in ["3", "4", "7", "11", "37", "41", "42", "49"] { #expect(first[field] == message("0200", stan: "000001")[field], "field \(field)") }
        #expect(first["2"] == nil, "the PAN is never sent back")
        #expect(fields(1) == first, "a repeat is answered the same")
        #expect(fields(2)?["t"] == "0210" && fields(2)?["39"] == "30")
        #expect(responses[3] is NSNull && responses[5] is NSNull)
        #expect(fields(4)?["t"] == "0230" && fields(4)?["39"] == "30")
        #expect(fields(6)?["t"] == "0430" && fields(6)?["39"] == "00")

        // What the store says: one purchase (not two), one reversal, the credit earned and clawed back.
        #expect(try await store.read { try $0.count("card_transactions") } == 2)
        let credits = try await store.read { try $0.statementCredits(cardAccountID: card.id, limit: 10) }
        #expect(credits.count == 1 && credits[0].state == .reversed)
        #expect(try await store.read { try $0.funnel(offer: offer.id) }[FunnelMetric.creditsEarned.rawValue] == 1)
        #expect(try await store.read { try $0.audit() } == [])
        for name in try FileManager.default.contentsOfDirectory(atPath: database.directory) {
            let data = try Data(contentsOf: URL(fileURLWithPath: database.directory).appendingPathComponent(name))
            #expect(data.range(of: Data(Self.pan.utf8)) == nil || name == "plan.json", "\(name) holds the PAN")
        }
    }
}

enum Pyiso8583 {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = root.appendingPathComponent("scripts/iso8583_peer.py").path
    static let available = ChildProcess.pythonCanImport("iso8583")
}

extension Data {
    var hexEncoded: String { map { String(format: "%02x", $0) }.joined() }
}
