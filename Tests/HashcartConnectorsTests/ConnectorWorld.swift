import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Testing

/// An engine on a fresh SQLite store with a real network's connector, one merchant, one offer
/// (`#BuyAmexTee`, 3 units) and one cardholder whose card is linked to `buyer` a day ago: the
/// world every connector's end-to-end test buys in.
struct ConnectorWorld {
    let database: TestDatabase
    let store: any HashcartDatabase
    let engine: Engine
    let offer: Offer

    init(connector: any NetworkConnector, buyer: SocialIdentity, namespace: String) async throws {
        database = try TestDatabase(.sqlite)
        store = try await database.open(key: AddressCipher.generateEncodedKey())
        let clock = SystemWallClock()
        engine = try await Engine(store: store, connector: connector, clock: clock, ids: SequentialIDGenerator(namespace: namespace),
                            taxTable: try BundledTaxTable.load(), configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0)))
        let merchant = try await engine.createMerchant(name: "Amex Tees")
        offer = try await engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Amex Tee", sku: "TEE", price: .usd(2500), hashtag: "#BuyAmexTee", quantity: 3))
        // Not the buyer's handle: the privacy guard would (rightly) keep the name out of the reply.
        let card = try await engine.createCardAccount(creditLimit: .usd(100_000),
                                                billing: BillingAddress(name: "Jane Roe", line1: "1 Main St", city: "Albany", state: .NY, postalCode: "12207"),
                                                cardLast4: "4242")
        try await engine.link(cardAccountID: card.id, identity: buyer, at: clock.now().adding(seconds: -86_400))
    }

    func close() { store.closeLater() }

    var soldUnits: Int64 { get async { (try? await store.read { try $0.offers() }.first { $0.id == offer.id }?.soldUnits) ?? 0 } }
}

/// Waits until `condition` holds, up to 180 s of wall time (CI machines are busy: every suite runs
/// at once on two cores, sharing Swift's cooperative pool); a timeout is an issue.
func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(180)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}
