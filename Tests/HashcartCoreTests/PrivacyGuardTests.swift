import HashcartCore
import Testing

/// "No card data, address or account balance ever goes to a network", however the text is spelled.
@Suite struct PrivacyGuardTests {
    /// The engine tests' cardholder: Ada Lovelace, 65 Broadway, New York NY 10006, card 4242,
    /// limit $5,000.00, $1,234.56 available.
    let sensitive = SensitiveData(
        cardLast4: "4242",
        billing: BillingAddress(name: "Ada Lovelace", line1: "65 Broadway", line2: "Apt 4B", city: "New York", state: .NY,
                                postalCode: "10006"),
        creditLimit: .usd(500_000), availableCredit: .usd(123_456))

    func check(_ text: String) -> [PrivacyViolation] { PrivacyGuard.violations(in: text, sensitive: sensitive) }

    /// Every text the engine posts, for this cardholder, with many real order references.
    func engineReplies(handle: String, title: String = "Kindle Fire HD", total: Money = .usd(15599)) throws -> [String] {
        let tag = try Hashtag("#BuyKindleFireHD")
        var texts: [String] = []
        for index in 0..<500 {
            let reference = OrderReference.make(for: PurchaseID("pur_\(index)"))
            let messages: [OutboundMessage] = [
                .confirmationRequest(handle: handle, title: title, units: 1, total: total, windowSeconds: 900, reference: reference),
                .confirmationRequest(handle: handle, title: title, units: Int64(index % 7 + 2), total: total, windowSeconds: 900, reference: reference),
                .minimalConfirmationRequest(windowSeconds: 900, reference: reference),
                .confirmed(handle: handle, reference: reference),
                .expired(handle: handle, reference: reference, hashtag: tag),
                .lateRepost(handle: handle, reference: reference),
            ]
            texts += messages.map(\.text)
        }
        let others: [OutboundMessage] = [
            .declined(handle: handle, title: title, hashtag: tag, reason: .soldOut),
            .declined(handle: handle, title: title, hashtag: tag, reason: .offerEnded),
            .declined(handle: handle, title: title, hashtag: tag, reason: .notEnoughLeft),
            .declined(handle: handle, title: title, hashtag: tag, reason: .quantityUnreadable),
            .declined(handle: handle, title: title, hashtag: tag, reason: .generic),
            .linkInvitation(handle: handle),
            .linked(handle: handle),
        ]
        return texts + others.map(\.text)
    }

    @Test func theEngineRepliesRevealNothingAndAreNotRefused() throws {
        var texts = try engineReplies(handle: "@ada1234567890")
        texts += try engineReplies(handle: "@ada", title: "Kindle Fire HD 8\" 32 GB, 2-pack (2024 model)", total: .usd(10006))
        texts += try engineReplies(handle: "@ada", title: "Café crème — 日本茶 🔥", total: .usd(424_200))
        texts += try engineReplies(handle: "")  // Bluesky replies name nobody
        for text in texts {
            #expect(check(text).isEmpty, "\(text)")
        }
    }

    @Test func theCardholdersOwnHandleIsNotALeakButWhatFollowsItIs() {
        #expect(check("@adalovelace Confirmed, ref K7Q2MX. Your receipt is in your Hashcart account.").isEmpty)
        #expect(check("@AdaLovelace Confirmed, ref K7Q2MX.").isEmpty)
        #expect(check("@ny10006 Thanks! The window for ref K7Q2MX had already closed.").isEmpty)
        #expect(check("@ada Lovelace signed copy, $155.99 total with tax.").contains(.billingName))
        #expect(check("@ny 10006 edition, $155.99 total with tax.").contains(.address))
        #expect(check("@x Ada Lovelace").contains(.billingName))
    }

    @Test func ordinaryWordsNumbersAndAmountsAreNotSecrets() {
        #expect(check("total $12.34 ref 4242X").isEmpty)  // digits inside a reference are not the card's
        #expect(check("Ref 4242XY").isEmpty)
        #expect(check("@ada Kindle, $100.06 total with tax. Ref K7Q2MX").isEmpty)  // the ZIP's digits as an amount
        #expect(check("Souvenir of NY, $100.06 total with tax.").isEmpty)  // state, then the ZIP's digits as an amount
        #expect(check("The 65 Broadways tour").isEmpty)  // not the whole word
        #expect(check("Ada Lovelaces biography").isEmpty)
        #expect(check("Pack of 100061 pins").isEmpty)  // a longer number
        #expect(check("$50,000.00 is not $5,000.00x").contains(.creditLimit))
        #expect(!check("$50,000.00 voucher").contains(.creditLimit))
        #expect(!check("5000 mAh battery").contains(.creditLimit))
    }

