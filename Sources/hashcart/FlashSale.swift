import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore

/// The demo's flash sale: the three offers of the 2013 launch, thousands of cardholders on the
/// sandbox network, and the messy reality of a real network: unlinked authors, duplicated and
/// reordered deliveries, reposts by the wrong account, late reposts, deleted posts, declines for
/// credit and limits, and sell-outs. Deterministic for a seed.
struct FlashSale {
    let engine: Engine
    let store: SQLiteStore
    let sandbox: SandboxNetwork
    let clock: ManualClock
    var random: SplitMix64
    let cardholderCount: Int
    let log: (String) -> Void

    struct Buyer {
        var card: CardAccount
        var account: SandboxAccount
    }

    struct Outcome {
        var offers: [Offer]
        /// The card-linked offer ("spend $75, get $20 back"), after its loads and transactions.
        var cardLinkedOffers: [Offer]
        var cardholders: Int
        var unlinkedAccounts: Int
        var linkedByCode: Int
    }

    /// Probability (percent) that a cardholder posts for each offer in the first wave.
    static let interest = [45, 30, 35]

    mutating func run() async throws -> Outcome {
        let merchant = try await engine.createMerchant(name: "Hashcart Demo Store", discountRateBasisPoints: 250)
        // A test bank account (110000000 is a routing number kept for tests) for the demo's payout.
        try await engine.setPayoutAccount(merchantID: merchant.id,
                                          account: try PayoutAccount(routingNumber: "110000000", accountNumber: "000123456789", kind: .checking))
        let offers = try await createOffers(merchant: merchant)
        try await settle()  // the engine announces each offer from the official account as it goes live
        log("created merchant and \(offers.count) offers, announced by @\(SandboxNetwork.officialHandle)")

        let buyers = try await createCardholders()
        let fans = try (0..<max(1, cardholderCount / 6)).map { try sandbox.createAccount(handle: "fan\($0)") }
        let linkedByCode = try await linkSomeByCode(buyers.prefix(20))
        log("opened \(buyers.count) card accounts (\(linkedByCode) linked by posting a code), \(fans.count) unlinked accounts")

        // Wave 1: everyone posts at once.
        var purchasePosts: [(Buyer, SandboxPost)] = []
        for buyer in buyers {
            for (index, offer) in offers.enumerated() where random.chance(Self.interest[index]) {
                let post = try sandbox.post(authorID: buyer.account.id, text: "Can't wait! \(offer.hashtag)")
                purchasePosts.append((buyer, post))
                if random.chance(4) {  // eager buyers post twice: the per-cardholder limit declines the second
                    purchasePosts.append((buyer, try sandbox.post(authorID: buyer.account.id, text: "\(offer.hashtag) \(offer.hashtag)!")))
                }
                clock.advance(milliseconds: 5)
            }
        }
        for fan in fans {
            let offer = offers[Int.random(in: 0..<offers.count, using: &random)]
            try sandbox.post(authorID: fan.id, text: "Who else wants one? \(offer.hashtag)")
            if random.chance(10), let (_, someone) = purchasePosts.randomElement(using: &random) {
                try sandbox.post(authorID: fan.id, text: "Look at this \(offer.hashtag)", quoting: someone.id)
            }
            clock.advance(milliseconds: 5)
        }
        log("wave 1: \(purchasePosts.count) purchase posts by cardholders, \(fans.count) by unlinked accounts")
        try await settle()

        var late: [(Buyer, SandboxPost)] = []
        try confirm(purchasePosts, fans: fans, late: &late)
        try await settle()

        // The window closes: late reposts arrive, unconfirmed purchases expire and free their units,
        // which go to the waitlists, first come first served: those in line get "Your turn" and
        // most of them repost it.
        clock.advance(seconds: 16 * 60)
        for (buyer, reply) in late { _ = try? sandbox.repost(authorID: buyer.account.id, postID: reply.id) }
        clock.advance(seconds: 60)
        try await settle()
        log("window closed: \(late.count) late reposts")
        var lateInLine: [(Buyer, SandboxPost)] = []
        try confirm(purchasePosts, fans: fans, late: &lateInLine)
        try await settle()
        clock.advance(seconds: 17 * 60)
        try await settle()
        log("waitlist turns answered")

        // Wave 2: whoever posts next buys what is left, or joins the line.
        var wave2: [(Buyer, SandboxPost)] = []
        for buyer in buyers.shuffled(using: &random).prefix(cardholderCount / 10) {
            wave2.append((buyer, try sandbox.post(authorID: buyer.account.id, text: "Second chance \(offers[0].hashtag)")))
            clock.advance(milliseconds: 5)
        }
        try await settle()
        var late2: [(Buyer, SandboxPost)] = []
        try confirm(wave2, fans: fans, late: &late2)
        try await settle()
        clock.advance(seconds: 17 * 60)
        try await settle()
        log("wave 2: \(wave2.count) posts")

        try await merchantWork()
        try await settle()
        let credit = try await cardLinkedOffer(merchant: merchant, buyers: buyers)
        return Outcome(offers: offers, cardLinkedOffers: [credit], cardholders: buyers.count, unlinkedAccounts: fans.count,
                       linkedByCode: linkedByCode)
    }

