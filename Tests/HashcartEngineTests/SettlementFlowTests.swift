import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Synchronization
import Testing

/// Settlement on the engine and a real store: a day's captures, fees, refunds and funded credits
/// become one batch per merchant, paid by a NACHA file; a day is settled once; a refund after
/// settlement comes off the next batch; the audit recomputes every batch from the ledger.
@Suite(.onEveryBackend) struct SettlementFlowTests {
    static let account = try! PayoutAccount(routingNumber: "021000021", accountNumber: "000123456789", kind: .checking)

    /// A merchant with a payout account and `count` shipped (captured) sales of $149.99 to NY.
    static func world(sales count: Int = 2) async throws -> (TestWorld, Merchant, [Order]) {
        let world = try await TestWorld()
        let merchant = try await world.engine.createMerchant(name: "Kindle <Store>")
        try await world.engine.setPayoutAccount(merchantID: merchant.id, account: account)
        _ = try await world.offer(merchant: merchant)
        var orders: [Order] = []
        for index in 0..<count {
            let (_, account) = try await world.cardholder(handle: "buyer\(index)")
            try await world.buy(account)
            let order = try #require(try await world.orders().first(where: { $0.status == .created }))
            orders.append(try await world.engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z\(index)"))
        }
        return (world, merchant, orders)
    }

    static func batches(_ world: TestWorld) async throws -> [SettlementBatch] {
        try await world.store.read { try $0.settlementBatches(merchantID: nil, limit: 100, startingAfter: nil) }
    }

    @Test func aDayIsSettledOnceIntoOneBatchAndPaidByANACHAFile() async throws {
        let (world, merchant, orders) = try await Self.world()
        let day = SettlementDay(containing: world.clock.now())
        let settlement = Settlement(store: world.store)
        // Not before the day is over (and its grace).
        await #expect(throws: SettlementError.self) { try await settlement.close(through: day, now: world.clock.now()) }

        let later = day.end.adding(seconds: Settlement.closingGraceSeconds)
        let closed = try await settlement.close(through: day, now: later)
        #expect(closed.daysClosed == [day] && closed.batches.count == 1)
        let batch = closed.batches[0]
        let order = orders[0]
        #expect(batch.merchantID == merchant.id && batch.day == day)
        #expect(batch.sales == 2 * order.unitPrice.minorUnits && batch.fees == -2 * order.fee.minorUnits)
        #expect(batch.payout == 2 * (order.unitPrice.minorUnits - order.fee.minorUnits) && batch.state == .awaitingPayout)
        let payable = try #require(try await world.store.read { try $0.ledgerAccount(LedgerAccounts.merchantPayable(merchant.id).id) })
        #expect(payable.creditsPosted - payable.debitsPosted == 0, "the whole payable moved to clearing")
        #expect(try await world.audit().isEmpty)

        // A second run, and a run through a later day with nothing new, settle nothing again.
        let again = try await settlement.close(through: day, now: later)
        #expect(again.daysClosed.isEmpty && again.batches.isEmpty)
        let next = try await settlement.close(through: day.next, now: later.adding(seconds: 86_400))
        #expect(next.daysClosed == [day.next] && next.batches.isEmpty)

        // The payout file pays it: clearing → paid, the batch marked with its trace number.
        let staged = StagedFile()
        let paid = try await settlement.pay(originator: .testMode, now: later) { staged.set($0.content) }
        let file = try #require(paid.file)
        #expect(paid.batchesPaid.map(\.id) == [batch.id] && file.totals.totalCredit == batch.payout && file.totals.entryCount == 1)
        #expect(staged.get() == file.content)
        let lines = file.content.split(separator: "\n")
        #expect(lines.count == 10 && lines.allSatisfy { $0.utf8.count == 94 })
        let entry = try #require(lines.first { $0.hasPrefix("622") })
        #expect(entry.contains("000123456789") && entry.contains("KINDLE STORE"))
        let stored = try #require(try await world.store.read { try $0.settlementBatch(batch.id) })
        #expect(stored.state == .paid && stored.traceNumber == paid.batchesPaid[0].traceNumber && stored.payoutFileID == file.id)
        #expect(try await world.audit().isEmpty)
        // Nothing left to pay: no second file.
        let none = try await settlement.pay(originator: .testMode, now: later) { _ in Issue.record("no file expected") }
        #expect(none.file == nil && none.batchesPaid.isEmpty)
    }

    /// Two runs at once — on PostgreSQL from two store handles, as two instances would — close
    /// each day once between them and move each payout once.
    @Test func twoRunsAtOnceSettleADayOnce() async throws {
        let (world, _, _) = try await Self.world(sales: 3)
        let day = SettlementDay(containing: world.clock.now())
        let later = day.end.adding(seconds: Settlement.closingGraceSeconds)
        let mine = world.store
        let other: any HashcartDatabase = world.database.backend == .postgres ? try await world.database.open(key: world.key) : mine
        async let first = Settlement(store: mine).close(through: day.next, now: later.adding(seconds: 86_400))
        async let second = Settlement(store: other).close(through: day.next, now: later.adding(seconds: 86_400))
        let (a, b) = try await (first, second)
        #expect((a.daysClosed + b.daysClosed).sorted() == [day, day.next], "\(a.daysClosed) and \(b.daysClosed)")
        #expect(a.batches.count + b.batches.count == 1)
        async let paidA = Settlement(store: mine).pay(originator: .testMode, now: later.adding(seconds: 86_400)) { _ in }
        async let paidB = Settlement(store: other).pay(originator: .testMode, now: later.adding(seconds: 86_400)) { _ in }
        let (pa, pb) = try await (paidA, paidB)
        #expect(pa.batchesPaid.count + pb.batchesPaid.count == 1 && [pa.file, pb.file].compactMap { $0 }.count == 1)
        #expect(try await world.audit().isEmpty)
        if world.database.backend == .postgres { try await other.close() }
    }

    @Test func aRefundAfterSettlementComesOffTheNextBatch() async throws {
        let (world, merchant, orders) = try await Self.world(sales: 1)
        let settlement = Settlement(store: world.store)
        let day = SettlementDay(containing: world.clock.now())
        let first = try await settlement.close(through: day, now: day.end.adding(seconds: 600)).batches[0]

        // The next day: the whole order is refunded, nothing is sold: a negative day.
        world.clock.set(day.next.start.adding(seconds: 3_600))
        _ = try await world.engine.refund(orderID: orders[0].id, amount: orders[0].total)
        let refundDay = try await settlement.close(through: day.next, now: day.next.end.adding(seconds: 600)).batches
        #expect(refundDay.count == 1)
        let negative = refundDay[0]
        #expect(negative.payout == 0 && negative.state == .nothingToPay && negative.net == -first.net && negative.carriedOut == -first.net)
        #expect(try await world.audit().isEmpty)

        // The day after: a new sale pays what is left after the deficit.
        world.clock.set(day.next.next.start.adding(seconds: 3_600))
        let (_, buyer) = try await world.cardholder(handle: "late")
        try await world.buy(buyer)
        let order = try #require(try await world.orders().first(where: { $0.status == .created }))
        _ = try await world.engine.ship(orderID: order.id, carrier: "UPS", tracking: "1Z9")
        let third = try await settlement.close(through: day.next.next, now: day.next.next.end.adding(seconds: 600)).batches
        #expect(third.count == 1 && third[0].carriedIn == -first.net && third[0].payout == 0 && third[0].carriedOut == 0,
                "a second equal sale exactly repays the deficit")
        #expect(try await world.audit().isEmpty)

        // A deficit changed behind settlement's back (its batch still adds up) breaks the chain both ways.
        try world.database.execute("UPDATE settlement_batches SET carried_in = carried_in - 5, carried_out = carried_out - 5 WHERE id = $1",
                                   [negative.id.rawValue])
        let broken = try await world.audit().filter { $0.rule == "settlement.carry_chain" }.map(\.subject)
        #expect(Set(broken) == [negative.id.rawValue, third[0].id.rawValue], "\(broken)")
        _ = merchant
    }

