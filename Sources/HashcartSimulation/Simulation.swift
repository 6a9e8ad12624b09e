import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartStore
import Logging

/// A deterministic simulation of one flash sale: the real engine on a real store (SQLite in
/// `directory`, or a PostgreSQL schema of the seed's own, see ``SimulationStore``), a simulated
/// network and a simulated merchant, all under one seeded random source and one simulated clock.
///
/// Per seed it creates a merchant with a webhook endpoint, 1–3 offers with small stock, 3–10
/// linked cardholders, unlinked fans and an impostor; buyers post, then confirm (or not) in the
/// many ways real people do, while the network duplicates, reorders, delays and drops events,
/// posts fail or lose their answer, the merchant's endpoint fails or stalls, the clock jumps and the
/// engine dies at random store writes and restarts from disk. After every step ``SimulationChecks``
/// checks PRODUCT.md's rules; at the end, after a calm phase, it checks liveness. The same seed
/// gives the same trace, byte for byte.
public final class Simulation {
    public let seed: UInt64
    let directory: String
    let storeKind: SimulationStore
    var random: SplitMix64
    let faults: SimulationFaults
    let clock: ManualClock
    /// The engine's own clock: ``clock`` plus an error of at most ``maximumClockErrorMilliseconds``.
    let engineClock: SkewedClock
    let start: Instant
    let ids: SequentialIDGenerator
    let crash = CrashSwitch()
    let world: SimulatedNetwork
    let connector: SimulatedConnector
    let merchantEndpoint: SimulatedMerchant
    let configuration: EngineConfiguration

    var store: any HashcartDatabase
    var engine: Engine
    var deliverer: WebhookDeliverer

    var trace: [String] = []
    var violations: [String] = []
    var stats = SimulationStats()
    /// Network posts the safety checks have already looked at, and the official replies among them.
    var checkedPosts = 0
    var officialReplies: Set<String> = []

    struct Buyer {
        var card: CardAccount
        var accountID: String
    }

    var merchant: Merchant!
    var offers: [Offer] = []
    var buyers: [Buyer] = []
    var fans: [String] = []
    var impostorID = ""
    /// Confirmation replies a buyer has already reacted to.
    var reactedTo: Set<String> = []
    /// What people will do later, in time order (ties by insertion).
    var scheduled: [(at: Instant, sequence: Int, action: PersonAction)] = []
    var scheduledCount = 0

    enum PersonAction {
        case repost(accountID: String, postID: String)
        case replyWithReference(accountID: String, postID: String, reference: String)
        case delete(accountID: String, postID: String)
    }