    func createOffers(merchant: Merchant) async throws -> [Offer] {
        let now = clock.now()
        var kindle = OfferDraft(merchantID: merchant.id, title: "Kindle Fire HD", sku: "KFHD-7-16GB", price: .usd(14999),
                                hashtag: "#BuyKindleFireHD", quantity: 500)
        kindle.endsAt = now.adding(seconds: 2 * 86_400)
        var xbox = OfferDraft(merchantID: merchant.id, title: "Xbox 360 4GB Kinect Bundle", sku: "X360-4GB-KINECT",
                              price: .usd(19999), hashtag: "#BuyXbox360Bundle", quantity: 300)
        xbox.endsAt = now.adding(seconds: 2 * 86_400)
        xbox.eligibleStates = Set(USState.allCases).subtracting([.AK, .HI])  // bulky: contiguous US only
        var gift = OfferDraft(merchantID: merchant.id, title: "$25 Gift Card for $15", sku: "GIFT-25", price: .usd(1500),
                              hashtag: "#BuyAmexGiftCard", quantity: 1000)
        gift.taxCategory = .exempt
        gift.captureMode = .onConfirmation
        gift.perCardholderLimit = 2
        gift.endsAt = now.adding(seconds: 2 * 86_400)
        var offers: [Offer] = []
        for draft in [kindle, xbox, gift] { offers.append(try await engine.createOffer(draft)) }
        return offers
    }

    /// The issuer's first product, a year before pay-by-post: a card-linked offer. Linked
    /// cardholders load it by posting its hashtag; the issuer's card transactions at the store
    /// (some under the threshold, one at another store, a few reversed) earn the credit once.
    mutating func cardLinkedOffer(merchant: Merchant, buyers: [Buyer]) async throws -> Offer {
        var draft = OfferDraft(merchantID: merchant.id, title: "Spend $75, get $20 back", sku: "DEMO-CREDIT-20", price: .usd(0),
                               hashtag: "#DemoStoreCredit", quantity: nil)
        draft.type = .statementCredit
        draft.statementCredit = StatementCreditTerms(spendThreshold: .usd(7_500), credit: .usd(2_000), acceptorIDs: [Self.acceptorID],
                                                     budget: .usd(2_000 * 100))
        let offer = try await engine.createOffer(draft)
        try await settle()  // announced by the engine
        let loaders = buyers.enumerated().filter { index, _ in index >= 20 && random.chance(12) }
        for (_, buyer) in loaders {
            try sandbox.post(authorID: buyer.account.id, text: "Loading it \(offer.hashtag)")
            clock.advance(milliseconds: 5)
        }
        try await settle()
        clock.advance(seconds: 3_600)
        var transactions: [CardTransaction] = []
        var reversals: [CardTransaction] = []
        for (index, (buyerIndex, _)) in loaders.enumerated() {
            let amount = Int64.random(in: 4_000...15_000, using: &random)
            let acceptor = random.chance(5) ? "OTHER-STORE-01" : Self.acceptorID
            let pan = try PrimaryAccountNumber(Self.panText(index: buyerIndex))
            let purchase = CardTransaction(kind: .purchase, card: store.cardFingerprint(of: pan), amount: .usd(amount),
                                           acceptorID: acceptor, merchantCategoryCode: "5732", retrievalReference: String(format: "DEMO%08d", index),
                                           systemTrace: String(format: "%06d", index + 1), occurredAt: clock.now())
            transactions.append(purchase)
            if random.chance(5) {
                var reversal = purchase
                reversal.kind = .reversal
                reversal.systemTrace = String(format: "%06d", 500_000 + index)
                reversals.append(reversal)
            }
            clock.advance(milliseconds: 50)
        }
        for chunk in stride(from: 0, to: transactions.count, by: 500) {
            _ = try await engine.ingestCardTransactions(Array(transactions[chunk..<min(chunk + 500, transactions.count)]))
        }
        clock.advance(seconds: 600)
        if !reversals.isEmpty { _ = try await engine.ingestCardTransactions(reversals) }
        try await settle()
        log("card-linked offer \(offer.hashtag): \(loaders.count) loads, \(transactions.count) card transactions, \(reversals.count) reversals")
        guard let current = try await store.read({ try $0.offer(offer.id) }) else { return offer }
        return current
    }

    static let acceptorID = "HCDEMO-0001"

    /// A demo card's number: `4000`, the cardholder's position, and the Luhn check digit. Demo data only.
    static func panText(index: Int) -> String {
        let body = "4000" + String(format: "%011d", index)
        var sum = 0
        for (offset, character) in body.reversed().enumerated() {
            var digit = Int(String(character))!
            if offset % 2 == 0 { digit *= 2; if digit > 9 { digit -= 9 } }
            sum += digit
        }
        return body + String((10 - sum % 10) % 10)
    }

    static let streets = ["Broadway", "Main St", "Oak Ave", "Maple Dr", "Elm St", "Pine Rd", "Cedar Ln", "Park Ave"]
    static let names = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Leslie"]

