import Testing
import HashcartCore

// MARK: - An in-memory store for the ledger

/// Keeps the ledger in dictionaries, the way a store keeps it in tables.
final class InMemoryLedgerStorage: LedgerStorage {
    private(set) var accounts: [LedgerAccountID: LedgerAccount] = [:]
    private(set) var transfers: [TransferID: Transfer] = [:]
    private(set) var statuses: [TransferID: PendingStatus] = [:]
    /// How many times the ledger asked to persist a group.
    private(set) var saveCount = 0
    /// Every transfer ever handed to `saveLedgerChanges`, duplicates included.
    private(set) var savedTransfers: [Transfer] = []

    init(_ accounts: [LedgerAccount]) {
        for account in accounts { self.accounts[account.id] = account }
    }

    func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount? { accounts[id] }
    func transfer(_ id: TransferID) throws -> Transfer? { transfers[id] }
    func pendingStatus(_ id: TransferID) throws -> PendingStatus? { statuses[id] }

    func saveLedgerChanges(accounts: [LedgerAccount], transfers: [Transfer], pendingStatuses: [(TransferID, PendingStatus)]) throws {
        saveCount += 1
        for account in accounts { self.accounts[account.id] = account }
        for transfer in transfers { self.transfers[transfer.id] = transfer }
        savedTransfers += transfers
        for (id, status) in pendingStatuses { statuses[id] = status }
    }

    subscript(_ account: LedgerAccount) -> LedgerAccount { accounts[account.id]! }

    /// The status a stored pending transfer has (a pending transfer without a saved status is pending).
    func status(of pending: Transfer) -> PendingStatus? {
        guard transfers[pending.id] != nil else { return nil }
        return statuses[pending.id] ?? .pending
    }

    struct Snapshot: Equatable {
        var accounts: [LedgerAccountID: LedgerAccount]
        var transfers: [TransferID: Transfer]
        var statuses: [TransferID: PendingStatus]
        var saveCount: Int
    }

    var snapshot: Snapshot { Snapshot(accounts: accounts, transfers: transfers, statuses: statuses, saveCount: saveCount) }
}

// MARK: - Fixtures

private let t0 = Instant(secondsSinceEpoch: 1_750_000_000)
private let sevenDays: Int64 = 7 * 86_400

private let issuer = LedgerAccounts.issuerCreditLines
private let card = LedgerAccounts.creditLine("acct_000001")
private let merchant = LedgerAccounts.merchantPayable("mer_000001")
private let taxNY = LedgerAccounts.salesTaxPayable(.NY)

private func newLedger(_ extra: [LedgerAccount] = []) -> InMemoryLedgerStorage {
    InMemoryLedgerStorage(LedgerAccounts.issuerAccounts + [card, merchant, taxNY] + extra)
}

private func single(_ id: TransferID, _ debit: LedgerAccount, _ credit: LedgerAccount, _ amount: Int64,
                    code: TransferCode = .purchasePrincipal, at time: Instant = t0) -> Transfer {
    Transfer(id: id, debit: debit.id, credit: credit.id, amount: amount, code: code, createdAt: time)
}

private func hold(_ id: TransferID, _ debit: LedgerAccount, _ credit: LedgerAccount, _ amount: Int64,
                  timeoutAt: Instant? = t0.adding(seconds: sevenDays), at time: Instant = t0) -> Transfer {
    Transfer(id: id, debit: debit.id, credit: credit.id, amount: amount, type: .pending, timeoutAt: timeoutAt,
             code: .purchasePrincipal, createdAt: time)
}

/// A post, void or expiry of `pending`, naming its accounts and amount as `Transfer` documents.
private func resolve(_ id: TransferID, _ type: TransferType, _ pending: Transfer, at time: Instant = t0) -> Transfer {
    let code: TransferCode = switch type {
    case .postPending: .capture
    case .voidPending: .void
    default: .holdExpiry
    }
    return Transfer(id: id, debit: pending.debitAccountID, credit: pending.creditAccountID, amount: pending.amount,
                    type: type, pendingID: pending.id, code: code, createdAt: time)
}

/// Grants `limit` to the card's credit line from the issuer's control account.
private func grant(_ limit: Int64, to account: LedgerAccount = card, in storage: InMemoryLedgerStorage) throws {
    try Ledger.submit([single(TransferID("limit:\(account.id)"), issuer, account, limit, code: .creditLimit)], now: t0, storage: storage)
}

