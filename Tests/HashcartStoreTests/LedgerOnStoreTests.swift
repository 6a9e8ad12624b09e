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