    /// How the attacker spelled the secrets in offer titles, and the ones like them.
    static let leaks: [(text: String, violation: PrivacyViolation)] = [
        // The address, in any spacing, case, punctuation or digit script.
        ("shipping to 65 BROADWAY", .address),
        ("shipping to 65\u{00A0}Broadway", .address),
        ("shipping to 65\u{202F}Broadway", .address),
        ("shipping to 65\u{3000}Broadway", .address),
        ("shipping to 65\u{2003}\u{2003}Broadway", .address),
        ("shipping to 65\n\tBroadway", .address),
        ("shipping to 65Broadway", .address),
        ("shipping to 65 - BROADWAY", .address),
        ("shipping to 65\u{2013}Broadway", .address),
        ("shipping to 6\u{200B}5 Broadway", .address),
        ("shipping to 65 Broad\u{200B}way", .address),
        ("shipping to 65 Broad\u{FEFF}way", .address),
        ("shipping to 65 Broad\u{00AD}way", .address),
        ("shipping to 65 Broad\u{2060}way", .address),
        ("shipping to 65 Bro\u{034F}adway", .address),
        ("shipping to 65 Broadway\u{FE0F}!", .address),
        ("shipping to \u{FF16}\u{FF15} \u{FF22}\u{FF52}\u{FF4F}\u{FF41}\u{FF44}\u{FF57}\u{FF41}\u{FF59}", .address),  // ６５ Ｂｒｏａｄｗａｙ
        ("shipping to \u{1D7D4}\u{1D7D3} Broadway", .address),  // mathematical bold 𝟔𝟓
        ("shipping to \u{0666}\u{0665} Broadway", .address),  // Arabic-Indic ٦٥
        ("ShipTo65BroadwayNow", .address),
        ("apt\u{00A0}4b", .address),
        ("APT4B", .address),
        // The ZIP, alone or with the state.
        ("zip 10006", .address),
        ("zip: 10006.", .address),
        ("zip 1 0 0 0 6", .address),
        ("zip 100-06", .address),
        ("zip \u{FF11}\u{FF10}\u{FF10}\u{FF10}\u{FF16}", .address),  // １０００６
        ("zip \u{0661}\u{0660}\u{0660}\u{0660}\u{0666}", .address),  // Arabic-Indic ١٠٠٠٦
        ("zip \u{06F1}\u{06F0}\u{06F0}\u{06F0}\u{06F6}", .address),  // Extended Arabic-Indic ۱۰۰۰۶
        ("zip \u{0967}\u{0966}\u{0966}\u{0966}\u{096C}", .address),  // Devanagari १०००६
        ("zip \u{1D7CF}\u{1D7CE}\u{1D7CE}\u{1D7CE}\u{1D7D4}", .address),  // mathematical bold 𝟏𝟎𝟎𝟎𝟔
        ("zip \u{1D7F7}\u{1D7F6}\u{1D7F6}\u{1D7F6}\u{1D7FC}", .address),  // mathematical monospace
        ("zip 100\u{200B}06", .address),
        ("zip 100\u{FEFF}06", .address),
        ("zip 100\u{00AD}06", .address),
        ("NY 10006", .address),
        ("NY10006", .address),
        ("ny-10006", .address),
        ("N Y 1 0 0 0 6", .address),
        ("NY\u{00A0}10006", .address),
        ("ＮＹ１０００６", .address),
        ("Deal for NY10006 only", .address),
        // The billing name.
        ("hi Ada Lovelace", .billingName),
        ("hi ADA LOVELACE", .billingName),
        ("hi Ada\u{00A0}Lovelace", .billingName),
        ("hi Ada\u{200B}Lovelace", .billingName),
        ("hi Ada Love\u{00AD}lace", .billingName),
        ("hi AdaLovelace", .billingName),
        ("hi Ada-Lovelace", .billingName),
        ("hi \u{FF21}\u{FF44}\u{FF41} \u{FF2C}\u{FF4F}\u{FF56}\u{FF45}\u{FF4C}\u{FF41}\u{FF43}\u{FF45}", .billingName),  // Ａｄａ Ｌｏｖｅｌａｃｅ
        ("hi \u{1D400}\u{1D41D}\u{1D41A} Lovelace", .billingName),  // mathematical bold 𝐀𝐝𝐚
        // The card's last four digits, and anything like a card number.
        ("ending in 4242.", .cardDigits),
        ("ending in \u{FF14}\u{FF12}\u{FF14}\u{FF12}", .cardDigits),
        ("ending in \u{0664}\u{0662}\u{0664}\u{0662}", .cardDigits),
        ("ending in \u{1D7D2}\u{1D7D0}\u{1D7D2}\u{1D7D0}", .cardDigits),
        ("ending in 4 2 4 2", .cardDigits),
        ("ending in 42\u{200B}42", .cardDigits),
        ("ending in (4242)", .cardDigits),
        ("card 4111 1111 1111 1111", .cardNumberLike),
        ("card 4111-1111-1111-1111", .cardNumberLike),
        ("card 4111\u{2012}1111\u{2012}1111\u{2012}1111", .cardNumberLike),
        ("card 4111\u{00A0}1111\u{00A0}1111\u{00A0}1111", .cardNumberLike),
        ("card \u{FF14}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}", .cardNumberLike),
        // The credit limit and the balance, in any digit script.
        ("your limit is $5,000.00", .creditLimit),
        ("your limit is $5,000", .creditLimit),
        ("your limit is $5000", .creditLimit),
        ("your limit is 5,000.00", .creditLimit),
        ("your limit is $\u{00A0}5,000.00", .creditLimit),
        ("your limit is \u{FF04}\u{FF15},\u{FF10}\u{FF10}\u{FF10}.\u{FF10}\u{FF10}", .creditLimit),  // ＄５,０００.００
        ("your limit is $\u{0665},\u{0660}\u{0660}\u{0660}.\u{0660}\u{0660}", .creditLimit),
        ("your limit is $5,0\u{200B}00.00", .creditLimit),
        ("available: 1234.56", .balance),
        ("available: $1,234.56", .balance),
        ("available: \u{FF11}\u{FF12}\u{FF13}\u{FF14}.\u{FF15}\u{FF16}", .balance),
        ("available: $\u{1D7CF},\u{1D7D0}\u{1D7D1}\u{1D7D2}.\u{1D7D3}\u{1D7D4}", .balance),
    ]

