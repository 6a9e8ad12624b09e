import HashcartCore
import HashcartEngine

/// After the sale, the issuer settles it: every day closed into batches (the process may die in
/// the middle and settle again after its restart), a second run settling nothing, the batches
/// paid by one payout file, then a refund after settlement coming off the next day's batch. The
/// store's audit, run after each step, checks the batches against the ledger, clearing against
/// the batches waiting, paid out against the files, and the carried deficits.
extension Simulation {
    static let payoutAccount = try! PayoutAccount(routingNumber: "110000000", accountNumber: "000123456789", kind: .checking)

    func settleTheSale() async throws {
        let day = SettlementDay(containing: engineClock.now())
        let closingTime = day.end.adding(seconds: Settlement.closingGraceSeconds)
        let closed = try await crashing(in: "settlement", percent: faults.crashPercent, atWrite: 1...1) { [self] in try await Settlement(store: engine.store).close(through: day, now: closingTime) }
        log("settlement through \(day): \(closed.daysClosed.count) days closed, \(closed.batches.map { "\($0.id.rawValue) pays \($0.payout)" }.joined(separator: ", "))")
        let again = try await Settlement(store: engine.store).close(through: day, now: closingTime)
        if !again.daysClosed.isEmpty { violations.append("settlement: a second run closed \(again.daysClosed.map(\.description)) again") }
        await checkSafety(at: "settlement")
        guard violations.isEmpty else { return }

        try await engine.setPayoutAccount(merchantID: merchant.id, account: Self.payoutAccount)
        _ = try await crashing(in: "a payout", percent: faults.crashPercent, atWrite: 1...1) { [self] in
            try await Settlement(store: engine.store).pay(originator: .testMode, now: closingTime) { _ in }
        }
        let merchantID = merchant.id
        let batches = try await store.read { try $0.settlementBatches(merchantID: merchantID, limit: 1_000, startingAfter: nil) }
        if let waiting = batches.first(where: { $0.state == .awaitingPayout }) {
            violations.append("settlement: \(waiting.id) still awaits payout after the payout file")
        }
        let files = try await store.read { try $0.payoutFiles(limit: 100) }
        let paid = batches.filter { $0.state == .paid }.reduce(Int64(0)) { $0 + $1.payout }
        if files.reduce(Int64(0), { $0 + $1.totals.totalCredit }) != paid || files.count > 1 {
            violations.append("settlement: \(files.count) payout files pay \(files.map(\.totals.totalCredit)), the paid batches \(paid)")
        }
        log("payout: \(files.count) file(s), \(paid) paid")
        await checkSafety(at: "payout")
        guard violations.isEmpty else { return }

        // A refund the next day, of an order already settled: a negative line on that day's batch.
        let orders = try await store.read { try $0.orders(limit: 10_000) }
        guard let order = orders.first(where: { $0.capturedAmount.isPositive && $0.refundedAmount < $0.capturedAmount }) else { return }
        clock.set(closingTime.adding(seconds: 3_600))
        let amount = Money.usd(order.capturedAmount.minorUnits - order.refundedAmount.minorUnits)
        _ = try await engine.refund(orderID: order.id, amount: amount)
        let next = try await Settlement(store: engine.store).close(through: day.next, now: day.next.end.adding(seconds: Settlement.closingGraceSeconds))
        let batch = next.batches.first { $0.merchantID == merchant.id }
        log("refund of \(amount.minorUnits) after settlement: the next batch nets \(batch?.net ?? 0), pays \(batch?.payout ?? 0), carries \(batch?.carriedOut ?? 0)")
        if batch == nil || batch!.net >= 0 || batch!.payout != 0 {
            violations.append("settlement: the refund after settlement is not a negative line on the next batch (\(String(describing: batch)))")
        }
        await checkSafety(at: "refund after settlement")
    }
}