    static let taxTable: TaxRateTable = {
        do { return try BundledTaxTable.load() } catch { preconditionFailure("the bundled tax table loads: \(error)") }
    }()
    static let encryptionKey = Data(repeating: 7, count: 32).base64EncodedString()
    static let webhookSecret = "whsec_simulation"
    static let silent = Logger(label: "hashcart.sim", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Most steps of one seed's busy phase, and of its calm phase.
    static let maximumSteps = 40
    static let maximumCalmSteps = 200
    /// How far the engine host's clock may step off the network's, ahead or behind. Liveness is
    /// judged by the engine's own clock (a confirmation counts as timely if it reached the engine
    /// before the engine's expiry timer could fire), so any error is fair; a minute is a bad NTP day.
    static let maximumClockErrorMilliseconds: Int64 = 60_000

    /// Prepares seed `seed` in `directory` (which must be empty or absent).
    public convenience init(seed: UInt64, directory: String) async throws {
        try await self.init(seed: seed, directory: directory, sabotage: nil)
    }

    /// Prepares seed `seed` with a planted bug (``Sabotage``): the run must then break a rule.
    public init(seed: UInt64, directory: String, sabotage: Sabotage?, store storeKind: SimulationStore = .sqlite) async throws {
        precondition(sabotage != .forgetProcessedEvents || storeKind == .sqlite, "the planted bug forgetProcessedEvents edits SQLite only")
        self.seed = seed
        self.directory = directory
        self.storeKind = storeKind
        var random = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        faults = SimulationFaults.draw(using: &random)
        self.random = random
        start = Instant(millisecondsSinceEpoch: 1_772_366_400_000)  // 2026-03-01T12:00:00Z
        clock = ManualClock(start)
        engineClock = SkewedClock(base: clock)
        ids = SequentialIDGenerator(namespace: "s")
        world = SimulatedNetwork(clock: clock)
        connector = SimulatedConnector(world: world, crash: crash, seed: seed ^ 0xC0FFEE, failurePercent: faults.postFailurePercent,
                                       lostAnswerPercent: faults.lostAnswerPercent, sabotage: sabotage)
        merchantEndpoint = SimulatedMerchant(seed: seed ^ 0xBEEF, clock: clock, crash: crash, secret: Self.webhookSecret,
                                             failurePercent: faults.merchantFailurePercent,
                                             slowPercent: faults.merchantSlowPercent)
        var configuration = EngineConfiguration()
        configuration.outboundLeaseMilliseconds = 10_000
        configuration.interestRefreshMilliseconds = 60_000
        self.configuration = configuration
        (store, engine, deliverer) = try await Self.boot(storeKind.open(directory: directory, seed: seed), crash: crash, connector: connector,
                                                   clock: engineClock, ids: ids, merchant: merchantEndpoint, configuration: configuration)
    }

    /// Starts a process: opens the store from disk, and the engine and webhook deliverer on it.
    static func boot(_ store: any HashcartDatabase, crash: CrashSwitch, connector: SimulatedConnector, clock: SkewedClock, ids: SequentialIDGenerator,
                     merchant: SimulatedMerchant, configuration: EngineConfiguration) async throws -> (any HashcartDatabase, Engine, WebhookDeliverer) {
        let crashing = CrashingStore(inner: store, crash: crash, forgetsProcessedEvents: connector.sabotage == .forgetProcessedEvents)
        let engine = try await Engine(store: crashing, connector: connector, clock: clock, ids: ids, taxTable: taxTable, configuration: configuration)
        // The payloads `serve` sends (test mode): the event with the order or offer as the API shows it.
        let service = EngineService(mode: .test, engine: engine, store: store, sandbox: nil, adminTokenHash: [UInt8](repeating: 0, count: 32))
        let stub = connector.sabotage == .stubWebhookPayloads
        let deliverer = WebhookDeliverer(store: crashing, clock: clock, payload: { event in
            if stub { return Data("{\"id\":\"\(event.id)\",\"type\":\"\(event.type.rawValue)\"}".utf8) }
            return try await service.webhookPayload(for: event)
        },
                                         transport: merchant, logger: silent, leaseMilliseconds: 60_000, maximumConcurrentDeliveries: 1)
        return (store, engine, deliverer)
    }

    /// Runs the seed to the end and closes its store.
    public func run() async throws -> SimulationResult {
        log("seed \(seed): \(faults)")
        try await setUp()
        let steps = Int.random(in: 15...Self.maximumSteps, using: &random)
        for step in 0..<steps {
            stats.steps += 1
            try await busyStep(step, of: steps)
            await checkSafety(at: "step \(step)")
            if !violations.isEmpty { break }
        }
        if violations.isEmpty { try await calm() }
        if violations.isEmpty { await checkLiveness() }
        if violations.isEmpty { try await settleTheSale() }
        stats.crashes = crash.crashes
        try await storeKind.remove(store)
        try await store.close()
        return SimulationResult(seed: seed, faults: faults, trace: trace, violations: violations, stats: stats)
    }

    // MARK: The sale

    func setUp() async throws {
        merchant = try await engine.createMerchant(name: "Sim Store", discountRateBasisPoints: 250)
        _ = try await store.createWebhookEndpoint(id: "we_sim", merchantID: merchant.id, url: "https://merchant.example/hooks",
                                            secret: Self.webhookSecret, at: engineClock.now())
        for index in 0..<Int.random(in: 1...3, using: &random) {
            var draft = OfferDraft(merchantID: merchant.id, title: "Deal \(index)", sku: "SKU-\(index)",
                                   price: .usd(Int64.random(in: 500...20_000, using: &random)), hashtag: "#SimDeal\(index)",
                                   quantity: Int64.random(in: 1...6, using: &random))
            draft.perCardholderLimit = Int64.random(in: 1...2, using: &random)
            draft.confirmationWindowSeconds = [120, 300, 900][Int.random(in: 0..<3, using: &random)]
            draft.captureMode = random.chance(50) ? .onConfirmation : .onShipment
            draft.taxCategory = random.chance(20) ? .exempt : .general
            offers.append(try await engine.createOffer(draft))
        }
        let buyerCount = Int.random(in: 3...10, using: &random)
        let drafts = (0..<buyerCount).map { index in
            CardAccountDraft(creditLimit: .usd(1_000_000),
                             billing: BillingAddress(name: "Buyer \(index)", line1: "\(100 + index) Main St", city: "Springfield",
                                                     state: USState.allCases[Int.random(in: 0..<USState.allCases.count, using: &random)],
                                                     postalCode: String(10_000 + Int.random(in: 0..<89_999, using: &random))),
                             cardLast4: String(1_000 + Int.random(in: 0..<9_000, using: &random)))
        }
        let cards = try await engine.createCardAccounts(drafts)
        var pairs: [(CardAccountID, SocialIdentity)] = []
        for (index, card) in cards.enumerated() {
            let accountID = "u\(index + 1)"
            world.createAccount(id: accountID, handle: "buyer\(index)")
            buyers.append(Buyer(card: card, accountID: accountID))
            pairs.append((card.id, SocialIdentity(network: .sandbox, userID: accountID, handle: "@buyer\(index)")))
        }
        try await engine.link(pairs, at: start.adding(seconds: -30 * 86_400))
        for index in 0..<Int.random(in: 1...3, using: &random) {
            let id = "f\(index)"
            world.createAccount(id: id, handle: "fan\(index)")
            fans.append(id)
        }
        impostorID = "x0"
        world.createAccount(id: impostorID, handle: "buyer0_")  // a look-alike of buyer0
        log("\(offers.count) offers (stock \(offers.map { String($0.quantity ?? 0) }.joined(separator: "/"))), \(buyers.count) buyers, \(fans.count) fans")
    }

    func busyStep(_ step: Int, of steps: Int) async throws {
        if random.chance(faults.clockJumpPercent) {
            stats.clockJumps += 1
            if random.chance(50) {
                let seconds = Int64.random(in: 60...1_200, using: &random)
                clock.advance(seconds: seconds)
                log("clock jumps \(seconds) s")
            } else {
                let error = Int64.random(in: -Self.maximumClockErrorMilliseconds...Self.maximumClockErrorMilliseconds, using: &random)
                engineClock.step(to: error)
                log("the engine's clock steps to \(error) ms off")
            }
        } else {
            clock.advance(milliseconds: Int64.random(in: 200...8_000, using: &random))
        }
        if step < max(3, steps / 3) { postPurchases() }
        react()
        performDue()
        deliver(calm: false)
        try await engineRound(mayCrash: true)
        try await webhookRound(mayCrash: true)
    }

    /// Buyers and fans post offers' hashtags; some buyers ask for two or three units (`x2`), a few
    /// write a quantity that cannot be read (`x0`), and some post twice.
    func postPurchases() {
        for buyer in buyers where random.chance(20) {
            let offer = offers[Int.random(in: 0..<offers.count, using: &random)]
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<20: publish(buyer.accountID, .post, "\(offer.hashtag) x\(Int.random(in: 2...3, using: &random)) please")
            case 20..<23: publish(buyer.accountID, .post, "\(offer.hashtag) x0")
            default: publish(buyer.accountID, .post, "I want one! \(offer.hashtag)")
            }
            if random.chance(10) { publish(buyer.accountID, .post, "\(offer.hashtag) again \(offer.hashtag)") }
        }
        for fan in fans where random.chance(15) {
            publish(fan, .post, "Me too \(offers[Int.random(in: 0..<offers.count, using: &random)].hashtag)")
        }
    }