/// Submits `group`, expects exactly `expected`, and expects the ledger (and its save count) untouched.
private func expectRefusal(_ expected: LedgerError, _ group: [Transfer], now: Instant = t0, in storage: InMemoryLedgerStorage,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    let before = storage.snapshot
    #expect(throws: expected, sourceLocation: sourceLocation) { try Ledger.submit(group, now: now, storage: storage) }
    #expect(storage.snapshot == before, "a refused group changes nothing", sourceLocation: sourceLocation)
}

// MARK: - Transfers

@Suite struct LedgerTransferTests {
    @Test func singleTransfersMovePostedTotals() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        #expect(ledger[card].creditsPosted == 100_000 && ledger[card].availableCredit == 100_000)
        #expect(ledger[issuer].debitsPosted == 100_000)

        let outcome = try Ledger.submit([
            single("sale:1:principal", card, merchant, 14_999),
            single("sale:1:tax", card, taxNY, 600, code: .purchaseTax),
        ], now: t0, storage: ledger)

        #expect(outcome == .applied)
        #expect(ledger[card].debitsPosted == 15_599)
        #expect(ledger[card].availableCredit == 84_401)
        #expect(ledger[merchant].creditsPosted == 14_999 && ledger[merchant].debitsPosted == 0)
        #expect(ledger[taxNY].creditsPosted == 600)
        #expect(ledger[card].debitsPending == 0 && ledger[merchant].creditsPending == 0)
        #expect(ledger.transfers["sale:1:principal"]?.amount == 14_999)
        #expect(ledger.transfers["sale:1:tax"]?.creditAccountID == taxNY.id)
    }

    @Test func pendingHoldThenPost() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let authorization = hold("auth:1", card, merchant, 15_000)
        try Ledger.submit([authorization], now: t0, storage: ledger)

        #expect(ledger[card].debitsPending == 15_000 && ledger[card].debitsPosted == 0)
        #expect(ledger[card].availableCredit == 85_000, "a hold counts against the credit line")
        #expect(ledger[merchant].creditsPending == 15_000 && ledger[merchant].creditsPosted == 0)
        #expect(ledger.status(of: authorization) == .pending)

        let capture = resolve("capture:1", .postPending, authorization, at: t0.adding(seconds: 86_400))
        try Ledger.submit([capture], now: t0.adding(seconds: 86_400), storage: ledger)

        #expect(ledger[card].debitsPending == 0 && ledger[card].debitsPosted == 15_000)
        #expect(ledger[card].availableCredit == 85_000)
        #expect(ledger[merchant].creditsPending == 0 && ledger[merchant].creditsPosted == 15_000)
        #expect(ledger.status(of: authorization) == .posted)
        #expect(ledger.transfers["capture:1"]?.amount == 15_000)
    }

    @Test func pendingHoldThenVoidReleasesTheCredit() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let authorization = hold("auth:1", card, merchant, 15_000)
        try Ledger.submit([authorization], now: t0, storage: ledger)
        try Ledger.submit([resolve("void:1", .voidPending, authorization)], now: t0.adding(seconds: 60), storage: ledger)

        #expect(ledger[card].debitsPending == 0 && ledger[card].debitsPosted == 0)
        #expect(ledger[card].availableCredit == 100_000)
        #expect(ledger[merchant].creditsPending == 0 && ledger[merchant].creditsPosted == 0)
        #expect(ledger.status(of: authorization) == .voided)
    }

    @Test func holdExpiresOnlyAtItsTimeoutAndCannotBeResolvedAfterIt() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let timeout = t0.adding(seconds: sevenDays)
        let authorization = hold("auth:1", card, merchant, 15_000, timeoutAt: timeout)
        try Ledger.submit([authorization], now: t0, storage: ledger)

        let expiry = resolve("expire:1", .expirePending, authorization)
        expectRefusal(.pendingTransferNotExpired("auth:1"), [expiry], now: timeout.adding(milliseconds: -1), in: ledger)

        // At the timeout the hold can no longer be posted or voided…
        expectRefusal(.pendingTransferExpired("auth:1"), [resolve("capture:1", .postPending, authorization)], now: timeout, in: ledger)
        expectRefusal(.pendingTransferExpired("auth:1"), [resolve("void:1", .voidPending, authorization)], now: timeout, in: ledger)
        expectRefusal(.pendingTransferExpired("auth:1"), [resolve("capture:1", .postPending, authorization)],
                      now: timeout.adding(seconds: 3600), in: ledger)

        // …only expired, which releases it.
        try Ledger.submit([expiry], now: timeout, storage: ledger)
        #expect(ledger.status(of: authorization) == .expired)
        #expect(ledger[card].debitsPending == 0 && ledger[card].availableCredit == 100_000)
        #expect(ledger[merchant].creditsPending == 0 && ledger[merchant].creditsPosted == 0)
        expectRefusal(.pendingTransferNotPending("auth:1", .expired), [resolve("capture:2", .postPending, authorization)],
                      now: timeout, in: ledger)
    }

    @Test func holdCanBePostedOneMillisecondBeforeItsTimeout() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let timeout = t0.adding(seconds: sevenDays)
        let authorization = hold("auth:1", card, merchant, 15_000, timeoutAt: timeout)
        try Ledger.submit([authorization], now: t0, storage: ledger)
        try Ledger.submit([resolve("capture:1", .postPending, authorization)], now: timeout.adding(milliseconds: -1), storage: ledger)
        #expect(ledger.status(of: authorization) == .posted)
        #expect(ledger[card].debitsPosted == 15_000)
    }

    @Test func pendingTransferNeedsATimeoutInTheFuture() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        expectRefusal(.timeoutRequired("auth:1"), [hold("auth:1", card, merchant, 100, timeoutAt: nil)], in: ledger)
        expectRefusal(.timeoutRequired("auth:1"), [hold("auth:1", card, merchant, 100, timeoutAt: t0)], in: ledger)
        expectRefusal(.timeoutRequired("auth:1"), [hold("auth:1", card, merchant, 100, timeoutAt: t0.adding(seconds: -1))], in: ledger)
    }

    @Test func holdCreatedAndPostedInOneGroup() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let authorization = hold("auth:1", card, merchant, 2_500)
        try Ledger.submit([authorization, resolve("capture:1", .postPending, authorization)], now: t0, storage: ledger)
        #expect(ledger.status(of: authorization) == .posted)
        #expect(ledger[card].debitsPending == 0 && ledger[card].debitsPosted == 2_500)
        #expect(ledger[merchant].creditsPending == 0 && ledger[merchant].creditsPosted == 2_500)
    }

    @Test func resolvingSomethingThatIsNotAPendingTransferIsRefused() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let sale = single("sale:1", card, merchant, 100)
        try Ledger.submit([sale], now: t0, storage: ledger)

        let unknown = hold("auth:unknown", card, merchant, 100)
        expectRefusal(.pendingTransferNotFound("auth:unknown"), [resolve("capture:1", .postPending, unknown)], in: ledger)
        var ofSingle = resolve("capture:2", .postPending, unknown)
        ofSingle.pendingID = sale.id
        expectRefusal(.pendingTransferNotFound("sale:1"), [ofSingle], in: ledger)
        var withoutPendingID = resolve("capture:3", .voidPending, unknown)
        withoutPendingID.pendingID = nil
        expectRefusal(.pendingTransferNotFound("capture:3"), [withoutPendingID], in: ledger)
    }

    @Test func pendingTransferIsResolvedAtMostOnce() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let first = hold("auth:1", card, merchant, 1_000)
        let second = hold("auth:2", card, merchant, 2_000)
        try Ledger.submit([first, second], now: t0, storage: ledger)
        try Ledger.submit([resolve("capture:1", .postPending, first)], now: t0, storage: ledger)

        expectRefusal(.pendingTransferNotPending("auth:1", .posted), [resolve("capture:1b", .postPending, first)], in: ledger)
        expectRefusal(.pendingTransferNotPending("auth:1", .posted), [resolve("void:1", .voidPending, first)], in: ledger)
        #expect(ledger[card].debitsPosted == 1_000, "captured once")

        try Ledger.submit([resolve("void:2", .voidPending, second)], now: t0, storage: ledger)
        expectRefusal(.pendingTransferNotPending("auth:2", .voided), [resolve("capture:2", .postPending, second)], in: ledger)

        // Two captures of one hold inside one group: the second sees the first.
        let third = hold("auth:3", card, merchant, 3_000)
        try Ledger.submit([third], now: t0, storage: ledger)
        expectRefusal(.pendingTransferNotPending("auth:3", .posted),
                      [resolve("capture:3a", .postPending, third), resolve("capture:3b", .postPending, third)], in: ledger)
        #expect(ledger.status(of: third) == .pending)
    }
}