    @Test(arguments: leaks)
    func everySpellingOfASecretIsCaught(text: String, violation: PrivacyViolation) {
        #expect(check(text).contains(violation), "\(text) → \(check(text))")
        // Inside the reply the merchant's title ends up in, too.
        let reply = OutboundMessage.confirmationRequest(handle: "@ada", title: text, units: 1, total: .usd(15599), windowSeconds: 900,
                                                        reference: "K7Q2MX").text
        #expect(check(reply).contains(violation), "\(reply)")
    }

    @Test func caseIsFoldedFullyOnBothSides() {
        let jurgen = SensitiveData(
            cardLast4: "9876",
            billing: BillingAddress(name: "Jürgen Groß", line1: "12 Königstraße", city: "Fredericksburg", state: .TX, postalCode: "78624"),
            creditLimit: .usd(100_000), availableCredit: .usd(100_000))
        #expect(PrivacyGuard.violations(in: "hi JÜRGEN GROSS", sensitive: jurgen) == [.billingName])
        #expect(PrivacyGuard.violations(in: "at 12 KÖNIGSTRASSE", sensitive: jurgen) == [.address])
        #expect(PrivacyGuard.violations(in: "at 12 Ko\u{0308}nigstraße", sensitive: jurgen) == [.address])  // decomposed ö
        #expect(PrivacyGuard.violations(in: "hi Jürgen, Groß-Kiste", sensitive: jurgen) == [.billingName])
        #expect(PrivacyGuard.violations(in: "Jürgen's pick", sensitive: jurgen).isEmpty)
    }

    /// Printable ASCII takes a byte path; it must read exactly as the full Unicode path does.
    @Test func theASCIIPathAgreesWithTheUnicodePath() throws {
        let texts = try engineReplies(handle: "@ada").prefix(50) + Self.leaks.map(\.text).filter { $0.utf8.allSatisfy { $0 < 0x80 } }
        for text in texts {
            // A trailing check mark forces the Unicode path without changing what the text says.
            #expect(check(text) == check(text + " \u{2713}"), "\(text)")
        }
    }

