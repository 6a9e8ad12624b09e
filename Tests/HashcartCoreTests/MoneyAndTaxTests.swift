import Testing
import HashcartCore

@Suite struct MoneyTests {
    @Test func formatsForPosts() {
        #expect(Money.usd(14999).description == "$149.99")
        #expect(Money.usd(5).description == "$0.05")
        #expect(Money.usd(100_000_00).description == "$100,000.00")
        #expect(Money.usd(-1234).description == "-$12.34")
    }

    @Test func arithmeticIsOverflowChecked() throws {
        #expect(try Money.usd(100).adding(.usd(50)) == .usd(150))
        #expect(throws: MoneyError.overflow) { try Money.usd(Int64.max).adding(.usd(1)) }
        #expect(throws: MoneyError.overflow) { try Money.usd(Int64.min).subtracting(.usd(1)) }
        #expect(throws: MoneyError.overflow) { try Money.usd(Int64.max / 2 + 1).multiplied(by: 2) }
    }

    @Test func roundsHalfUp() {
        #expect(MinorUnitMath.multiplyRoundingHalfUp(14999, by: 40_000, dividedBy: 1_000_000) == 600)  // 599.96
        #expect(MinorUnitMath.multiplyRoundingHalfUp(50, by: 10_000, dividedBy: 1_000_000) == 1)  // 0.5 → 1
        #expect(MinorUnitMath.multiplyRoundingHalfUp(49, by: 10_000, dividedBy: 1_000_000) == 0)  // 0.49 → 0
        #expect(MinorUnitMath.multiplyRoundingHalfUp(Int64.max / 4, by: 250_000, dividedBy: 1_000_000) == Int64.max / 16 + 1)
    }
}

@Suite struct TaxTests {
    static let csv = """
        # test table
        version,2025-01-01
        state,zip,rate_ppm
        \(USState.allCases.map { "\($0.rawValue),,\($0 == .NY ? 40000 : $0 == .MN ? 68750 : 0)" }.joined(separator: "\n"))
        NY,10004,88750
        """

    @Test func quotesDestinationTaxRoundedOncePerLine() throws {
        let table = try TaxRateTable.parse(Self.csv)
        #expect(table.version == "2025-01-01")
        let ny = table.quote(unitPrice: .usd(14999), category: .general, state: .NY, zip5: "12207")
        #expect(ny.tax == .usd(600))  // 4 % of 149.99 = 5.9996
        #expect(ny.ratePartsPerMillion == 40000)
        let nyc = table.quote(unitPrice: .usd(14999), category: .general, state: .NY, zip5: "10004")
        #expect(nyc.tax == .usd(1331))  // 8.875 % = 13.3116
        let mn = table.quote(unitPrice: .usd(19999), quantity: 3, category: .general, state: .MN, zip5: nil)
        #expect(mn.tax == .usd(4125))  // 6.875 % of 599.97 = 41.2479, once per line
        let exempt = table.quote(unitPrice: .usd(2500), category: .exempt, state: .NY, zip5: "10004")
        #expect(exempt.tax == .zero && exempt.ratePartsPerMillion == 0)
    }

    @Test func shippedTableCoversEveryState() throws {
        // The real data file is parsed by the engine tests; here the parser's refusals.
        #expect(throws: ValidationError.self) { try TaxRateTable.parse("version,1\nstate,zip,rate_ppm\nNY,,40000") }
        #expect(throws: ValidationError.self) { try TaxRateTable.parse("state,zip,rate_ppm\nNY,,40000") }
        #expect(throws: ValidationError.self) { try TaxRateTable.parse(Self.csv + "\nXX,,1") }
        #expect(throws: ValidationError.self) { try TaxRateTable.parse(Self.csv + "\nNY,1000,1") }
        #expect(throws: ValidationError.self) { try TaxRateTable.parse(Self.csv + "\nNY,10001,999999") }
        #expect(throws: ValidationError.self) { try TaxRateTable.parse(Self.csv + "\nNY,,40000") }
        #expect(throws: ValidationError.self) { try TaxRateTable.parse("garbage\u{0}\u{1}") }
    }
}