// MARK: - Bounds and groups

@Suite struct LedgerBoundsTests {
    @Test func creditLineCannotBeOverdrawn() throws {
        let ledger = newLedger()
        try grant(10_000, in: ledger)
        expectRefusal(.exceedsCredits(card.id), [single("sale:1", card, merchant, 10_001)], in: ledger)
        expectRefusal(.exceedsCredits(card.id), [hold("auth:1", card, merchant, 10_001)], in: ledger)

        try Ledger.submit([single("sale:2", card, merchant, 10_000)], now: t0, storage: ledger)
        #expect(ledger[card].availableCredit == 0)
        expectRefusal(.exceedsCredits(card.id), [single("sale:3", card, merchant, 1)], in: ledger)
    }

    @Test func holdsCountAgainstTheCreditLine() throws {
        let ledger = newLedger()
        try grant(10_000, in: ledger)
        try Ledger.submit([hold("auth:1", card, merchant, 6_000)], now: t0, storage: ledger)
        expectRefusal(.exceedsCredits(card.id), [single("sale:1", card, merchant, 4_001)], in: ledger)
        expectRefusal(.exceedsCredits(card.id), [hold("auth:2", card, merchant, 4_001)], in: ledger)
        try Ledger.submit([single("sale:2", card, merchant, 4_000)], now: t0, storage: ledger)
        #expect(ledger[card].availableCredit == 0)
    }

