import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Testing

/// Seeded random runs of whole flash sales (posts, right and wrong reposts, late reposts,
/// deletes, redelivered and reordered events, clock jumps, shipping, cancels, refunds, restarts),
/// checking after every few steps that every rule that is never broken still holds.
@Suite(.onEveryBackend) struct PropertyTests {
    static let seeds: [UInt64] = Array(1...30)
    static let steps = 130

    @Test(arguments: seeds)
    func randomRunsNeverBreakARule(seed: UInt64) async throws {
        var run = try await RandomRun(seed: seed)
        for step in 0..<Self.steps {
            try await run.step(step)
            if step % 5 == 4 { try await run.check("seed \(seed) step \(step)") }
        }
        try await run.finish("seed \(seed) end")
    }
}

/// One random run: a world, its cast, and what the test knows happened on the network.
struct RandomRun {
    let seed: UInt64
    var random: SplitMix64
    let world: TestWorld
    var offers: [Offer] = []
    var cardholders: [(card: CardAccount, account: SandboxAccount)] = []
    var strangers: [SandboxAccount] = []
    /// Earliest repost (or reply with the reference) of each confirmation post by its buyer.
    var rightConfirmations: [String: Instant] = [:]
    var unlinked: Set<CardAccountID> = []
    var log: [String] = []

    init(seed: UInt64) async throws {
        self.seed = seed
        random = SplitMix64(seed: seed &* 0x9E37_79B9 &+ 17)
        world = try await TestWorld(configuration: EngineConfiguration(
            risk: RiskPolicy(dailySpendCap: .usd(80_000), maximumPurchasesPerHour: 4, minimumLinkAgeSeconds: 0)))
        try await world.use(connector: FaultyDeliveryConnector(wrapping: SandboxConnector(sandbox: world.sandbox), seed: seed,
                                                         duplicatePercent: 20, reorderPercent: 20))
        let merchant = try await world.engine.createMerchant(name: "Flash \(seed)", discountRateBasisPoints: Int64.random(in: 0...500, using: &random))
        for (index, tag) in ["#BuyAlpha", "#BuyBeta", "#BuyGamma"].enumerated() {
            let price = Int64.random(in: 500...30_000, using: &random)
            let quantity: Int64? = random.chance(15) ? nil : Int64.random(in: 1...4, using: &random)
            var draft = OfferDraft(merchantID: merchant.id, title: "Item \(index)", sku: "SKU-\(index)", price: .usd(price),
                                   hashtag: tag, quantity: quantity)
            draft.captureMode = Bool.random(using: &random) ? .onConfirmation : .onShipment
            draft.perCardholderLimit = Int64.random(in: 1...2, using: &random)
            draft.confirmationWindowSeconds = [120, 300, 900].randomElement(using: &random)!
            draft.taxCategory = random.chance(20) ? .exempt : .general
            if random.chance(25) { draft.eligibleStates = [.NY, .CA, .TX, .WA, .FL] }
            offers.append(try await world.engine.createOffer(draft))
        }
        let states: [USState] = [.NY, .CA, .TX, .WA, .FL, .OR, .NJ]
        for index in 0..<20 {
            let limit = [5_000, 20_000, 60_000, 500_000, 500_000].randomElement(using: &random)!
            let state = states.randomElement(using: &random)!
            await cardholders.append(try world.cardholder(handle: "buyer\(index)", limit: Int64(limit), state: state))
        }
        for index in 0..<3 { strangers.append(try world.sandbox.createAccount(handle: "stranger\(index)")) }
    }