    @Test func aMerchantWithoutAPayoutAccountWaitsAndALateTransferIntoAClosedDayIsCaught() async throws {
        let (world, merchant, orders) = try await Self.world(sales: 1)
        try await world.engine.setPayoutAccount(merchantID: merchant.id, account: nil)
        let settlement = Settlement(store: world.store)
        let day = SettlementDay(containing: world.clock.now())
        _ = try await settlement.close(through: day, now: day.end.adding(seconds: 600))
        let waiting = try await settlement.pay(originator: .testMode, now: day.end.adding(seconds: 700)) { _ in Issue.record("no file expected") }
        #expect(waiting.file == nil && waiting.merchantsWithoutPayoutAccount == [merchant.id])
        #expect(try await world.audit().isEmpty)

        // A refund the next day, then written into the closed day behind settlement's back: the
        // audit finds the closed day's batch no longer what its ledger says.
        world.clock.set(day.next.start.adding(seconds: 60))
        _ = try await world.engine.refund(orderID: orders[0].id, amount: .usd(1_000))
        #expect(try await world.audit().isEmpty)
        try world.database.execute("UPDATE ledger_transfers SET created_at = $1 WHERE code = 'refund_principal'",
                                   [day.start.millisecondsSinceEpoch + 1])
        let rules = Set(try await world.audit().map(\.rule))
        #expect(rules == ["settlement.batch_matches_ledger"])
    }
}

final class StagedFile: Sendable {
    private let content = Mutex<String?>(nil)
    func set(_ text: String) { content.withLock { $0 = text } }
    func get() -> String? { content.withLock { $0 } }
}
