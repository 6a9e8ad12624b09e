import Foundation
import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

/// The ledger's rules on each real store: replays, `knownNew` groups, all-or-nothing groups.
@Suite(.onEveryBackend) struct LedgerOnStoreTests {
    func group(_ suffix: String, amount: Int64 = 1000) -> [Transfer] {
        [
            Transfer(id: TransferID("test:\(suffix):a"), debit: LedgerAccounts.creditLine(StoreFixture.cardA).id,
                     credit: LedgerAccounts.merchantPayable(StoreFixture.merchantID).id, amount: amount, type: .pending,
                     timeoutAt: StoreFixture.now.adding(seconds: 3600), code: .purchasePrincipal, createdAt: StoreFixture.now),
            Transfer(id: TransferID("test:\(suffix):b"), debit: LedgerAccounts.creditLine(StoreFixture.cardA).id,
                     credit: LedgerAccounts.issuerFeeRevenue.id, amount: 10, type: .single, code: .purchaseFee, createdAt: StoreFixture.now),
        ]
    }

    func totals(_ store: any HashcartDatabase) throws -> [LedgerAccount] {
        try store.read { try $0.ledgerAccounts() }
    }

    @Test func aReplayedGroupIsANoOp() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { tx in _ = try Ledger.submit(group("g1"), now: StoreFixture.now, storage: tx) }
        let before = try totals(fixture.store)
        let outcome = try fixture.store.write { tx in try Ledger.submit(group("g1"), now: StoreFixture.now, storage: tx) }
        #expect(outcome == .replayed)
        #expect(try totals(fixture.store) == before)
        #expect(try fixture.store.read { try $0.audit() } == [])
    }

    /// A `knownNew` group that does exist is refused by the primary key and rolls back whole.
    @Test func aBrokenKnownNewPromiseAppliesNothingTwice() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { tx in _ = try Ledger.submit(group("g2"), now: StoreFixture.now, storage: tx, knownNew: true) }
        let before = try totals(fixture.store)
        #expect(throws: (any Error).self) {
            try fixture.store.write { tx in _ = try Ledger.submit(group("g2"), now: StoreFixture.now, storage: tx, knownNew: true) }
        }
        #expect(try totals(fixture.store) == before)
        #expect(try fixture.store.read { try $0.audit() } == [])
    }

    @Test func aGroupOverTheCreditLimitChangesNothing() throws {
        let fixture = try StoreFixture()
        let before = try totals(fixture.store)
        #expect(throws: LedgerError.exceedsCredits(LedgerAccounts.creditLine(StoreFixture.cardA).id)) {
            try fixture.store.write { tx in _ = try Ledger.submit(group("g3", amount: 10_000_000), now: StoreFixture.now, storage: tx) }
        }
        #expect(try totals(fixture.store) == before)
    }
}

/// The operator's reconciler (`hashcart check`): holds past their timeout, clearing accounts.
@Suite(.onEveryBackend) struct ReconcilerAuditTests {
    @Test func aHoldStillPendingAfterItsTimeoutIsReportedOnlyOnceTheTimeoutHasPassed() throws {
        // The fixture holds 12,345 on card A until now + 1 h; this one holds 1,000 until now + 2 h.
        let fixture = try StoreFixture()
        let hold = Transfer(id: TransferID("test:hold:a"), debit: LedgerAccounts.creditLine(StoreFixture.cardA).id,
                            credit: LedgerAccounts.merchantPayable(StoreFixture.merchantID).id, amount: 1_000, type: .pending,
                            timeoutAt: StoreFixture.now.adding(seconds: 7_200), code: .purchasePrincipal, createdAt: StoreFixture.now)
        try fixture.store.write { tx in _ = try Ledger.submit([hold], now: StoreFixture.now, storage: tx) }
        func lapsed(before seconds: Int64) throws -> [String] {
            try fixture.store.read { try $0.audit(limit: 100, holdsExpiredBefore: StoreFixture.now.adding(seconds: seconds)) }
                .filter { $0.rule == "ledger.hold_outlived_timeout" }.map(\.subject)
        }
        #expect(try lapsed(before: 3_600) == [], "exactly at its timeout a hold may still stand")
        #expect(try lapsed(before: 3_601) == [StoreFixture.holdID.rawValue])
        #expect(try lapsed(before: 7_201) == [StoreFixture.holdID.rawValue, "test:hold:a"])
        #expect(try fixture.store.read { try $0.audit() } == [], "without a time the check is not made")
        // Once both holds are released (the engine's timers), nothing is reported.
        try fixture.store.write { tx in
            for (index, (pending, amount)) in [(StoreFixture.holdID, Int64(12_345)), (hold.id, 1_000)].enumerated() {
                _ = try Ledger.submit([Transfer(id: TransferID("test:hold:void\(index)"), debit: hold.debitAccountID, credit: hold.creditAccountID,
                                                amount: amount, type: .voidPending, pendingID: pending, code: .void, createdAt: StoreFixture.now)],
                                      now: StoreFixture.now, storage: tx)
            }
        }
        #expect(try lapsed(before: 86_400) == [])
        #expect(try fixture.store.read { try $0.audit(limit: 100, holdsExpiredBefore: StoreFixture.now.adding(seconds: 86_400)) } == [])
    }

    @Test func aClearingAccountThatDoesNotNetToZeroIsReported() throws {
        let fixture = try StoreFixture()
        #expect(try fixture.store.read { try $0.audit() }.filter { $0.rule == "ledger.clearing_nets_to_zero" } == [])
        try fixture.store.write { tx in
            _ = try Ledger.submit([Transfer(id: TransferID("test:clearing:in"), debit: LedgerAccounts.issuerCreditLines.id,
                                            credit: LedgerAccounts.settlementClearing.id, amount: 700, type: .single, code: .purchasePrincipal,
                                            createdAt: StoreFixture.now)], now: StoreFixture.now, storage: tx)
        }
        let found = try fixture.store.read { try $0.audit() }.filter { $0.rule == "ledger.clearing_nets_to_zero" }
        #expect(found.map(\.subject) == [LedgerAccounts.settlementClearing.id.rawValue])
        try fixture.store.write { tx in
            _ = try Ledger.submit([Transfer(id: TransferID("test:clearing:out"), debit: LedgerAccounts.settlementClearing.id,
                                            credit: LedgerAccounts.issuerCreditLines.id, amount: 700, type: .single, code: .purchasePrincipal,
                                            createdAt: StoreFixture.now)], now: StoreFixture.now, storage: tx)
        }
        #expect(try fixture.store.read { try $0.audit() } == [], "in and out again: nets to zero")
    }
}