@Suite struct HashtagTests {
    @Test func matchesByNFKCAndCaseFold() throws {
        let tag = try Hashtag("#BuyKindleFireHD")
        #expect(try Hashtag("buykindlefirehd").key == tag.key)
        #expect(try Hashtag("#ＢｕｙＫｉｎｄｌｅＦｉｒｅＨＤ").key == tag.key)  // full-width
        #expect(try Hashtag("#BuyKindle").key != tag.key)
        #expect(try Hashtag("#BuyKіndleFireHD").key != tag.key)  // Cyrillic і
    }

    @Test func extractsWholeTagsOnly() {
        let tags = Hashtag.extract(from: "I want it! #BuyKindleFire, and #BuyKindle. no#tag http://x.io/#frag &#39;")
        #expect(tags.map(\.display) == ["BuyKindleFire", "BuyKindle"])
        #expect(Hashtag.extract(from: "#123 #_ #a_1").map(\.display) == ["a_1"])
    }

    @Test func refusesGarbage() {
        #expect(throws: ValidationError.self) { try Hashtag("#") }
        #expect(throws: ValidationError.self) { try Hashtag("#has space") }
        #expect(throws: ValidationError.self) { try Hashtag("#" + String(repeating: "a", count: 101)) }
        #expect(throws: ValidationError.self) { try Hashtag("#emoji🔥") }
    }
}

@Suite struct RiskTests {
    let policy = RiskPolicy(dailySpendCap: .usd(50_000), maximumPurchasesPerHour: 3, minimumLinkAgeSeconds: 3600)
    func context(kill: Bool = false, age: Int64 = 7200, spent: Int64 = 0, hour: Int64 = 0, ofOffer: Int64 = 0, total: Int64 = 15599) -> RiskContext {
        RiskContext(offerKillSwitch: kill, linkAgeSeconds: age, spentToday: .usd(spent), purchasesLastHour: hour,
                    unitsOfOffer: ofOffer, perCardholderLimit: 1, attemptTotal: .usd(total))
    }

    @Test func eachRuleHasItsReason() {
        #expect(policy.evaluate(context()) == nil)
        #expect(policy.evaluate(context(kill: true)) == .offerKillSwitch)
        #expect(policy.evaluate(context(ofOffer: 1)) == .perCardholderLimit)
        #expect(policy.evaluate(context(age: 3599)) == .linkTooNew)
        #expect(policy.evaluate(context(hour: 3)) == .velocity)
        #expect(policy.evaluate(context(spent: 40_000)) == .dailySpendCap)
        #expect(policy.evaluate(context(spent: 50_000 - 15599)) == nil)
        #expect(policy.evaluate(context(spent: Int64.max)) == .dailySpendCap)
    }

    /// An offer's own limits replace the issuer's one by one, stricter or looser, within the same bounds.
    @Test func anOffersOwnLimitsReplaceTheIssuersOneByOne() throws {
        let strict = policy.applying(RiskOverrides(dailySpendCap: .usd(10_000), minimumLinkAgeSeconds: 86_400))
        #expect(strict.dailySpendCap == .usd(10_000) && strict.minimumLinkAgeSeconds == 86_400 && strict.maximumPurchasesPerHour == 3)
        #expect(strict.evaluate(context(age: 7_200)) == .linkTooNew)
        #expect(policy.applying(RiskOverrides(maximumPurchasesPerHour: 10)).evaluate(context(hour: 3)) == nil)
        #expect(policy.applying(RiskOverrides()) == policy)
        #expect(throws: ValidationError.self) { try RiskOverrides(dailySpendCap: .usd(0)).validated() }
        #expect(throws: ValidationError.self) { try RiskOverrides(maximumPurchasesPerHour: 1_001).validated() }
        #expect(throws: ValidationError.self) { try RiskOverrides(minimumLinkAgeSeconds: -1).validated() }
        #expect(try RiskOverrides(minimumLinkAgeSeconds: 0).validated().minimumLinkAgeSeconds == 0)
    }

    @Test func refusesUnboundedPolicies() {
        #expect(throws: ValidationError.self) { try RiskPolicy(maximumPurchasesPerHour: 0).validated() }
        #expect(throws: ValidationError.self) { try RiskPolicy(dailySpendCap: .usd(-1)).validated() }
        #expect(throws: ValidationError.self) { try RiskPolicy(minimumLinkAgeSeconds: -5).validated() }
    }
}