    @Test func withoutACardholderOnlyCardNumbersAreRefused() {
        #expect(PrivacyGuard.violations(in: "Ada Lovelace 65 Broadway NY10006 $5,000.00", sensitive: nil).isEmpty)
        #expect(PrivacyGuard.violations(in: "card ４１１１ １１１１ １１１１ １１１１", sensitive: nil) == [.cardNumberLike])
    }
}

/// Merchant text the issuer's account posts in public must read as it is written.
@Suite struct PublicTextTests {
    static let refused: [(scalar: Unicode.Scalar, problem: PublicText.Problem)] = [
        ("\u{202A}", .bidirectionalControl), ("\u{202B}", .bidirectionalControl), ("\u{202C}", .bidirectionalControl),
        ("\u{202D}", .bidirectionalControl), ("\u{202E}", .bidirectionalControl), ("\u{2066}", .bidirectionalControl),
        ("\u{2067}", .bidirectionalControl), ("\u{2068}", .bidirectionalControl), ("\u{2069}", .bidirectionalControl),
        ("\u{200E}", .bidirectionalControl), ("\u{200F}", .bidirectionalControl), ("\u{061C}", .bidirectionalControl),
        ("\u{200B}", .invisible), ("\u{200C}", .invisible), ("\u{200D}", .invisible), ("\u{2060}", .invisible),
        ("\u{2061}", .invisible), ("\u{2062}", .invisible), ("\u{2063}", .invisible), ("\u{2064}", .invisible),
        ("\u{FEFF}", .invisible), ("\u{00AD}", .invisible), ("\u{034F}", .invisible), ("\u{FE0F}", .invisible),
        ("\u{E0041}", .invisible), ("\u{3164}", .invisible), ("\u{180E}", .invisible),
        ("\u{0085}", .control), ("\u{2028}", .control), ("\u{2029}", .control),
    ]

    static func offer(title: String) throws -> Offer {
        let start = Instant(secondsSinceEpoch: 1_750_000_000)
        return try Offer(id: "off_kindle", merchantID: "mer_books", title: title, sku: "KFHD-7", price: .usd(14_999), quantity: 10,
                         startsAt: start, endsAt: start.adding(seconds: 86_400), hashtag: Hashtag("BuyKindleFireHD"), createdAt: start)
    }

    static func merchant(name: String) -> Merchant {
        Merchant(id: "mer_books", name: name, discountRateBasisPoints: 250, createdAt: Instant(secondsSinceEpoch: 1_750_000_000))
    }

    static func hex(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    @Test(arguments: refused)
    func anOfferTitleWithAHiddenCharacterIsRefusedNamingTheField(scalar: Unicode.Scalar, problem: PublicText.Problem) throws {
        #expect(PublicText.problem(with: scalar) == problem)
        let title = "Kindle Fire HD $149.99\(Character(scalar))99"
        let error = try #require(throws: ValidationError.self) { try Self.offer(title: title).validated() }
        #expect(error.field == "title")
        #expect(error.message.contains(Self.hex(scalar)), "\(error.message)")
    }

    @Test(arguments: refused)
    func aMerchantNameWithAHiddenCharacterIsRefusedNamingTheField(scalar: Unicode.Scalar, problem: PublicText.Problem) throws {
        let error = try #require(throws: ValidationError.self) { try Self.merchant(name: "Gadgets\(Character(scalar)) Inc").validated() }
        #expect(error.field == "name")
        #expect(error.message.contains(Self.hex(scalar)), "\(error.message)")
    }

    @Test func theMessageSaysWhyInWords() throws {
        let error = try #require(throws: ValidationError.self) { try Self.offer(title: "Kindle \u{202E}99.951$").validated() }
        #expect(error.description == "title: must not contain the bidirectional control character U+202E: "
                + "it changes the order in which readers see the text of a public post")
        let tab = try #require(throws: ValidationError.self) { try Self.merchant(name: "Gadgets\tInc").validated() }
        #expect(tab.field == "name")
    }

    @Test func ordinaryTitlesAndNamesInAnyScriptAreAccepted() throws {
        for title in ["Kindle Fire HD", "Café crème — 2 pack", "日本茶セット", "🔥 Deal", "Ünïcödé 8\" tablet", "Кофе и чай", "قهوة عربية"] {
            #expect(try Self.offer(title: title).validated().title == title)
            #expect(try Self.merchant(name: title).validated().name == title)
        }
    }
}
