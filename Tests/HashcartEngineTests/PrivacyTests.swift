import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// "No card data, address or account balance ever goes to a network."
@Suite(.onEveryBackend) struct PrivacyTests {
    struct Secrets {
        var card: CardAccount
        var account: SandboxAccount

        /// Every spelling of a secret that must never be in a public post, given the current balance.
        func spellings(available: Int64) -> [(what: String, text: String)] {
            var result: [(String, String)] = [
                ("card last 4", card.cardLast4), ("street", card.billing.line1), ("ZIP", card.billing.zip5),
                ("billing name", card.billing.name), ("city+street", card.billing.city + " " + card.billing.line1),
            ]
            for (what, amount) in [("credit limit", card.creditLimit.minorUnits), ("available balance", available)] where amount > 0 {
                let money = Money.usd(amount)
                result.append((what, money.description))  // $3,217.00
                result.append((what, String(money.description.dropFirst()).replacingOccurrences(of: ",", with: "")))  // 3217.00
                if amount % 100 == 0 { result.append((what, String(money.description.dropLast(3)))) }  // $3,217
            }
            return result
        }
    }

    /// Whether `secret` is in `text` as itself (case-insensitively): digits and amounts not as part
    /// of a longer number or word ("$15" is not in "$157.94", "7391" not in "K7391Q").
    static func mentions(_ secret: String, in text: String) -> Bool {
        let text = Array(text.lowercased())
        let secret = Array(secret.lowercased())
        guard !secret.isEmpty, text.count >= secret.count else { return false }
        let numeric = secret.contains { $0.isNumber }
        for start in 0...(text.count - secret.count) where Array(text[start..<(start + secret.count)]) == secret {
            guard numeric else { return true }
            let before = start > 0 ? text[start - 1] : " "
            let end = start + secret.count
            let after = end < text.count ? text[end] : " "
            let afterNext = end + 1 < text.count ? text[end + 1] : " "
            let joinsBefore = before.isLetter || before.isNumber
            let joinsAfter = after.isLetter || after.isNumber || ((after == "." || after == ",") && afterNext.isNumber)
            if !joinsBefore && !joinsAfter { return true }
        }
        return false
    }

