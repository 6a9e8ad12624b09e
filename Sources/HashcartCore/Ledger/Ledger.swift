/// Why the ledger refused a group of transfers. Nothing of a refused group is applied.
public enum LedgerError: Error, Sendable, Hashable, CustomStringConvertible {
    case existsWithDifferentFields(TransferID)
    case partiallyExists(TransferID)
    case accountNotFound(LedgerAccountID)
    case accountsMustBeDifferent(TransferID)
    case amountMustBePositive(TransferID)
    case exceedsCredits(LedgerAccountID)
    case exceedsDebits(LedgerAccountID)
    case pendingTransferNotFound(TransferID)
    case pendingTransferNotPending(TransferID, PendingStatus)
    case pendingTransferExpired(TransferID)
    case pendingTransferNotExpired(TransferID)
    case timeoutRequired(TransferID)
    case overflow(LedgerAccountID)
    case groupTooLarge(Int)
    case duplicateTransferInGroup(TransferID)
    /// A hold on a closed account (``LedgerAccountFlags/closed``).
    case accountClosed(LedgerAccountID)

    public var description: String {
        switch self {
        case .existsWithDifferentFields(let id): "transfer \(id) already exists with different fields"
        case .partiallyExists(let id): "transfer \(id) exists but the rest of its linked group does not"
        case .accountNotFound(let id): "ledger account \(id) does not exist"
        case .accountsMustBeDifferent(let id): "transfer \(id) debits and credits the same account"
        case .amountMustBePositive(let id): "transfer \(id) must move a positive amount"
        case .exceedsCredits(let id): "account \(id) would have more debits than credits (insufficient funds)"
        case .exceedsDebits(let id): "account \(id) would have more credits than debits"
        case .pendingTransferNotFound(let id): "pending transfer \(id) does not exist"
        case .pendingTransferNotPending(let id, let status): "pending transfer \(id) is already \(status.rawValue)"
        case .pendingTransferExpired(let id): "pending transfer \(id) has timed out"
        case .pendingTransferNotExpired(let id): "pending transfer \(id) has not timed out yet"
        case .timeoutRequired(let id): "pending transfer \(id) needs a timeout"
        case .overflow(let id): "account \(id) totals would overflow"
        case .groupTooLarge(let count): "a linked group holds at most \(Ledger.maximumGroupSize) transfers, not \(count)"
        case .duplicateTransferInGroup(let id): "transfer \(id) appears twice in one linked group"
        case .accountClosed(let id): "account \(id) is closed and takes no new holds"
        }
    }
}

/// Where the ledger reads and writes. The store implements it inside its transaction.
public protocol LedgerStorage {
    func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount?
    func transfer(_ id: TransferID) throws -> Transfer?
    /// The transfers among `ids` that exist (a store may fetch them in one query).
    func transfers(_ ids: [TransferID]) throws -> [TransferID: Transfer]
    func pendingStatus(_ id: TransferID) throws -> PendingStatus?
    /// Persists the outcome of one accepted group: every account it changed, the new transfers,
    /// and the new statuses of pending transfers it resolved.
    func saveLedgerChanges(accounts: [LedgerAccount], transfers: [Transfer], pendingStatuses: [(TransferID, PendingStatus)]) throws
}

extension LedgerStorage {
    public func transfers(_ ids: [TransferID]) throws -> [TransferID: Transfer] {
        var found: [TransferID: Transfer] = [:]
        for id in ids { if let transfer = try transfer(id) { found[id] = transfer } }
        return found
    }
}

/// The outcome of submitting a group.
public enum LedgerOutcome: Sendable, Hashable {
    /// Every transfer was new and is now applied.
    case applied
    /// Every transfer already existed with the same fields: a replay, nothing changed.
    case replayed
}

/// A TigerBeetle-shaped double-entry ledger: linked groups of immutable transfers, all applied or
/// none, against accounts with pending/posted totals and balance bounds.
public enum Ledger {
    /// The most transfers one linked group may hold.
    public static let maximumGroupSize = 16

