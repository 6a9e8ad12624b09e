import HashcartCore
import Testing

/// `#BuyKindleFireHD x2`: how many units a post asks for, and every other spelling people (and
/// attackers) write after a tag.
@Suite struct PurchaseQuantityTests {
    let key = try! Hashtag("#BuyKindleFireHD").key

    func request(_ text: String) -> PurchaseQuantity.Request { PurchaseQuantity.request(in: text, hashtagKey: key) }

    @Test(arguments: [
        ("I want it #BuyKindleFireHD", PurchaseQuantity.Request.unspecified),
        ("#BuyKindleFireHD", .unspecified),
        ("#BuyKindleFireHD!", .unspecified),
        ("#BuyKindleFireHD xmas present", .unspecified),
        ("#BuyKindleFireHD x", .unspecified),
        ("#BuyKindleFireHD, x2 of #Other", .unspecified),  // the count must follow the tag itself
        ("x2 #BuyKindleFireHD", .unspecified),
        ("#BuyKindleFireHD\nx2", .unspecified),  // not across a line break
        ("#BuyKindleFireHD x2", .units(2)),
        ("#buykindlefirehd X3 please", .units(3)),
        ("#BuyKindleFireHD ×4", .units(4)),
        ("#BuyKindleFireHD×2", .units(2)),
        ("#BuyKindleFireHD x2!", .units(2)),
        ("#BuyKindleFireHD x2.", .units(2)),
        ("#BuyKindleFireHD  x05", .units(5)),
        ("#BuyKindleFireHD\u{00A0}x2", .units(2)),
        ("#ＢｕｙＫｉｎｄｌｅＦｉｒｅＨＤ ｘ２", .units(2)),  // full-width, folded by NFKC like the tag
        ("#BuyKindleFireHD x²", .units(2)),
        ("#BuyKindleFireHD x999", .units(999)),
        ("#BuyKindleFireHD x2 and again #BuyKindleFireHD x2", .units(2)),
        ("#BuyKindleFireHD x2 and #BuyKindleFireHD", .units(2)),
    ])
    func readsWhatAPersonWrote(text: String, expected: PurchaseQuantity.Request) {
        #expect(request(text) == expected, "\(text)")
    }

    /// Anything that tries to be a count and is not a plain 1–999 declines rather than guessing.
    @Test(arguments: [
        "#BuyKindleFireHD x0", "#BuyKindleFireHD x000", "#BuyKindleFireHD x1000", "#BuyKindleFireHD x99999999999999999999999",
        "#BuyKindleFireHD x-1", "#BuyKindleFireHD x+2", "#BuyKindleFireHD x1.5", "#BuyKindleFireHD x1,000",
        "#BuyKindleFireHD x2b", "#BuyKindleFireHD x2x3", "#BuyKindleFireHD x٢", "#BuyKindleFireHD x۲", "#BuyKindleFireHD x२",
        "#BuyKindleFireHD x½", "#BuyKindleFireHD x2\u{200B}3", "#BuyKindleFireHD x1e3", "#BuyKindleFireHD x0x10",
        "#BuyKindleFireHD x2 then #BuyKindleFireHD x3", "#BuyKindleFireHD х2", "#BuyKindleFireHD Х3", "#BuyKindleFireHD ✕2",
    ])
    func refusesWhatIsNotACount(text: String) {
        guard case .unreadable(let why) = request(text) else {
            Issue.record("\(text) read as \(request(text))")
            return
        }
        #expect(!why.isEmpty)
        #expect(request(text).units == nil)
    }

    /// Another tag's count is not this tag's, and a look-alike tag is another tag.
    @Test func onlyTheOffersOwnTagCounts() {
        #expect(request("#BuyKindle x5 #BuyKindleFireHD") == .unspecified)
        #expect(request("#BuyKindleFireHDX x5") == .unspecified)
        #expect(request("#BuyKindIeFireHD x5") == .unspecified)  // capital I for l
        #expect(request("&#BuyKindleFireHD x5") == .unspecified)  // not a tag at all
    }

    /// Seeded garbage around the tag: never a crash, and a count is always 1 to 999 or refused.
    @Test func garbageNeverGivesAnOutOfRangeCount() {
        var random = SplitMix64(seed: 2013)
        let pieces = ["#BuyKindleFireHD", " ", "x", "X", "×", "ｘ", "0", "1", "9", "٢", "-", ".", "\u{200B}", "\n", "é", "#", "＃", "2", "🔥"]
        for _ in 0..<5_000 {
            var text = ""
            for _ in 0..<Int(random.next() % 12) { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            switch request(text) {
            case .unspecified: break
            case .units(let units): #expect((1...999).contains(units), "\(text)")
            case .unreadable: break
            }
        }
    }

    @Test func aPurchaseOfSeveralUnitsIsPricedOnTheWholeLine() throws {
        let table = try TaxRateTable(version: "t", stateRates: Dictionary(uniqueKeysWithValues: USState.allCases.map { ($0, Int64(50_000)) }))
        let quote = table.quote(unitPrice: .usd(1_005), quantity: 3, category: .general, state: .NY, zip5: nil)
        // Rounded once on $30.15 (150.75 → 151), not three times on $10.05 (3 × 50 = 150).
        #expect(quote.tax == .usd(151))
        let tag = try Hashtag("#BuyKindleFireHD")
        let reply = OutboundMessage.confirmationRequest(handle: "@ada", title: "Kindle Fire HD", units: 3, total: .usd(44_997 + 3_994),
                                                        windowSeconds: 900, reference: "K7Q2MX").text
        #expect(reply.hasPrefix("@ada 3 × Kindle Fire HD, $489.91 total with tax."), "\(reply)")
        let single = OutboundMessage.confirmationRequest(handle: "@ada", title: "Kindle Fire HD", units: 1, total: .usd(16_330),
                                                         windowSeconds: 900, reference: "K7Q2MX").text
        #expect(single.hasPrefix("@ada Kindle Fire HD, $163.30 total"), "\(single)")
        let unreadable = OutboundMessage.declined(handle: "@ada", title: "Kindle Fire HD", hashtag: tag, reason: .quantityUnreadable).text
        #expect(unreadable.contains("#BuyKindleFireHD x2"), "\(unreadable)")
    }

    @Test func thePerCardholderLimitCountsUnits() {
        let policy = RiskPolicy(minimumLinkAgeSeconds: 0)
        func context(held: Int64, asking: Int64) -> RiskContext {
            RiskContext(offerKillSwitch: false, linkAgeSeconds: 10, spentToday: .usd(0), purchasesLastHour: 0, unitsOfOffer: held,
                        attemptUnits: asking, perCardholderLimit: 3, attemptTotal: .usd(100))
        }
        #expect(policy.evaluate(context(held: 0, asking: 3)) == nil)
        #expect(policy.evaluate(context(held: 0, asking: 4)) == .perCardholderLimit)
        #expect(policy.evaluate(context(held: 2, asking: 1)) == nil)
        #expect(policy.evaluate(context(held: 2, asking: 2)) == .perCardholderLimit)
    }
}
