import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// A later tax table takes effect on its day: purchases asked for from then on are priced with it
/// (rate, category rules and version stored on the order); one asked for before keeps its price.
@Suite(.onEveryBackend) struct TaxScheduleFlowTests {
    /// The bundled table as a later version: New York at 4.5 % and its clothing rule gone.
    static func laterTable(effective: SettlementDay) throws -> TaxRateTable {
        var lines = BundledTaxTable.csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines = lines.filter { $0 != "category,NY,clothing,exempt_below,11000" }.map { line in
            switch line {
            case "version,2025-01-01.2": "version,2026-test\neffective,\(effective)"
            case "NY,,40000": "NY,,45000"
            default: line
            }
        }
        return try TaxRateTable.parse(lines.joined(separator: "\n"))
    }

    @Test func aPurchaseIsPricedWithTheTableInEffectWhenItIsAskedFor() async throws {
        let world = try await TestWorld()
        let tomorrow = SettlementDay(containing: world.clock.now()).next
        world.engine = try await Engine(store: world.store, connector: world.engine.connector, clock: world.clock, ids: world.ids,
                                        taxTable: world.taxTable, laterTaxTables: [try Self.laterTable(effective: tomorrow)],
                                        configuration: world.engine.configuration)
        let merchant = try await world.engine.createMerchant(name: "Tees", discountRateBasisPoints: 250)
        _ = try await world.offer(merchant: merchant, hashtag: "#BuyTee", price: 10_000, quantity: 10) {
            $0.taxCategory = .clothing
            $0.perCardholderLimit = 5
        }
        let (_, alice) = try await world.cardholder(handle: "alice")

        // Today: New York's clothing under $110 is exempt (the bundled table).
        let today = try await world.buy(alice, "#BuyTee")
        #expect(today.tax == .zero && today.taxRatePartsPerMillion == 0 && today.taxTableVersion == "2025-01-01.2")

        // Asked for a minute before midnight, confirmed after it: priced when asked.
        world.clock.advance(milliseconds: world.clock.now().milliseconds(until: tomorrow.start) - 60_000)
        let (lastPost, request) = try await world.post(alice, "#BuyTee")
        world.clock.advance(seconds: 120)
        try world.sandbox.repost(authorID: alice.id, postID: try #require(request).id)
        try await world.settle()
        let straddling = try #require(try await world.purchase(of: lastPost))
        #expect(straddling.state == .authorized && straddling.tax == .zero && straddling.taxTableVersion == "2025-01-01.2")

        // From the effective day: the later table, with its rate and without the exemption.
        let after = try await world.buy(alice, "#BuyTee")
        #expect(after.tax == .usd(450) && after.taxRatePartsPerMillion == 45_000 && after.taxTableVersion == "2026-test")
        let orders = try await world.orders()
        #expect(orders.map(\.taxTableVersion).sorted() == ["2025-01-01.2", "2025-01-01.2", "2026-test"])
        #expect(try await world.audit().isEmpty)
    }

    @Test func theBundledTableTreatsEachCategoryAsItsStateDoes() throws {
        let table = try BundledTaxTable.load()
        #expect(table.quote(unitPrice: .usd(10_999), category: .clothing, state: .NY, zip5: nil).tax == .zero)
        #expect(table.quote(unitPrice: .usd(11_000), category: .clothing, state: .NY, zip5: nil).tax == .usd(440))
        #expect(table.quote(unitPrice: .usd(20_000), category: .clothing, state: .MA, zip5: nil).tax == .usd(156))  // 6.25 % of $25
        #expect(table.quote(unitPrice: .usd(5_000), category: .clothing, state: .CA, zip5: nil).tax == .usd(363))  // 7.25 %
        #expect(table.quote(unitPrice: .usd(5_000), category: .groceries, state: .CA, zip5: nil).tax == .zero)
        #expect(table.quote(unitPrice: .usd(5_000), category: .groceries, state: .TN, zip5: nil).tax == .usd(200))  // 4 %
        #expect(table.quote(unitPrice: .usd(5_000), category: .groceries, state: .ID, zip5: nil).tax == .usd(300))  // general 6 %
        #expect(table.quote(unitPrice: .usd(1_000), category: .digitalGoods, state: .CA, zip5: nil).tax == .zero)
        #expect(table.quote(unitPrice: .usd(1_000), category: .digitalGoods, state: .WA, zip5: nil).tax == .usd(65))
        // Every state has a grocery treatment or a general rate, and the five without sales tax tax nothing.
        for state in [USState.AK, .DE, .MT, .NH, .OR] {
            for category in TaxCategory.allCases { #expect(table.quote(unitPrice: .usd(1_000), category: category, state: state, zip5: nil).tax == .zero) }
        }
    }
}
