import Foundation
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Testing

/// What the operator and merchants hand the engine (offers, card accounts, configuration) is
/// outside input: garbage gets a clear error and changes nothing.
@Suite(.onEveryBackend) struct OperatorInputTests {
    @Test func garbageOffersAreRefusedAndNothingIsStored() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Shop")
        func draft(_ change: (inout OfferDraft) -> Void) -> OfferDraft {
            var draft = OfferDraft(merchantID: merchant.id, title: "Thing", sku: "T-1", price: .usd(1000), hashtag: "#BuyThing", quantity: 5)
            change(&draft)
            return draft
        }
        let bad: [OfferDraft] = [
            draft { $0.hashtag = "#" }, draft { $0.hashtag = "not a tag" }, draft { $0.price = .usd(0) },
            draft { $0.price = .usd(-5) }, draft { $0.price = .usd(Int64.max) }, draft { $0.quantity = 0 },
            draft { $0.title = "" }, draft { $0.title = String(repeating: "x", count: 201) }, draft { $0.sku = "a\u{0}b" },
            draft { $0.perCardholderLimit = 0 }, draft { $0.confirmationWindowSeconds = 5 }, draft { $0.eligibleStates = [] },
            draft { $0.startsAt = Instant(secondsSinceEpoch: 10); $0.endsAt = Instant(secondsSinceEpoch: 5) },
        ]
        for offer in bad {
            await #expect(throws: EngineError.self) { try await world.engine.createOffer(offer) }
        }
        await #expect(throws: EngineError.notFound("merchant mer_nope")) {
            try await world.engine.createOffer(OfferDraft(merchantID: "mer_nope", title: "T", sku: "S", price: .usd(1), hashtag: "#Nope", quantity: 1))
        }
        #expect(try await world.store.read { try $0.offers() }.isEmpty)

        // A hashtag is unique case-insensitively among offers that have not ended.
        _ = try await world.engine.createOffer(draft { _ in })
        await #expect(throws: StoreError.self) { try await world.engine.createOffer(draft { $0.hashtag = "#BUYTHING"; $0.sku = "T-2" }) }
        #expect(try await world.store.read { try $0.offers() }.count == 1)
    }

    @Test func garbageCardAccountsAndMerchantsAreRefused() async throws {
        let world = try await TestWorld()
        let good = world.address()
        let cases: [(Money, BillingAddress, String)] = [
            (.usd(-1), good, "4242"),
            (.usd(CardAccount.maximumCreditLimit.minorUnits + 1), good, "4242"),
            (.usd(1000), good, "42a2"), (.usd(1000), good, "42424"),
            (.usd(1000), BillingAddress(name: "", line1: "1 Main", city: "X", state: .NY, postalCode: "10001"), "4242"),
            (.usd(1000), BillingAddress(name: "A", line1: "1 Main", city: "X", state: .NY, postalCode: "1000"), "4242"),
            (.usd(1000), BillingAddress(name: "A", line1: "1 Main", city: "X", state: .NY, postalCode: "10001-12"), "4242"),
            (.usd(1000), BillingAddress(name: "A\nB", line1: "1 Main", city: "X", state: .NY, postalCode: "10001"), "4242"),
        ]
        for (limit, address, last4) in cases {
            await #expect(throws: EngineError.self) { try await world.engine.createCardAccount(creditLimit: limit, billing: address, cardLast4: last4) }
        }
        await #expect(throws: EngineError.self) { try await world.engine.createMerchant(name: "", discountRateBasisPoints: 250) }
        await #expect(throws: EngineError.self) { try await world.engine.createMerchant(name: "M", discountRateBasisPoints: 2001) }
        await #expect(throws: EngineError.self) { try await world.engine.createMerchant(name: "M", discountRateBasisPoints: -1) }
        #expect(try await world.store.read { try $0.count("card_accounts") } == 0)
        #expect(try await world.store.read { try $0.count("merchants") } == 0)
        #expect(try await world.audit() == [])
    }

    @Test func garbageConfigurationIsRefused() async throws {
        let bad: [EngineConfiguration] = [
            EngineConfiguration(risk: RiskPolicy(dailySpendCap: .usd(0))),
            EngineConfiguration(risk: RiskPolicy(maximumPurchasesPerHour: 100_000)),
            EngineConfiguration(holdDurationSeconds: 60),
            EngineConfiguration(expiryGraceSeconds: -1),
            EngineConfiguration(linkCodeLifetimeSeconds: 0),
            EngineConfiguration(maximumEventsPerBatch: 0),
            EngineConfiguration(maximumOutboundPerRound: 1_000_000),
        ]
        for configuration in bad {
            #expect(throws: ValidationError.self) { try configuration.validated() }
        }
        await #expect(throws: ValidationError.self) { try await TestWorld(configuration: EngineConfiguration(maximumTimersPerRound: -3)) }
        #expect(throws: Never.self) { try EngineConfiguration().validated() }
    }
}
