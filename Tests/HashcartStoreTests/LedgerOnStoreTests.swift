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

    func totals(_ store: any HashcartDatabase) async throws -> [LedgerAccount] {
        try await store.read { try $0.ledgerAccounts() }
    }

    @Test func aReplayedGroupIsANoOp() async throws {
        let fixture = try await StoreFixture()
        try await fixture.store.write { tx in _ = try Ledger.submit(group("g1"), now: StoreFixture.now, storage: tx) }
        let before = try await totals(fixture.store)
        let outcome = try await fixture.store.write { tx in try Ledger.submit(group("g1"), now: StoreFixture.now, storage: tx) }
        #expect(outcome == .replayed)
        #expect(try await totals(fixture.store) == before)
        #expect(try await fixture.store.read { try $0.audit() } == [])
    }

    /// A `knownNew` group that does exist is refused by the primary key and rolls back whole.
    @Test func aBrokenKnownNewPromiseAppliesNothingTwice() async throws {
        let fixture = try await StoreFixture()
        try await fixture.store.write { tx in _ = try Ledger.submit(group("g2"), now: StoreFixture.now, storage: tx, knownNew: true) }
        let before = try await totals(fixture.store)
        await #expect(throws: (any Error).self) {
            try await fixture.store.write { tx in _ = try Ledger.submit(group("g2"), now: StoreFixture.now, storage: tx, knownNew: true) }
        }
        #expect(try await totals(fixture.store) == before)
        #expect(try await fixture.store.read { try $0.audit() } == [])
    }

    @Test func aGroupOverTheCreditLimitChangesNothing() async throws {
        let fixture = try await StoreFixture()
        let before = try await totals(fixture.store)
        await #expect(throws: LedgerError.exceedsCredits(LedgerAccounts.creditLine(StoreFixture.cardA).id)) {
            try await fixture.store.write { tx in _ = try Ledger.submit(group("g3", amount: 10_000_000), now: StoreFixture.now, storage: tx) }
        }
        #expect(try await totals(fixture.store) == before)
    }
}

/// The operator's reconciler (`hashcart check`): holds past their timeout, clearing accounts.
@Suite(.onEveryBackend) struct ReconcilerAuditTests {
    @Test func aHoldStillPendingAfterItsTimeoutIsReportedOnlyOnceTheTimeoutHasPassed() async throws {
        // The fixture holds 12,345 on card A until now + 1 h; this one holds 1,000 until now + 2 h.
        let fixture = try await StoreFixture()
        let hold = Transfer(id: TransferID("test:hold:a"), debit: LedgerAccounts.creditLine(StoreFixture.cardA).id,
                            credit: LedgerAccounts.merchantPayable(StoreFixture.merchantID).id, amount: 1_000, type: .pending,
                            timeoutAt: StoreFixture.now.adding(seconds: 7_200), code: .purchasePrincipal, createdAt: StoreFixture.now)
        try await fixture.store.write { tx in _ = try Ledger.submit([hold], now: StoreFixture.now, storage: tx) }
        func lapsed(before seconds: Int64) async throws -> [String] {
            try await fixture.store.read { try $0.audit(limit: 100, holdsExpiredBefore: StoreFixture.now.adding(seconds: seconds)) }
                .filter { $0.rule == "ledger.hold_outlived_timeout" }.map(\.subject)
        }
        #expect(try await lapsed(before: 3_600) == [], "exactly at its timeout a hold may still stand")
        #expect(try await lapsed(before: 3_601) == [StoreFixture.holdID.rawValue])
        #expect(try await lapsed(before: 7_201) == [StoreFixture.holdID.rawValue, "test:hold:a"])
        #expect(try await fixture.store.read { try $0.audit() } == [], "without a time the check is not made")
        // Once both holds are released (the engine's timers), nothing is reported.
        try await fixture.store.write { tx in
            for (index, (pending, amount)) in [(StoreFixture.holdID, Int64(12_345)), (hold.id, 1_000)].enumerated() {
                _ = try Ledger.submit([Transfer(id: TransferID("test:hold:void\(index)"), debit: hold.debitAccountID, credit: hold.creditAccountID,
                                                amount: amount, type: .voidPending, pendingID: pending, code: .void, createdAt: StoreFixture.now)],
                                      now: StoreFixture.now, storage: tx)
            }
        }
        #expect(try await lapsed(before: 86_400) == [])
        #expect(try await fixture.store.read { try $0.audit(limit: 100, holdsExpiredBefore: StoreFixture.now.adding(seconds: 86_400)) } == [])
    }

    /// `hashcart check` judges holds as of this moment when it is earlier than now.
    @Test func theLatestRecordedMomentIsTheLastTransferEventOrderOrReply() async throws {
        let empty = try await StoreFixture(seed: false)
        #expect(try await empty.store.read { try $0.latestRecordedAt() } == nil, "an empty store has recorded nothing")
        let fixture = try await StoreFixture()
        let seeded = try #require(try await fixture.store.read { try $0.latestRecordedAt() })
        #expect(seeded <= StoreFixture.now.adding(seconds: 86_400))
        let later = StoreFixture.now.adding(seconds: 5 * 86_400)
        try await fixture.store.write { tx in
            _ = try Ledger.submit([Transfer(id: TransferID("test:late:fee"), debit: LedgerAccounts.creditLine(StoreFixture.cardA).id,
                                            credit: LedgerAccounts.issuerFeeRevenue.id, amount: 10, type: .single, code: .purchaseFee,
                                            createdAt: later)], now: later, storage: tx)
        }
        #expect(try await fixture.store.read { try $0.latestRecordedAt() } == later)
        try await fixture.store.write { tx in _ = try tx.markEventProcessed(network: .sandbox, eventID: "late-event", at: later.adding(seconds: 60)) }
        #expect(try await fixture.store.read { try $0.latestRecordedAt() } == later.adding(seconds: 60))
    }

    @Test func aClearingAccountThatDoesNotNetToZeroIsReported() async throws {
        let fixture = try await StoreFixture()
        #expect(try await fixture.store.read { try $0.audit() } == [])
        // Statement-credit expense only passes money through; settlement clearing holds exactly
        // the batches waiting for a payout file (none here).
        for (account, rule) in [(LedgerAccounts.statementCreditExpense.id, "ledger.clearing_nets_to_zero"),
                                (LedgerAccounts.settlementClearing.id, "settlement.accounts_match_batches")] {
            try await fixture.store.write { tx in
                _ = try Ledger.submit([Transfer(id: TransferID("test:\(account.rawValue):in"), debit: LedgerAccounts.issuerCreditLines.id,
                                                credit: account, amount: 700, type: .single, code: .purchasePrincipal,
                                                createdAt: StoreFixture.now)], now: StoreFixture.now, storage: tx)
            }
            let found = try await fixture.store.read { try $0.audit() }
            #expect(found.map(\.rule) == [rule] && found.map(\.subject) == [account.rawValue], "\(found)")
            try await fixture.store.write { tx in
                _ = try Ledger.submit([Transfer(id: TransferID("test:\(account.rawValue):out"), debit: account,
                                                credit: LedgerAccounts.issuerCreditLines.id, amount: 700, type: .single, code: .purchasePrincipal,
                                                createdAt: StoreFixture.now)], now: StoreFixture.now, storage: tx)
            }
            #expect(try await fixture.store.read { try $0.audit() } == [], "in and out again: nets to zero")
        }
    }
}