    /// A closed account takes no new hold, but what was held before posts, and credits and posted
    /// debits (refunds, limit cuts, clawbacks) still move.
    @Test func aClosedAccountTakesNoNewHoldButSettlesTheRest() throws {
        let closedLine = LedgerAccount(id: "card:closed:credit_line", code: .cardholderCreditLine, flags: [.debitsMustNotExceedCredits, .closed])
        let ledger = newLedger([closedLine])
        try grant(10_000, to: closedLine, in: ledger)
        expectRefusal(.accountClosed(closedLine.id), [hold("auth:1", closedLine, merchant, 1)], in: ledger)
        try Ledger.submit([single("refund:1", merchant, closedLine, 500, code: .refundPrincipal)], now: t0, storage: ledger)
        try Ledger.submit([single("cut:1", closedLine, issuer, 2_000, code: .creditLimitDecrease)], now: t0, storage: ledger)
        #expect(ledger[closedLine].availableCredit == 8_500)

        // A hold placed while the account was open still posts after it closes.
        let open = LedgerAccount(id: "card:open:credit_line", code: .cardholderCreditLine, flags: .debitsMustNotExceedCredits)
        let other = newLedger([open])
        try grant(10_000, to: open, in: other)
        let held = hold("auth:2", open, merchant, 3_000)
        try Ledger.submit([held], now: t0, storage: other)
        var closing = other[open]
        closing.flags.insert(.closed)
        try other.saveLedgerChanges(accounts: [closing], transfers: [], pendingStatuses: [])
        try Ledger.submit([resolve("capture:2", .postPending, held)], now: t0, storage: other)
        #expect(other[open].debitsPosted == 3_000 && other[open].debitsPending == 0)
    }

    @Test func aLimitChangeMovesTheDifferenceEitherWay() throws {
        let raise = try #require(PurchaseTransfers.creditLimitChange(card: "acct_000001", from: .usd(500), to: .usd(800), changeID: "a", now: t0))
        #expect(raise.debitAccountID == issuer.id && raise.creditAccountID == card.id && raise.amount == 300 && raise.code == .creditLimit)
        let cut = try #require(PurchaseTransfers.creditLimitChange(card: "acct_000001", from: .usd(800), to: .usd(100), changeID: "b", now: t0))
        #expect(cut.debitAccountID == card.id && cut.creditAccountID == issuer.id && cut.amount == 700 && cut.code == .creditLimitDecrease)
        #expect(PurchaseTransfers.creditLimitChange(card: "acct_000001", from: .usd(100), to: .usd(100), changeID: "c", now: t0) == nil)
        #expect(raise.id != cut.id)
    }

    @Test func ungrantedCreditLineRefusesEveryPurchase() {
        let ledger = newLedger()
        expectRefusal(.exceedsCredits(card.id), [single("sale:1", card, merchant, 1)], in: ledger)
    }

    @Test func creditsMustNotExceedDebitsBound() throws {
        let clearing = LedgerAccount(id: "test:clearing", code: .settlementClearing, flags: .creditsMustNotExceedDebits)
        let ledger = newLedger([clearing])
        expectRefusal(.exceedsDebits(clearing.id), [single("in:1", merchant, clearing, 1)], in: ledger)
        try Ledger.submit([single("out:1", clearing, merchant, 500)], now: t0, storage: ledger)
        try Ledger.submit([single("in:2", merchant, clearing, 500)], now: t0, storage: ledger)
        expectRefusal(.exceedsDebits(clearing.id), [hold("in:3", merchant, clearing, 1)], in: ledger)
    }

