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

    init(connector: any NetworkConnector, buyer: SocialIdentity, namespace: String) throws {
        database = try TestDatabase(.sqlite)
        store = try database.open(key: AddressCipher.generateEncodedKey())
        let clock = SystemWallClock()
        engine = try Engine(store: store, connector: connector, clock: clock, ids: SequentialIDGenerator(namespace: namespace),
                            taxTable: try BundledTaxTable.load(), configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0)))
        let merchant = try engine.createMerchant(name: "Amex Tees")
        offer = try engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Amex Tee", sku: "TEE", price: .usd(2500), hashtag: "#BuyAmexTee", quantity: 3))
        // Not the buyer's handle: the privacy guard would (rightly) keep the name out of the reply.
        let card = try engine.createCardAccount(creditLimit: .usd(100_000),
                                                billing: BillingAddress(name: "Jane Roe", line1: "1 Main St", city: "Albany", state: .NY, postalCode: "12207"),
                                                cardLast4: "4242")
        try engine.link(cardAccountID: card.id, identity: buyer, at: clock.now().adding(seconds: -86_400))
    }

    func close() { try? store.close() }

    var soldUnits: Int64 { (try? store.read { try $0.offers() }.first { $0.id == offer.id }?.soldUnits) ?? 0 }
}

/// Waits until `condition` holds, up to ~60 s (CI machines are busy: every suite runs at once on
/// two cores); a timeout is an issue.
func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
    for _ in 0..<3_000 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}