    mutating func createCardholders() async throws -> [Buyer] {
        var buyers: [Buyer] = []
        let limits: [Int64] = [10_000, 50_000, 100_000, 250_000, 500_000]
        for chunkStart in stride(from: 0, to: cardholderCount, by: 1_000) {
            let count = min(1_000, cardholderCount - chunkStart)
            let drafts = (0..<count).map { offset -> CardAccountDraft in
                let index = chunkStart + offset
                let state = USState.allCases[Int.random(in: 0..<USState.allCases.count, using: &random)]
                let zip = String(format: "%05d", Int.random(in: 1_001...99_950, using: &random))
                let limit = random.chance(8) ? limits[0] : limits[Int.random(in: 1..<limits.count, using: &random)]
                let name = "\(Self.names[index % Self.names.count]) Buyer\(index)"
                _ = Int.random(in: 0...9_999, using: &random)  // once the last four; drawn still, so the seed's sale stays the same
                let pan = try! PrimaryAccountNumber(Self.panText(index: index))
                return CardAccountDraft(
                    creditLimit: .usd(limit),
                    billing: BillingAddress(name: name, line1: "\(100 + index) \(Self.streets[index % Self.streets.count])",
                                            city: "Springfield", state: state, postalCode: zip),
                    cardLast4: pan.last4, pan: pan)
            }
            let cards = try await engine.createCardAccounts(drafts)
            var pairs: [(CardAccountID, SocialIdentity)] = []
            var fresh: [(CardAccountID, SocialIdentity)] = []
            for (offset, card) in cards.enumerated() {
                let account = try sandbox.createAccount(handle: "buyer\(chunkStart + offset)")
                buyers.append(Buyer(card: card, account: account))
                if chunkStart + offset < 20 { continue }  // these link by posting a code
                let identity = SocialIdentity(network: .sandbox, userID: account.id, handle: "@" + account.handle)
                if random.chance(3) { fresh.append((card.id, identity)) } else { pairs.append((card.id, identity)) }
            }
            try await engine.link(pairs, at: clock.now().adding(seconds: -30 * 86_400))
            try await engine.link(fresh, at: clock.now().adding(seconds: -600))  // linked 10 minutes ago: a takeover signal
        }
        return buyers
    }

    /// The "sync": the cardholder asks for a code and posts it from the account to link.
    func linkSomeByCode(_ buyers: ArraySlice<Buyer>) async throws -> Int {
        for buyer in buyers {
            let code = try await engine.requestLinkCode(cardAccountID: buyer.card.id)
            try sandbox.post(authorID: buyer.account.id, text: "Linking my card to Hashcart: \(code.code)")
        }
        return buyers.count
    }

    /// Each buyer whose latest reply is a confirmation request (the first one, or a waitlist turn)
    /// decides: repost it (most), reply with the reference, delete the post, let a stranger
    /// repost it, or come back too late.
    mutating func confirm(_ posts: [(Buyer, SandboxPost)], fans: [SandboxAccount], late: inout [(Buyer, SandboxPost)]) throws {
        for (buyer, post) in posts {
            guard let reply = try sandbox.posts(authorID: sandbox.official.id, inReplyTo: post.id).last,
                reply.text.contains("Repost this"), try sandbox.posts(inReplyTo: reply.id).isEmpty
            else { continue }
            clock.advance(milliseconds: 20)
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<4:
                try sandbox.repost(authorID: fans.randomElement(using: &random)!.id, postID: reply.id)  // a stranger: never buys
            case 4..<8:
                try sandbox.delete(authorID: buyer.account.id, postID: post.id)
            case 8..<11:
                let reference = String(reply.text.split(separator: " ").last ?? "")
                try sandbox.post(authorID: buyer.account.id, text: "yes \(reference)", inReplyTo: reply.id)
            case 11..<16:
                late.append((buyer, reply))
            case 16..<20:
                break  // never confirms: the unit is released at expiry
            default:
                try sandbox.repost(authorID: buyer.account.id, postID: reply.id)
            }
        }
    }

    /// The merchant ships most orders (capturing the holds), cancels a few, refunds a few.
    mutating func merchantWork() async throws {
        for order in try await store.read({ try $0.orders(limit: 100_000) }) where order.status == .created {
            let roll = Int.random(in: 0..<100, using: &random)
            if roll < 3 {
                try await engine.cancel(orderID: order.id, by: .merchantCancelled)
            } else if roll < 5 {
                try await engine.cancelPurchase(order.purchaseID, cardAccountID: order.cardAccountID)
            } else if roll < 70 {
                let shipped = try await engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z\(order.reference)")
                if random.chance(4) { try await engine.refund(orderID: shipped.id, amount: .usd(max(1, shipped.total.minorUnits / 4))) }
            }
        }
    }

    /// Runs the engine until the network, the outbox and the timers are quiet.
    func settle() async throws {
        for _ in 0..<1_000 {
            if try await engine.runRound().isQuiet { return }
        }
    }
}