    @Test func linkedGroupIsAllOrNothing() throws {
        let ledger = newLedger()
        try grant(10_000, in: ledger)
        let saves = ledger.saveCount
        // The first transfer fits; the second takes the card over its limit.
        expectRefusal(.exceedsCredits(card.id), [
            single("sale:1:principal", card, merchant, 9_000),
            single("sale:1:tax", card, taxNY, 1_001, code: .purchaseTax),
        ], in: ledger)
        #expect(ledger.saveCount == saves, "saveLedgerChanges is never called for a refused group")
        #expect(ledger[card].debitsPosted == 0 && ledger[merchant].creditsPosted == 0 && ledger[taxNY].creditsPosted == 0)
        #expect(ledger.transfers["sale:1:principal"] == nil)

        // A later transfer naming an unknown account also undoes the earlier ones.
        let unknown = LedgerAccount(id: "merchant:nobody:payable", code: .merchantPayable)
        expectRefusal(.accountNotFound(unknown.id), [
            single("sale:2:principal", card, merchant, 100),
            single("sale:2:tax", card, unknown, 8, code: .purchaseTax),
        ], in: ledger)
        #expect(ledger.saveCount == saves)
    }

    @Test func sameAccountAndNonPositiveAmountsAreRefused() throws {
        let ledger = newLedger()
        try grant(10_000, in: ledger)
        expectRefusal(.accountsMustBeDifferent("t:1"), [single("t:1", card, card, 100)], in: ledger)
        expectRefusal(.accountsMustBeDifferent("t:2"), [hold("t:2", merchant, merchant, 100)], in: ledger)
        expectRefusal(.amountMustBePositive("t:3"), [single("t:3", card, merchant, 0)], in: ledger)
        expectRefusal(.amountMustBePositive("t:4"), [single("t:4", card, merchant, -500)], in: ledger)
        expectRefusal(.amountMustBePositive("t:5"), [hold("t:5", card, merchant, 0)], in: ledger)
    }

    @Test func totalsThatWouldOverflowAreRefused() throws {
        let ledger = newLedger()
        try Ledger.submit([single("fund:1", issuer, merchant, Int64.max)], now: t0, storage: ledger)
        expectRefusal(.overflow(issuer.id), [single("fund:2", issuer, taxNY, 1)], in: ledger)
        expectRefusal(.overflow(merchant.id), [single("fund:3", taxNY, merchant, 1)], in: ledger)
        try Ledger.submit([hold("fund:4", taxNY, merchant, Int64.max)], now: t0, storage: ledger)
        expectRefusal(.overflow(merchant.id), [hold("fund:5", LedgerAccounts.settlementClearing, merchant, 1)], in: ledger)
    }

    /// BUG (Ledger.checkBounds): `debitsPending + debitsPosted` is summed with a trapping `+`, so a
    /// credit line whose pending and posted debits each fit in Int64 but together do not crashes the
    /// process instead of refusing the group. Run in a child process so a crash fails only this test.
    @Test func boundsCheckRefusesRatherThanCrashesOnHugeTotals() async {
        await #expect(processExitsWith: .success) {
            let storage = InMemoryLedgerStorage([LedgerAccounts.issuerCreditLines, LedgerAccounts.creditLine("acct_big"),
                                                 LedgerAccounts.merchantPayable("mer_big")])
            let now = Instant(secondsSinceEpoch: 1_750_000_000)
            let line = LedgerAccounts.creditLine("acct_big").id
            let payable = LedgerAccounts.merchantPayable("mer_big").id
            try Ledger.submit([Transfer(id: "limit", debit: LedgerAccounts.issuerCreditLines.id, credit: line, amount: Int64.max,
                                        code: .creditLimit, createdAt: now)], now: now, storage: storage)
            try Ledger.submit([Transfer(id: "hold", debit: line, credit: payable, amount: Int64.max, type: .pending,
                                        timeoutAt: now.adding(seconds: 60), code: .purchasePrincipal, createdAt: now)],
                              now: now, storage: storage)
            do {
                try Ledger.submit([Transfer(id: "sale", debit: line, credit: payable, amount: 1, code: .purchasePrincipal, createdAt: now)],
                                  now: now, storage: storage)
                fatalError("a purchase beyond the credit line was accepted")
            } catch {
                precondition(error is LedgerError, "expected a LedgerError, got \(error)")
            }
        }
    }

    @Test func groupsAreBoundedInSize() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let seventeen = (0..<17).map { single(TransferID("t:\($0)"), card, merchant, 1) }
        expectRefusal(.groupTooLarge(17), seventeen, in: ledger)
        try Ledger.submit(Array(seventeen.prefix(Ledger.maximumGroupSize)), now: t0, storage: ledger)
        #expect(ledger[card].debitsPosted == 16)
    }
}

