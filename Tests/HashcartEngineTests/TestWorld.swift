import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport

/// A whole Hashcart on a fresh database of the current test's backend (SQLite files in a
/// temporary folder, or a PostgreSQL schema of its own), the sandbox network in that folder, and
/// the engine on a manual clock.
final class TestWorld {
    let database: TestDatabase
    var directory: String { database.directory }
    let key: String
    let clock: ManualClock
    let ids = SequentialIDGenerator()
    var store: any HashcartDatabase
    let sandbox: SandboxNetwork
    var engine: Engine
    let taxTable: TaxRateTable

    static let start = Instant(secondsSinceEpoch: 1_790_000_000)

    init(configuration: EngineConfiguration = EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0))) async throws {
        database = try TestDatabase()
        key = AddressCipher.generateEncodedKey()
        clock = ManualClock(Self.start)
        store = try await database.open(key: key)
        sandbox = try SandboxNetwork(directory: database.directory, clock: clock)
        taxTable = try BundledTaxTable.load()
        engine = try await Engine(store: store, connector: SandboxConnector(sandbox: sandbox), clock: clock, ids: ids,
                            taxTable: taxTable, configuration: configuration)
    }

    /// Closes and reopens the store and engine from disk, as after a crash or restart.
    func reopen() async throws {
        try await store.close()
        store = try await database.open(key: key)
        engine = try await Engine(store: store, connector: engine.connector, clock: clock, ids: ids,
                            taxTable: taxTable, configuration: engine.configuration)
    }

    /// Puts a new engine on the same store that talks to the network through `connector`
    /// (e.g. a ``FaultyDeliveryConnector``); ``reopen()`` keeps it.
    func use(connector: any NetworkConnector) async throws {
        engine = try await Engine(store: store, connector: connector, clock: clock, ids: ids, taxTable: taxTable,
                            configuration: engine.configuration)
    }

    deinit {
        store.closeLater()
    }

    /// Polls, dispatches and fires timers until nothing changes.
    @discardableResult
    func settle() async throws -> [EventOutcome] {
        var outcomes: [EventOutcome] = []
        for _ in 0..<50 {
            let round = try await engine.runRound()
            outcomes += round.outcomes
            if round.isQuiet { break }
        }
        return outcomes
    }

    func address(_ state: USState = .NY, zip: String = "12207") -> BillingAddress {
        BillingAddress(name: "Ada Lovelace", line1: "65 Broadway", city: "Albany", state: state, postalCode: zip)
    }

    /// A cardholder with a linked sandbox account.
    func cardholder(handle: String, limit: Int64 = 500_000, state: USState = .NY) async throws -> (CardAccount, SandboxAccount) {
        let card = try await engine.createCardAccount(creditLimit: .usd(limit), billing: address(state), cardLast4: "4242")
        let account = try sandbox.createAccount(handle: handle)
        try await engine.link(cardAccountID: card.id, identity: SocialIdentity(network: .sandbox, userID: account.id, handle: "@" + handle),
                        at: clock.now().adding(seconds: -86_400))
        return (card, account)
    }

    func offer(merchant: Merchant, hashtag: String = "#BuyKindleFireHD", price: Int64 = 14999, quantity: Int64? = 10,
               configure: (inout OfferDraft) -> Void = { _ in }) async throws -> Offer {
        var draft = OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "KFHD-7", price: .usd(price),
                               hashtag: hashtag, quantity: quantity)
        configure(&draft)
        return try await engine.createOffer(draft)
    }

    /// The official reply to `postID`, if any.
    func reply(to postID: String) throws -> SandboxPost? {
        try sandbox.posts(authorID: sandbox.official.id, inReplyTo: postID).last
    }

    func audit() async throws -> [InvariantViolation] {
        try await store.read { try $0.audit() }
    }
}