    /// Each buyer answers each new confirmation request once, in one of the ways people do.
    func react() {
        for post in world.allPosts() where post.authorID == SimulatedNetwork.officialID && post.text.contains("Repost this")
            && !reactedTo.contains(post.id)
        {
            reactedTo.insert(post.id)
            guard let purchasePostID = post.referencedPostID, let purchasePost = world.post(purchasePostID),
                let reference = post.text.split(separator: " ").last.map(String.init)
            else { continue }
            let buyer = purchasePost.authorID
            let window = windowSeconds(of: purchasePost)
            func soon() -> Int64 { Int64.random(in: 1_000...(window * 800), using: &random) }
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<50:
                schedule(after: soon(), .repost(accountID: buyer, postID: post.id))
            case 50..<58:
                schedule(after: soon(), .replyWithReference(accountID: buyer, postID: post.id, reference: reference))
            case 58..<64:
                schedule(after: window * 1_000 + Int64.random(in: 1_000...300_000, using: &random), .repost(accountID: buyer, postID: post.id))
            case 64..<70:
                let fan = fans[Int.random(in: 0..<fans.count, using: &random)]
                schedule(after: soon(), .repost(accountID: fan, postID: post.id))
                if random.chance(50) { schedule(after: soon(), .repost(accountID: buyer, postID: post.id)) }
            case 70..<75:
                schedule(after: soon(), .repost(accountID: impostorID, postID: post.id))
            case 75..<82:
                schedule(after: soon(), .delete(accountID: buyer, postID: purchasePostID))
                if random.chance(30) { schedule(after: soon(), .repost(accountID: buyer, postID: post.id)) }
            case 82..<88:
                break  // never confirms: the unit is released at expiry
            case 88..<94:
                let first = soon()
                schedule(after: first, .repost(accountID: buyer, postID: post.id))
                schedule(after: first + Int64.random(in: 1...5_000, using: &random), .repost(accountID: buyer, postID: post.id))
            default:
                // Confirms, then tidies up the hashtag post long after the order.
                let first = soon()
                schedule(after: first, .repost(accountID: buyer, postID: post.id))
                schedule(after: first + Int64.random(in: 120_000...600_000, using: &random), .delete(accountID: buyer, postID: purchasePostID))
            }
        }
    }

    func windowSeconds(of purchasePost: SimulatedPost) -> Int64 {
        offers.first { purchasePost.text.contains($0.hashtag.description) }?.confirmationWindowSeconds ?? 900
    }

    func schedule(after milliseconds: Int64, _ action: PersonAction) {
        scheduledCount += 1
        scheduled.append((clock.now().adding(milliseconds: milliseconds), scheduledCount, action))
    }

    /// Does what people planned for now or earlier, in order, one millisecond apart.
    func performDue() {
        let now = clock.now()
        let due = scheduled.filter { $0.at <= now }.sorted { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
        guard !due.isEmpty else { return }
        scheduled.removeAll { $0.at <= now }
        for item in due {
            clock.advance(milliseconds: 1)
            switch item.action {
            case .repost(let account, let postID):
                publish(account, .repost, "", referencing: postID)
            case .replyWithReference(let account, let postID, let reference):
                publish(account, .reply, "yes \(reference)", referencing: postID)
            case .delete(let account, let postID):
                if world.delete(authorID: account, postID: postID) { log("\(account) deletes \(postID)") }
            }
        }
    }

    func publish(_ account: String, _ kind: NetworkEventKind, _ text: String, referencing: String? = nil) {
        guard let post = world.publish(authorID: account, kind: kind, text: text, referencing: referencing) else { return }
        stats.posts += 1
        log("\(account) \(kind.rawValue)s \(post.id)\(referencing.map { " of \($0)" } ?? "")\(text.isEmpty ? "" : ": \(text)")")
    }

    // MARK: Delivery

    /// Moves due in-flight events to the engine's log, with this seed's faults (none when calm).
    func deliver(calm: Bool) {
        let now = clock.now()
        var batch: [NetworkEvent] = []
        var notes: [String] = []
        world.state.withLock { state in
            var waiting: [InFlightEvent] = []
            for var item in state.inFlight {
                guard item.notBefore <= now else {
                    waiting.append(item)
                    continue
                }
                if !calm {
                    let isConfirmation = (item.event.kind == .repost || item.event.kind == .reply) && item.event.referencedAuthorID == SimulatedNetwork.officialID
                    if isConfirmation, random.chance(faults.delayPastWindowPercent), item.notBefore == item.event.createdAt {
                        item.notBefore = now.adding(seconds: 1_000 + Int64.random(in: 0...300, using: &random))
                        notes.append("hold \(item.event.eventID) past its window")
                        waiting.append(item)
                        continue
                    }
                    if random.chance(faults.dropPercent) {
                        item.notBefore = now.adding(milliseconds: Int64.random(in: 30_000...600_000, using: &random))
                        notes.append("drop \(item.event.eventID) (redelivered later)")
                        stats.drops += 1
                        waiting.append(item)
                        continue
                    }
                    if random.chance(faults.delayPercent) {
                        item.notBefore = now.adding(milliseconds: Int64.random(in: 1_000...30_000, using: &random))
                        notes.append("delay \(item.event.eventID)")
                        waiting.append(item)
                        continue
                    }
                }
                batch.append(item.event)
                if !calm, random.chance(faults.duplicatePercent) {
                    let copies = Int.random(in: 1...5, using: &random)
                    for _ in 0..<copies {
                        if random.chance(50) {
                            batch.append(item.event)
                        } else {
                            waiting.append(InFlightEvent(event: item.event, notBefore: now.adding(milliseconds: Int64.random(in: 1_000...120_000, using: &random))))
                        }
                    }
                    stats.duplicates += copies
                    notes.append("duplicate \(item.event.eventID) ×\(copies)")
                }
            }
            if !calm, batch.count > 1, random.chance(faults.reorderPercent) {
                batch.shuffle(using: &random)
                notes.append("reorder \(batch.count) events")
            }
            precondition(state.log.count + batch.count <= SimulatedNetwork.maximumLogLength, "the simulated log is bounded")
            // When the engine could first see it, by the engine's own clock (what its timers compare with).
            let engineNow = engineClock.now()
            for event in batch where state.firstDelivered[event.eventID] == nil { state.firstDelivered[event.eventID] = engineNow }
            state.log += batch
            state.inFlight = waiting
        }
        stats.deliveries += batch.count
        for note in notes { log(note) }
        if !batch.isEmpty { log("deliver \(batch.map(\.eventID).joined(separator: " "))") }
    }

    // MARK: The engine's process

    /// One engine round; with `mayCrash`, the process may die at one of its writes, then restarts
    /// from disk and runs the round again.
    func engineRound(mayCrash: Bool) async throws {
        let summary = try await crashing(in: "an engine round", percent: mayCrash ? faults.crashPercent : nil, atWrite: 1...8) { [self] in
            try await engine.runRound()
        }
        logRound(summary)
    }

    /// One webhook round; it may die between a delivery and its record (the merchant then gets the event again).
    func webhookRound(mayCrash: Bool) async throws {
        stats.webhookAttempts += try await crashing(in: "a webhook round", percent: mayCrash ? faults.crashPercent / 2 : nil, atWrite: 1...4) {
            [self] in try await deliverer.round()
        }
    }

    /// Runs `body`; with `percent` of the time, the process dies at one of its writes in `atWrite`
    /// (before or after it commits), restarts from disk and runs `body` again. `percent` nil: no crash
    /// and no draw from the seed's random stream.
    func crashing<T>(in what: String, percent: Int?, atWrite writes: ClosedRange<Int>, _ body: () async throws -> T) async throws -> T {
        if let percent, random.chance(percent) {
            let write = writes.count == 1 ? writes.lowerBound : Int.random(in: writes, using: &random)
            crash.arm(atWrite: write, afterCommit: random.chance(50))
        }
        do {
            let result = try await body()
            crash.disarm()
            return result
        } catch is SimulatedCrash {
            try await restart(after: what)
            return try await body()
        }
    }

    /// The process died: everything in its memory is gone. A new one opens the store from disk.
    func restart(after what: String) async throws {
        log("crash in \(what); restart from disk")
        try await store.close()
        crash.restart()
        (store, engine, deliverer) = try await Self.boot(storeKind.open(directory: directory, seed: seed), crash: crash, connector: connector,
                                                   clock: engineClock, ids: ids, merchant: merchantEndpoint, configuration: configuration)
    }

    func logRound(_ summary: RoundSummary) {
        let outcomes = summary.outcomes.filter { if case .duplicate = $0 { false } else { true } }
        var parts: [String] = []
        if !outcomes.isEmpty { parts.append(outcomes.map(\.description).joined(separator: "; ")) }
        let duplicates = summary.outcomes.count - outcomes.count
        if duplicates > 0 { parts.append("\(duplicates) duplicates") }
        let dispatch = summary.dispatch
        if dispatch.sent + dispatch.retried + dispatch.failed > 0 {
            parts.append("sent \(dispatch.sent), retrying \(dispatch.retried), failed \(dispatch.failed)")
        }
        let timers = summary.timers
        if timers.expiredPurchases + timers.cancelledForDeletedPosts + timers.lapsedHolds > 0 {
            parts.append("expired \(timers.expiredPurchases), cancelled for deleted posts \(timers.cancelledForDeletedPosts), lapsed \(timers.lapsedHolds)")
        }
        if !parts.isEmpty { log("engine: " + parts.joined(separator: " | ")) }
    }

    // MARK: Calm

    /// No more faults: people finish what they planned, every held or dropped event is delivered,
    /// the merchant answers, and time runs past every window until the engine has nothing left to do.
    func calm() async throws {
        merchantEndpoint.heal()
        log("calm: faults stop")
        for step in 0..<Self.maximumCalmSteps {
            clock.advance(seconds: step < 30 ? 60 : 600)
            react()
            performDue()
            world.state.withLock { state in
                for index in state.inFlight.indices { state.inFlight[index].notBefore = min(state.inFlight[index].notBefore, clock.now()) }
            }
            deliver(calm: true)
            try await engineRound(mayCrash: false)
            try await webhookRound(mayCrash: false)
            await checkSafety(at: "calm step \(step)")
            if !violations.isEmpty { return }
            guard let reason = try await unsettled() else {
                log("settled")
                return
            }
            if step == Self.maximumCalmSteps - 1 {
                violations.append("liveness: the engine did not settle within \(Self.maximumCalmSteps) calm steps: \(reason)")
                // A webhook the merchant keeps refusing never settles: say why it refuses.
                for refusal in merchantEndpoint.refused.suffix(3) { violations.append("liveness: the merchant could not verify or read a delivery: \(refusal)") }
            }
        }
    }

    /// What is still going on, or nil when nothing is: nothing in flight or planned, no purchase
    /// waiting, no reply or webhook pending.
    func unsettled() async throws -> String? {
        if !scheduled.isEmpty { return "\(scheduled.count) planned actions" }
        if world.inFlightCount > 0 { return "\(world.inFlightCount) events in flight" }
        let (purchases, posts) = try await store.read { reader in
            (try reader.purchases(limit: 100_000).filter { $0.state.holdsReservation },
             try reader.outboundPosts(limit: 100_000).filter { $0.state == .pending })
        }
        if let purchase = purchases.first {
            return "purchase \(purchase.id) is \(purchase.state.rawValue) (expires \(purchase.expiresAt), engine time \(engineClock.now()))"
        }
        if let post = posts.first { return "reply \(post.key) pending (next attempt \(post.nextAttemptAt), engine time \(engineClock.now()))" }
        if let event = try await store.merchantEvents(merchantID: merchant.id, limit: 1_000, startingAfter: nil).first(where: { $0.delivery != "delivered" }) {
            return "webhook \(event.event.id) \(event.delivery) after \(event.attempts) attempts"
        }
        return nil
    }

    // MARK: Trace

    func log(_ line: String) {
        let elapsed = start.milliseconds(until: clock.now())
        trace.append("[+\(elapsed / 1000).\(String(format: "%03d", elapsed % 1000))] \(line)")
    }
}