// MARK: - Idempotency

@Suite struct LedgerIdempotencyTests {
    @Test func replayingAGroupChangesNothing() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let group = [single("sale:1:principal", card, merchant, 14_999), single("sale:1:tax", card, taxNY, 600, code: .purchaseTax)]
        #expect(try Ledger.submit(group, now: t0, storage: ledger) == .applied)
        let after = ledger.snapshot

        // Redelivered an hour later: same cause, same ids, only the submission time differs.
        let later = t0.adding(seconds: 3600)
        let redelivered = group.map { transfer -> Transfer in
            var copy = transfer
            copy.createdAt = later
            return copy
        }
        #expect(try Ledger.submit(redelivered, now: later, storage: ledger) == .replayed)
        #expect(ledger.snapshot == after)
        #expect(ledger[card].debitsPosted == 15_599, "charged once")
    }

    @Test func replayingAHoldAndItsCaptureChangesNothing() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let authorization = hold("auth:1", card, merchant, 5_000)
        let capture = resolve("capture:1", .postPending, authorization)
        try Ledger.submit([authorization], now: t0, storage: ledger)
        try Ledger.submit([capture], now: t0, storage: ledger)
        let after = ledger.snapshot

        #expect(try Ledger.submit([authorization], now: t0.adding(seconds: 10), storage: ledger) == .replayed)
        #expect(try Ledger.submit([capture], now: t0.adding(seconds: 10), storage: ledger) == .replayed)
        #expect(ledger.snapshot == after, "a replayed hold is not placed again and a replayed capture posts nothing")
    }

    @Test func sameIDWithDifferentFieldsIsRefused() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let sale = single("sale:1", card, merchant, 1_000)
        try Ledger.submit([sale], now: t0, storage: ledger)

        var otherAmount = sale
        otherAmount.amount = 1_001
        var otherCredit = sale
        otherCredit.creditAccountID = taxNY.id
        var otherCode = sale
        otherCode.code = .purchaseTax
        var otherType = sale
        otherType.type = .pending
        otherType.timeoutAt = t0.adding(seconds: 60)
        for changed in [otherAmount, otherCredit, otherCode, otherType] {
            expectRefusal(.existsWithDifferentFields("sale:1"), [changed], in: ledger)
        }
        // Even when it comes with a new transfer, the mismatch is reported.
        expectRefusal(.existsWithDifferentFields("sale:1"), [single("sale:2", card, merchant, 5), otherAmount], in: ledger)
    }

    @Test func partiallyExistingGroupIsRefused() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let principal = single("sale:1:principal", card, merchant, 1_000)
        let tax = single("sale:1:tax", card, taxNY, 40, code: .purchaseTax)
        try Ledger.submit([principal], now: t0, storage: ledger)

        for group in [[principal, tax], [tax, principal]] {
            let before = ledger.snapshot
            let error = #expect(throws: LedgerError.self) { try Ledger.submit(group, now: t0, storage: ledger) }
            guard case .partiallyExists = error else {
                Issue.record("expected partiallyExists, got \(String(describing: error))")
                continue
            }
            #expect(ledger.snapshot == before)
        }
        #expect(ledger.transfers["sale:1:tax"] == nil)
    }

    /// BUG (Ledger.submit): ids are only checked against the store, not against each other, so a group
    /// naming one id twice applies it twice — the card is charged twice for one transfer id.
    @Test func groupNamingOneIDTwiceIsRefused() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let sale = single("sale:1", card, merchant, 1_000)
        let before = ledger.snapshot
        #expect(throws: LedgerError.self) { try Ledger.submit([sale, sale], now: t0, storage: ledger) }
        #expect(ledger.snapshot == before)
        #expect(ledger[card].debitsPosted <= 1_000, "one transfer id moves money at most once")
    }

    /// BUG (Ledger.submit / Transfer.isReplay): a post that does not repeat the pending transfer's
    /// amount (e.g. 0, "post in full" in TigerBeetle) is accepted and stored rewritten, so redelivering
    /// the very same post then throws `existsWithDifferentFields` instead of being a replay.
    @Test func redeliveredCaptureIsAReplayEvenWhenItOmitsTheAmount() throws {
        let ledger = newLedger()
        try grant(100_000, in: ledger)
        let authorization = hold("auth:1", card, merchant, 5_000)
        try Ledger.submit([authorization], now: t0, storage: ledger)
        let capture = Transfer(id: "capture:1", debit: card.id, credit: merchant.id, amount: 0, type: .postPending,
                               pendingID: authorization.id, code: .capture, createdAt: t0)
        let first = Result { try Ledger.submit([capture], now: t0, storage: ledger) }
        let afterFirst = ledger.snapshot
        let second = Result { try Ledger.submit([capture], now: t0, storage: ledger) }
        #expect(ledger.snapshot == afterFirst)
        if case .success(.applied) = first {
            #expect(throws: Never.self) { try second.get() }
        } else {
            #expect(throws: LedgerError.self) { try second.get() }
        }
    }
}