    var everyone: [SandboxAccount] { cardholders.map(\.account) + strangers }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int.random(in: 0..<items.count, using: &random)]
    }

    mutating func step(_ step: Int) async throws {
        let roll = Int.random(in: 0..<100, using: &random)
        var settle = !random.chance(25)  // sometimes let events pile up, so a page holds several, reordered
        let purchases = try await world.purchases()
        switch roll {
        case 0..<28:  // a post with a hashtag (sometimes two, sometimes from a stranger)
            let author = random.chance(10) ? pick(strangers)! : pick(cardholders)!.account
            let offer = pick(offers)!
            let text = random.chance(10) ? "\(offer.hashtag) or \(pick(offers)!.hashtag)?" : "I want it \(offer.hashtag)"
            try world.sandbox.post(authorID: author.id, text: text)
            log.append("post \(author.handle) \(offer.hashtag)")
        case 28..<48:  // the buyer reposts the confirmation request
            if let purchase = pick(purchases.filter { $0.state == .awaitingConfirmation }), let confirmation = purchase.confirmationPostID {
                world.clock.advance(seconds: Int64.random(in: 0...60, using: &random))
                try confirm(purchase, confirmation, byReply: random.chance(20))
            }
        case 48..<53:  // a reply without the reference
            if let purchase = pick(purchases.filter { $0.state == .awaitingConfirmation }), let confirmation = purchase.confirmationPostID {
                _ = try? world.sandbox.post(authorID: purchase.identity.userID, text: "yes please", inReplyTo: confirmation)
                log.append("reply without reference \(purchase.id)")
            }
        case 53..<61:  // someone else reposts a confirmation request (or a purchase post)
            if let purchase = pick(purchases.filter { $0.confirmationPostID != nil }), let actor = pick(everyone),
                actor.id != purchase.identity.userID
            {
                let target = random.chance(70) ? purchase.confirmationPostID! : purchase.purchasePostID
                _ = try? world.sandbox.repost(authorID: actor.id, postID: target)
                log.append("foreign repost \(actor.handle) \(target)")
            }
        case 61..<65:  // a late repost
            if let purchase = pick(purchases.filter { $0.state == .expired && $0.confirmationPostID != nil }) {
                try confirm(purchase, purchase.confirmationPostID!, byReply: false)
            }
        case 65..<68:  // a quote with the hashtag
            if let purchase = pick(purchases), let actor = pick(everyone) {
                let offer = try #require(offers.first { $0.id == purchase.offerID })
                _ = try? world.sandbox.post(authorID: actor.id, text: "same \(offer.hashtag)", quoting: purchase.purchasePostID)
                log.append("quote \(actor.handle)")
            }
        case 68..<73:  // the buyer deletes the purchase post
            if let purchase = pick(purchases) {
                try world.sandbox.delete(authorID: purchase.identity.userID, postID: purchase.purchasePostID)
                log.append("delete \(purchase.id) (\(purchase.state.rawValue))")
            }
        case 73..<78:  // the merchant ships
            if let order = pick(try await world.orders().filter { $0.status == .created }) {
                try await refusable { _ = try await world.engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z\(step)") }
                log.append("ship \(order.id)")
            }
        case 78..<82:  // merchant or cardholder cancels
            if let order = pick(try await world.orders()) {
                if Bool.random(using: &random) {
                    try await refusable { _ = try await world.engine.cancel(orderID: order.id, by: .merchantCancelled) }
                } else {
                    try await refusable { try await world.engine.cancelPurchase(order.purchaseID, cardAccountID: order.cardAccountID) }
                }
                log.append("cancel \(order.id) (\(order.status.rawValue))")
            }
        case 82..<86:  // a refund, partial or in full
            if let order = pick(try await world.orders().filter { $0.refundableAmount.isPositive }) {
                let amount = Int64.random(in: 1...order.refundableAmount.minorUnits, using: &random)
                _ = try await world.engine.refund(orderID: order.id, amount: .usd(amount))
                log.append("refund \(order.id) \(amount)")
            }
        case 86..<92:  // time passes
            let seconds = random.chance(10) ? Int64(8 * 86_400) : Int64.random(in: 10...1_200, using: &random)
            world.clock.advance(seconds: seconds)
            settle = true  // timers fire before anyone acts on the new time
            log.append("advance \(seconds)")
        case 92..<95:
            try await world.reopen()
            log.append("reopen")
        case 95..<98:  // the network redelivers what it already sent
            try await world.settle()
            let feed = try world.feed()
            let sample = (0..<min(20, feed.count)).map { _ in feed[Int.random(in: 0..<feed.count, using: &random)] }
            let outcomes = try await world.engine.ingest(sample)
            #expect(outcomes.allSatisfy { $0 == .duplicate }, "seed \(seed): redelivered events did something: \(outcomes)")
            log.append("redeliver \(sample.count)")
        case 98:
            let offer = pick(offers)!
            try await world.engine.setKillSwitch(of: offer.id, on: random.chance(30))
            log.append("kill switch \(offer.hashtag)")
        default:  // unlink, and link again
            if let cardholder = pick(cardholders) {
                try await world.engine.unlink(cardAccountID: cardholder.card.id, network: .sandbox)
                let pending = try await world.purchases().filter { $0.cardAccountID == cardholder.card.id && $0.state.holdsReservation }
                #expect(pending.isEmpty, "seed \(seed): unlinking left \(pending.map(\.id)) pending")
                try await world.engine.link(cardAccountID: cardholder.card.id, identity: world.identity(of: cardholder.account),
                                      at: world.clock.now().adding(seconds: -86_400))
                log.append("unlink+relink \(cardholder.account.handle)")
            }
        }
        if settle { try await world.settle() }
    }

    /// The buyer reposts (or replies with the reference to) a confirmation request.
    mutating func confirm(_ purchase: Purchase, _ confirmation: String, byReply: Bool) throws {
        let post: SandboxPost?
        if byReply {
            post = try? world.sandbox.post(authorID: purchase.identity.userID, text: "ok \(purchase.reference)", inReplyTo: confirmation)
        } else {
            post = try? world.sandbox.repost(authorID: purchase.identity.userID, postID: confirmation)
        }
        if let post, rightConfirmations[confirmation] == nil { rightConfirmations[confirmation] = post.createdAt }
        log.append("confirm \(purchase.id) (\(purchase.state.rawValue)) by \(byReply ? "reply" : "repost")")
    }

    /// Runs a merchant or cardholder action that may be refused as the order stands.
    func refusable(_ body: () async throws -> Void) async throws {
        do { try await body() } catch is EngineError {}
    }

    func check(_ context: String) async throws {
        let violations = try await world.audit()
        #expect(violations == [], "\(context): \(violations)\n\(log.suffix(12).joined(separator: "\n"))")
        let (offers, purchases, orders) = try await world.store.read { reader in (try reader.offers(), try reader.purchases(), try reader.orders()) }
        let purchasesByID = Dictionary(uniqueKeysWithValues: purchases.map { ($0.id, $0) })
        for offer in offers {
            let live = orders.filter { $0.offerID == offer.id && $0.status != .cancelled }.count
            #expect(Int64(live) == offer.soldUnits, "\(context): \(offer.hashtag) sold \(offer.soldUnits), live orders \(live)")
            if let quantity = offer.quantity {
                #expect(offer.soldUnits + offer.reservedUnits <= quantity, "\(context): \(offer.hashtag) oversold")
                #expect(Int64(live) <= quantity, "\(context): \(offer.hashtag) has \(live) live orders for \(quantity) units")
            }
        }
        for order in orders {
            let purchase = try #require(purchasesByID[order.purchaseID])
            #expect([.authorized, .captured, .cancelled].contains(purchase.state),
                    "\(context): order \(order.id) has a \(purchase.state.rawValue) purchase")
            #expect(order.refundedAmount <= order.capturedAmount, "\(context): \(order.id) refunded more than captured")
            #expect(order.capturedAmount == .zero || order.capturedAmount == order.total)
            // Only the buyer's own repost of that reply, inside the window, buys.
            let confirmation = try #require(purchase.confirmationPostID, "\(context): \(order.id) was never asked to confirm")
            let confirmedAt = rightConfirmations[confirmation]
            #expect(confirmedAt != nil, "\(context): \(order.id) was bought without the buyer's repost")
            if let confirmedAt { #expect(confirmedAt <= purchase.expiresAt, "\(context): \(order.id) was bought by a late repost") }
        }
        for cardholder in cardholders {
            let line = try await world.creditLine(cardholder.card)
            #expect(line.availableCredit >= 0, "\(context): \(cardholder.account.handle) is over the limit")
        }
    }

    mutating func finish(_ context: String) async throws {
        try await world.settle()
        // Windows close; the units they free give waitlist turns, whose windows close in turn.
        for _ in 0..<50 {
            world.clock.advance(seconds: 2_000)
            try await world.settle()
            if try await world.purchases().allSatisfy({ $0.state != .requested && $0.state != .awaitingConfirmation }) { break }
        }
        try await check(context + " (windows closed)")
        let open = try await world.purchases().filter { $0.state == .requested || $0.state == .awaitingConfirmation }
        #expect(open.isEmpty, "\(context): purchases left open: \(open.map(\.id))")
        #expect(try await world.store.read { try $0.offers() }.allSatisfy { $0.reservedUnits == 0 })

        // Everything again, in one page: nothing changes.
        let before = try await world.moneySnapshot()
        let feed = try world.feed()
        #expect(try await world.engine.ingest(feed).allSatisfy { $0 == .duplicate })
        try await world.settle()
        #expect(try await world.moneySnapshot() == before, "\(context): redelivering the whole feed changed something")

        // Past every hold: nothing is left authorized.
        world.clock.advance(seconds: 8 * 86_400)
        try await world.settle()
        try await check(context + " (holds lapsed)")
        let held = try await world.purchases().filter { $0.state == .authorized }
        #expect(held.isEmpty, "\(context): holds not lapsed: \(held.map(\.id))")
        for cardholder in cardholders {
            #expect(try await world.creditLine(cardholder.card).debitsPending == 0)
        }
    }
}