    /// Applies `group` as one all-or-nothing unit at `now`.
    ///
    /// - Parameter knownNew: the caller guarantees no transfer of the group exists yet (its ids
    ///   derive from a state transition that happens once), so the replay look-up is skipped. If
    ///   the guarantee were ever broken, the store's primary key refuses the insert and the whole
    ///   transaction rolls back: nothing is applied twice either way.
    @discardableResult
    public static func submit(_ group: [Transfer], now: Instant, storage: some LedgerStorage, knownNew: Bool = false) throws -> LedgerOutcome {
        guard !group.isEmpty else { return .applied }
        guard group.count <= maximumGroupSize else { throw LedgerError.groupTooLarge(group.count) }
        var seen = Set<TransferID>()
        for transfer in group where !seen.insert(transfer.id).inserted {
            throw LedgerError.duplicateTransferInGroup(transfer.id)
        }

        // Replays: all or nothing.
        let stored = knownNew ? [:] : try storage.transfers(group.map(\.id))
        for transfer in group {
            if let existing = stored[transfer.id], !existing.isReplay(of: transfer) {
                throw LedgerError.existsWithDifferentFields(transfer.id)
            }
        }
        if stored.count == group.count { return .replayed }
        if let first = group.first(where: { stored[$0.id] != nil }) { throw LedgerError.partiallyExists(first.id) }

        var accounts: [LedgerAccountID: LedgerAccount] = [:]
        var originals: [LedgerAccountID: LedgerAccount] = [:]
        var statuses: [TransferID: PendingStatus] = [:]
        var pendingTransfers: [TransferID: Transfer] = [:]
        var applied: [Transfer] = []

        func account(_ id: LedgerAccountID) throws -> LedgerAccount {
            if let cached = accounts[id] { return cached }
            guard let loaded = try storage.ledgerAccount(id) else { throw LedgerError.accountNotFound(id) }
            accounts[id] = loaded
            originals[id] = loaded
            return loaded
        }
        func add(_ a: Int64, _ b: Int64, _ id: LedgerAccountID) throws -> Int64 {
            let (sum, overflow) = a.addingReportingOverflow(b)
            guard !overflow else { throw LedgerError.overflow(id) }
            return sum
        }

        for var transfer in group {
            switch transfer.type {
            case .single, .pending:
                guard transfer.amount > 0 else { throw LedgerError.amountMustBePositive(transfer.id) }
                guard transfer.debitAccountID != transfer.creditAccountID else {
                    throw LedgerError.accountsMustBeDifferent(transfer.id)
                }
                var debit = try account(transfer.debitAccountID)
                var credit = try account(transfer.creditAccountID)
                if transfer.type == .pending {
                    guard !debit.flags.contains(.closed) else { throw LedgerError.accountClosed(debit.id) }
                    guard let timeout = transfer.timeoutAt, timeout > now else { throw LedgerError.timeoutRequired(transfer.id) }
                    debit.debitsPending = try add(debit.debitsPending, transfer.amount, debit.id)
                    credit.creditsPending = try add(credit.creditsPending, transfer.amount, credit.id)
                    statuses[transfer.id] = .pending
                    pendingTransfers[transfer.id] = transfer
                } else {
                    debit.debitsPosted = try add(debit.debitsPosted, transfer.amount, debit.id)
                    credit.creditsPosted = try add(credit.creditsPosted, transfer.amount, credit.id)
                }
                try checkBounds(debit)
                try checkBounds(credit)
                accounts[debit.id] = debit
                accounts[credit.id] = credit

            case .postPending, .voidPending, .expirePending:
                guard let pendingID = transfer.pendingID else { throw LedgerError.pendingTransferNotFound(transfer.id) }
                let pending: Transfer
                if let inGroup = pendingTransfers[pendingID] {
                    pending = inGroup
                } else {
                    guard let stored = try storage.transfer(pendingID), stored.type == .pending else {
                        throw LedgerError.pendingTransferNotFound(pendingID)
                    }
                    pending = stored
                }
                let status: PendingStatus
                if let known = statuses[pendingID] {
                    status = known
                } else {
                    status = try storage.pendingStatus(pendingID) ?? .pending
                }
                guard status == .pending else { throw LedgerError.pendingTransferNotPending(pendingID, status) }
                let timeout = pending.timeoutAt!
                switch transfer.type {
                case .postPending, .voidPending:
                    guard now < timeout else { throw LedgerError.pendingTransferExpired(pendingID) }
                default:
                    guard now >= timeout else { throw LedgerError.pendingTransferNotExpired(pendingID) }
                }
                // The resolving transfer mirrors the pending one.
                transfer.debitAccountID = pending.debitAccountID
                transfer.creditAccountID = pending.creditAccountID
                transfer.amount = pending.amount
                var debit = try account(pending.debitAccountID)
                var credit = try account(pending.creditAccountID)
                debit.debitsPending -= pending.amount
                credit.creditsPending -= pending.amount
                precondition(debit.debitsPending >= 0 && credit.creditsPending >= 0, "pending totals never go negative")
                if transfer.type == .postPending {
                    debit.debitsPosted = try add(debit.debitsPosted, pending.amount, debit.id)
                    credit.creditsPosted = try add(credit.creditsPosted, pending.amount, credit.id)
                    statuses[pendingID] = .posted
                } else {
                    statuses[pendingID] = transfer.type == .voidPending ? .voided : .expired
                }
                try checkBounds(debit)
                try checkBounds(credit)
                accounts[debit.id] = debit
                accounts[credit.id] = credit
            }
            applied.append(transfer)
        }

        // Every transfer moves the same amount out of one account and into another.
        precondition(imbalance(accounts.values) == imbalance(originals.values),
                     "a transfer group must not change the ledger's balance")

        let resolved = statuses.filter { pendingTransfers[$0.key] == nil }.map { ($0.key, $0.value) }
        let newPending = statuses.filter { pendingTransfers[$0.key] != nil && $0.value != .pending }.map { ($0.key, $0.value) }
        try storage.saveLedgerChanges(accounts: Array(accounts.values), transfers: applied,
                                      pendingStatuses: resolved + newPending)
        return .applied
    }

    private static func checkBounds(_ account: LedgerAccount) throws {
        // Compared by subtraction: totals are never negative, so this cannot overflow.
        if account.flags.contains(.debitsMustNotExceedCredits), account.debitsPending > account.creditsPosted - account.debitsPosted {
            throw LedgerError.exceedsCredits(account.id)
        }
        if account.flags.contains(.creditsMustNotExceedDebits), account.creditsPending > account.debitsPosted - account.creditsPosted {
            throw LedgerError.exceedsDebits(account.id)
        }
    }

    private static func imbalance(_ accounts: some Collection<LedgerAccount>) -> Int64 {
        accounts.reduce(Int64(0)) { $0 &+ $1.debitsPosted &+ $1.debitsPending &- $1.creditsPosted &- $1.creditsPending }
    }
}