// MARK: - Randomized property test

/// SplitMix64: a tiny, seeded, platform-independent generator, so every run sees the same groups.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform enough in `range` for tests (the modulo bias is negligible for these small ranges).
    mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int64(next() % width)
    }

    mutating func chance(_ percent: Int64) -> Bool { int(1...100) <= percent }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(int(0...Int64(items.count - 1)))] }
}

@Suite struct LedgerPropertyTests {
    static let cards = (0..<6).map { LedgerAccounts.creditLine(CardAccountID("acct_\($0)")) }
    static let merchants = (0..<3).map { LedgerAccounts.merchantPayable(MerchantID("mer_\($0)")) }
    static let clearing = LedgerAccount(id: "test:clearing", code: .settlementClearing, flags: .creditsMustNotExceedDebits)
    static let accounts = [issuer, taxNY, clearing] + cards + merchants
    static let unknown = LedgerAccount(id: "test:unknown", code: .merchantPayable)

    @Test(arguments: [UInt64(0x4A5C_A2F0), 0xC0FF_EE00_1234, 42])
    func randomGroupsKeepTheLedgerBalancedAndBounded(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let ledger = InMemoryLedgerStorage(Self.accounts)
        var now = t0
        var nextID = 0
        var proposedHolds: [Transfer] = []
        var appliedGroups: [[Transfer]] = []
        var outcomes: [String: Int] = [:]

        func newID(_ prefix: String) -> TransferID {
            nextID += 1
            return TransferID("\(prefix):\(nextID)")
        }

        func randomTransfer(earlierInGroup: [Transfer]) -> Transfer {
            let roll = random.int(1...100)
            if roll <= 15 {
                return single(newID("limit"), issuer, random.pick(Self.cards), random.int(1...50_000), code: .creditLimit, at: now)
            }
            // Mostly recent holds (still open), sometimes any hold ever proposed (resolved, lapsed or refused).
            let holds = (random.chance(80) ? Array(proposedHolds.suffix(8)) : proposedHolds) + earlierInGroup.filter { $0.type == .pending }
            if roll <= 45, !holds.isEmpty {
                let type = random.pick([TransferType.postPending, .postPending, .voidPending, .expirePending])
                return resolve(newID(type.rawValue), type, random.pick(holds), at: now)
            }
            var debit = random.pick(Self.accounts)
            var credit = random.pick(Self.accounts)
            if random.chance(2) { credit = Self.unknown }
            if random.chance(30) { debit = random.pick(Self.cards) }  // purchases
            let amount = random.chance(3) ? random.int(-10...0) : random.int(1...20_000)
            if roll <= 70 {
                let timeout: Instant? = random.chance(3) ? nil : now.adding(milliseconds: random.int(-500...60_000))
                let pending = hold(newID("pending"), debit, credit, amount, timeoutAt: timeout, at: now)
                proposedHolds.append(pending)
                return pending
            }
            return single(newID("single"), debit, credit, amount, at: now)
        }

        for step in 0..<3_000 {
            now = now.adding(milliseconds: random.int(0...3_000))
            var group: [Transfer] = []
            if !appliedGroups.isEmpty, random.chance(5) {
                group = random.pick(appliedGroups)
            } else {
                for _ in 0..<random.int(1...4) { group.append(randomTransfer(earlierInGroup: group)) }
            }

            let before = ledger.snapshot
            do {
                let outcome = try Ledger.submit(group, now: now, storage: ledger)
                switch outcome {
                case .applied:
                    outcomes["applied", default: 0] += 1
                    appliedGroups.append(group)
                    try #require(ledger.saveCount == before.saveCount + 1, "step \(step)")
                    try #require(group.allSatisfy { ledger.transfers[$0.id] != nil }, "step \(step)")
                case .replayed:
                    outcomes["replayed", default: 0] += 1
                    try #require(ledger.snapshot == before, "a replay changes nothing (step \(step))")
                }
            } catch {
                outcomes["refused", default: 0] += 1
                try #require(error is LedgerError, "step \(step): \(error)")
                try #require(ledger.snapshot == before, "a refused group changes nothing (step \(step): \(error))")
            }

            try Self.checkBalancedAndBounded(ledger, step: step)
            if step % 25 == 0 { try Self.checkTotalsMatchTransfers(ledger, step: step) }
        }
        try Self.checkTotalsMatchTransfers(ledger, step: -1)

        // The walk must have exercised every path, or it proves little.
        #expect(outcomes["applied", default: 0] > 800)
        #expect(outcomes["refused", default: 0] > 200)
        #expect(outcomes["replayed", default: 0] > 50)
        for status in [PendingStatus.posted, .voided, .expired] {
            #expect(ledger.statuses.values.filter { $0 == status }.count > 10, "\(status) holds")
        }
        #expect(ledger.transfers.values.contains { $0.type == .pending && ledger.statuses[$0.id] == nil }, "some holds are still pending")
    }