    /// Fails for every official post that holds a secret of any cardholder.
    func expectNothingSensitivePosted(_ world: TestWorld, _ people: [Secrets], step: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let posts = try world.officialPosts()
        for person in people {
            let available = try await world.creditLine(person.card).availableCredit
            let sensitive = SensitiveData(cardLast4: person.card.cardLast4, billing: person.card.billing,
                                          creditLimit: person.card.creditLimit, availableCredit: .usd(available))
            for post in posts {
                for (what, secret) in person.spellings(available: available) where Self.mentions(secret, in: post.text) {
                    Issue.record("\(step): official post \(post.id) reveals \(what) of @\(person.account.handle): \(post.text)",
                                 sourceLocation: sourceLocation)
                }
                let flagged = PrivacyGuard.violations(in: post.text, sensitive: sensitive)
                #expect(flagged.isEmpty, "\(step): \(post.text) breaks \(flagged)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func noOfficialPostEverRevealsCardAddressNameLimitOrBalance() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offers = await [
            try world.offer(merchant: merchant, hashtag: "#BuyKindleFireHD", price: 14999, quantity: 4),
            try world.offer(merchant: merchant, hashtag: "#BuyGiftCard", price: 5000, quantity: nil) {
                $0.title = "Gift card"; $0.taxCategory = .exempt; $0.captureMode = .onConfirmation; $0.perCardholderLimit = 3
            },
            try await world.offer(merchant: merchant, hashtag: "#BuyWestOnly", price: 2599, quantity: 5) {
                $0.title = "West coast box"; $0.eligibleStates = [.CA, .WA, .OR]
            },
            try await world.offer(merchant: merchant, hashtag: "#BuySoonGone", price: 1234, quantity: 9) {
                $0.title = "Flash item"; $0.endsAt = world.clock.now().adding(seconds: 2 * 3_600)
            },
        ]
        let people: [(String, String, String, String, USState, String, Int64)] = [
            ("grace", "Grace Hopper", "17 Elm Street", "Arlington", .VA, "22201", 321_700),
            ("alan", "Alan Turing", "402 Bletchley Road", "Seattle", .WA, "98101", 26_000),
            ("edsger", "Edsger Dijkstra", "9 Canal Lane", "Austin", .TX, "78701", 900_000),
            ("barbara", "Barbara Liskov", "88 Memorial Drive", "Cambridge", .MA, "02139", 1_800),
            ("ada", "Ada King", "12 St James Square", "San Jose", .CA, "95113", 412_345),
            ("linus", "Linus Pauling", "5 Cedar Court", "Portland", .OR, "97201", 64_321),
        ]
        var secrets: [Secrets] = []
        for (index, person) in people.enumerated() {
            let billing = BillingAddress(name: person.1, line1: person.2, city: person.3, state: person.4, postalCode: person.5)
            let last4 = ["7391", "5820", "6043", "8157", "2976", "3618"][index]
            let (card, account) = try await world.cardholder(handle: person.0, billing: billing, last4: last4, limit: person.6)
            secrets.append(Secrets(card: card, account: account))
        }
        // Someone who links by posting a code (the "linked" reply must be safe too).
        let newcomerBilling = BillingAddress(name: "Margaret Hamilton", line1: "31 Apollo Way", city: "Boston", state: .MA, postalCode: "02110")
        let newcomerCard = try await world.engine.createCardAccount(creditLimit: .usd(250_000), billing: newcomerBilling, cardLast4: "4719")
        let newcomer = try world.sandbox.createAccount(handle: "margaret")
        secrets.append(Secrets(card: newcomerCard, account: newcomer))
        let code = try await world.engine.requestLinkCode(cardAccountID: newcomerCard.id)
        try world.sandbox.post(authorID: newcomer.id, text: "linking \(code.code)")
        try await world.settle()
        try await expectNothingSensitivePosted(world, secrets, step: "link")

        let stranger = try world.sandbox.createAccount(handle: "stranger")
        var random = SplitMix64(seed: 2013)
        var requests: [(account: SandboxAccount, reply: SandboxPost, post: SandboxPost)] = []
        for step in 0..<80 {
            let person = secrets[Int.random(in: 0..<secrets.count, using: &random)]
            switch Int.random(in: 0..<10, using: &random) {
            case 0...3:
                let offer = offers[Int.random(in: 0..<offers.count, using: &random)]
                let (post, reply) = try await world.post(person.account, "take my money \(offer.hashtag)")
                if let reply, reply.text.contains("Repost this") { requests.append((person.account, reply, post)) }
            case 4...6:
                guard !requests.isEmpty else { continue }
                let request = requests.remove(at: Int.random(in: 0..<requests.count, using: &random))
                _ = try? world.sandbox.repost(authorID: request.account.id, postID: request.reply.id)
                try await world.settle()
            case 7:
                _ = try await world.post(stranger, "what is \(offers[0].hashtag)?")
            case 8:
                if let order = try await world.orders().first(where: { $0.status == .created }) {
                    _ = try? await world.engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z\(step)")
                }
                world.clock.advance(seconds: 300)
                try await world.settle()
            default:
                if !requests.isEmpty, Bool.random(using: &random) {
                    let request = requests.removeFirst()
                    _ = try? world.sandbox.delete(authorID: request.account.id, postID: request.post.id)
                }
                world.clock.advance(seconds: Int64.random(in: 60...1_200, using: &random))
                try await world.settle()
            }
            try await expectNothingSensitivePosted(world, secrets, step: "step \(step)")
        }
        // Late reposts after everything closed.
        world.clock.advance(seconds: 3_600)
        try await world.settle()
        for request in requests { _ = try? world.sandbox.repost(authorID: request.account.id, postID: request.reply.id) }
        try await world.settle()
        try await expectNothingSensitivePosted(world, secrets, step: "end")

        // The run exercised what it claims to: requests, confirmations, declines, expiries, late reposts.
        let purposes = Set(try await world.store.read { try $0.outboundPosts() }.map(\.purpose))
        #expect(purposes.isSuperset(of: [.confirmationRequest, .confirmed, .declined, .expired, .linked, .linkInvitation]))
        #expect(try world.officialPosts().count > 40)
        #expect(try await world.audit() == [])
    }

    /// A title that would make the confirmation request reveal a secret of this cardholder.
    static let revealingTitles: [(title: String, what: String)] = [
        ("Kindle 65 Broadway edition", "65 Broadway"),
        ("Ada Lovelace signed copy", "Ada Lovelace"),
        ("Albany 12207 local deal", "12207"),
        ("Case for card 4242", "4242"),
        ("Voucher worth $5,000.00", "$5,000.00"),
        // The attacker's spellings: a no-break space, full-width digits, state and ZIP run together, other digit scripts.
        ("Kindle 65\u{00A0}Broadway edition", "Broadway"),
        ("Kindle \u{FF16}\u{FF15} \u{FF22}\u{FF52}\u{FF4F}\u{FF41}\u{FF44}\u{FF57}\u{FF41}\u{FF59} edition", "\u{FF22}"),
        ("Kindle 65Broadway edition", "65Broadway"),
        ("Albany NY12207 local deal", "NY12207"),
        ("Albany \u{0661}\u{0662}\u{0662}\u{0660}\u{0667} local deal", "\u{0661}\u{0662}\u{0662}\u{0660}\u{0667}"),
        ("Ada\u{00A0}LOVELACE signed copy", "LOVELACE"),
        ("Case for card \u{1D7D2}\u{1D7D0}\u{1D7D2}\u{1D7D0}", "\u{1D7D2}"),
    ]

    @Test(arguments: revealingTitles)
    func aConfirmationRequestThatWouldRevealASecretFallsBackToTheMinimalText(title: String, what: String) async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        // Not announced: this merchant has not sold to Alice yet (AnnouncementPrivacyTests covers that).
        let offer = try await world.offer(merchant: merchant, quantity: 1) { $0.title = title; $0.announce = false }
        let (card, alice) = try await world.cardholder(handle: "alice")  // Ada Lovelace, 65 Broadway, Albany NY 12207, 4242, $5,000.00
        let (_, bob) = try await world.cardholder(handle: "bob")
        let (post, request) = try await world.post(alice)

        let purchase = try #require(try await world.purchase(of: post))
        let text = try #require(request?.text)
        #expect(text == OutboundMessage.minimalConfirmationRequest(windowSeconds: 900, reference: purchase.reference).text)
        #expect(!text.contains("$") && !text.contains(what))

        // It still works as a confirmation request.
        world.clock.advance(seconds: 30)
        try world.sandbox.repost(authorID: alice.id, postID: try #require(request).id)
        try await world.settle()
        #expect(try await world.purchase(of: post)?.state == .authorized)
        #expect(try await world.offerNow(offer.id).soldUnits == 1)

        // Bob (same test address) is declined as sold out; that reply names the title, so it must not go out with it.
        _ = try await world.post(bob)
        for post in try world.officialPosts() {
            #expect(!post.text.contains(what), "\(post.text)")
            #expect(!post.text.contains("65 Broadway") && !post.text.contains("Lovelace") && !post.text.contains("12207"))
        }
        let sensitive = await SensitiveData(cardLast4: card.cardLast4, billing: card.billing, creditLimit: card.creditLimit,
                                      availableCredit: .usd(try world.creditLine(card).availableCredit))
        #expect(try world.officialPosts().allSatisfy { PrivacyGuard.violations(in: $0.text, sensitive: sensitive).isEmpty })
        #expect(try await world.audit() == [])
    }

    @Test func aTitleHarmlessForOneCardholderKeepsTheAmountForThem() async throws {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        _ = try await world.offer(merchant: merchant) { $0.title = "Kindle 65 Broadway edition" }
        let billing = BillingAddress(name: "Grace Hopper", line1: "17 Elm Street", city: "Arlington", state: .NY, postalCode: "12207")
        let (_, grace) = try await world.cardholder(handle: "grace", billing: billing, last4: "7391")
        let (_, request) = try await world.post(grace)
        #expect(request?.text.contains("$155.99 total with tax") == true)
        #expect(request?.text.contains("Kindle 65 Broadway edition") == true)
    }

    /// Hidden characters in merchant text that the official account posts are refused over the
    /// API as a bad parameter (EngineService turns `EngineError.invalid` into a 400 with `param`).
    @Test(arguments: ["\u{202E}", "\u{2066}", "\u{200F}", "\u{061C}", "\u{200B}", "\u{FEFF}", "\u{00AD}", "\u{E0041}"])
    func titlesAndMerchantNamesWithHiddenCharactersAreRefused(hidden: String) async throws {
        let world = try await TestWorld()
        await #expect {
            try await world.engine.createMerchant(name: "Gadgets\(hidden) Inc")
        } throws: { error in
            guard case EngineError.invalid(let validation) = error else { return false }
            return validation.field == "name"
        }
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        await #expect {
            try await world.offer(merchant: merchant) { $0.title = "Kindle Fire HD \(hidden)99.951$" }
        } throws: { error in
            guard case EngineError.invalid(let validation) = error else { return false }
            return validation.field == "title"
        }
        // Nothing was stored: the hashtag is still free for an honest offer.
        let offer = try await world.offer(merchant: merchant)
        #expect(offer.title == "Kindle Fire HD")
    }
}