    /// Debits equal credits, pending and posted separately, and every account respects its bounds.
    static func checkBalancedAndBounded(_ ledger: InMemoryLedgerStorage, step: Int) throws {
        var debitsPending: Int64 = 0, debitsPosted: Int64 = 0, creditsPending: Int64 = 0, creditsPosted: Int64 = 0
        for account in ledger.accounts.values {
            try #require(account.isWithinBounds, "\(account.id) out of bounds at step \(step)")
            debitsPending += account.debitsPending
            debitsPosted += account.debitsPosted
            creditsPending += account.creditsPending
            creditsPosted += account.creditsPosted
        }
        try #require(debitsPending == creditsPending, "pending debits = pending credits at step \(step)")
        try #require(debitsPosted == creditsPosted, "posted debits = posted credits at step \(step)")
    }

    /// Every account's totals equal what its stored transfers and the holds' statuses add up to, and
    /// every resolved hold has exactly one resolving transfer of the matching kind.
    static func checkTotalsMatchTransfers(_ ledger: InMemoryLedgerStorage, step: Int) throws {
        var expected = Dictionary(uniqueKeysWithValues: ledger.accounts.map { id, account in
            (id, LedgerAccount(id: id, code: account.code, flags: account.flags))
        })
        var resolutions: [TransferID: [TransferType]] = [:]
        for transfer in ledger.transfers.values {
            switch transfer.type {
            case .single:
                expected[transfer.debitAccountID]!.debitsPosted += transfer.amount
                expected[transfer.creditAccountID]!.creditsPosted += transfer.amount
            case .pending:
                switch ledger.statuses[transfer.id] ?? .pending {
                case .pending:
                    expected[transfer.debitAccountID]!.debitsPending += transfer.amount
                    expected[transfer.creditAccountID]!.creditsPending += transfer.amount
                case .posted:
                    expected[transfer.debitAccountID]!.debitsPosted += transfer.amount
                    expected[transfer.creditAccountID]!.creditsPosted += transfer.amount
                case .voided, .expired:
                    break
                }
            case .postPending, .voidPending, .expirePending:
                resolutions[transfer.pendingID!, default: []].append(transfer.type)
            }
        }
        try #require(Array(ledger.accounts.values).sorted { $0.id < $1.id } == Array(expected.values).sorted { $0.id < $1.id },
                     "account totals match the stored transfers at step \(step)")

        let kind: [PendingStatus: TransferType] = [.posted: .postPending, .voided: .voidPending, .expired: .expirePending]
        for transfer in ledger.transfers.values where transfer.type == .pending {
            let status = ledger.statuses[transfer.id] ?? .pending
            let expectedResolutions = kind[status].map { [$0] } ?? []
            try #require(resolutions[transfer.id, default: []] == expectedResolutions, "\(transfer.id) is \(status) at step \(step)")
        }
    }
}
