import Foundation
import HashcartCore

/// Settlement in the unit of work: closing days, their batches, payout accounts and payout files.
/// A settlement transaction runs alone (no engine work in it), so these go straight to the
/// database; the ledger transfers it submits stay buffered like every other.
extension WorkingSet {
    func closeSettlementDay(_ day: SettlementDay, batchCount: Int, at: Instant) throws -> Bool {
        try session.execute("INSERT INTO settlement_days (day, closed_at, batch_count) VALUES ($1, $2, $3) ON CONFLICT (day) DO NOTHING",
                            [.int(day.dayNumber), SQLValue(at), SQLValue(batchCount)]) == 1
    }

    func latestClosedSettlementDay() throws -> SettlementDay? {
        try session.queryOne("SELECT MAX(day) FROM settlement_days") { try $0.optionalInt(0) }?.map(SettlementDay.init(dayNumber:))
    }

    func earliestPostedTransferAt() throws -> Instant? {
        try session.queryOne("SELECT MIN(created_at) FROM ledger_transfers WHERE type IN ('single', 'post_pending')") {
            try $0.optionalInstant(0)
        } ?? nil
    }

    func settlementMovements(day: SettlementDay) throws -> [SettlementMovement] {
        // Summed in the database by what classifies a transfer (its code, the merchant account it
        // touches, the fee account, the merchant of its subject), so a busy day reads a few rows
        // per merchant; the core's classification then names each sum.
        let rows = try session.query("""
            SELECT t.code,
                CASE WHEN t.debit_account_id LIKE 'merchant:%' THEN t.debit_account_id ELSE '' END,
                CASE WHEN t.credit_account_id LIKE 'merchant:%' OR t.credit_account_id = $3 THEN t.credit_account_id ELSE '' END,
                COALESCE(p.merchant_id, o.merchant_id, ''), CAST(SUM(t.amount) AS BIGINT), COUNT(*)
            FROM ledger_transfers t LEFT JOIN purchases p ON p.id = t.subject LEFT JOIN orders o ON o.id = t.subject
            WHERE t.created_at >= $1 AND t.created_at < $2 AND t.type IN ('single', 'post_pending')
              AND t.code IN ('capture', 'refund_principal', 'refund_fee', 'statement_credit_funding', 'statement_credit_clawback')
            GROUP BY 1, 2, 3, 4
            """, [SQLValue(day.start), SQLValue(day.end), .text(LedgerAccounts.issuerFeeRevenue.id.rawValue)],
            limit: SettlementCalculator.maximumMovementsPerDay) { row in
            (try row.text(0), try row.text(1), try row.text(2), try row.text(3), try row.int(4), try row.int(5))
        }
        return try rows.compactMap { code, debit, credit, subjectMerchant, amount, count in
            guard let code = TransferCode(rawValue: code) else {
                throw StoreError.corruptRecord(table: "ledger_transfers", id: day.description, detail: "transfer code \(code)")
            }
            let sum = Transfer(id: "sum", debit: LedgerAccountID(debit.isEmpty ? "other" : debit),
                               credit: LedgerAccountID(credit.isEmpty ? "other" : credit), amount: amount, code: code, createdAt: day.start)
            guard var movement = SettlementMovement.classify(sum, merchantOfSubject: subjectMerchant.isEmpty ? nil : MerchantID(subjectMerchant)) else {
                return nil
            }
            movement.count = Int(count)
            return movement
        }
    }

    func settlementCarries(merchants: [MerchantID], before day: SettlementDay) throws -> [MerchantID: Int64] {
        guard !merchants.isEmpty else { return [:] }
        let rows = try session.query("""
            SELECT b.merchant_id, b.carried_out FROM settlement_batches b
            WHERE b.merchant_id \(session.dialect.any(1)) AND b.carried_out != 0
              AND b.day = (SELECT MAX(l.day) FROM settlement_batches l WHERE l.merchant_id = b.merchant_id AND l.day < $2)
            """, [.texts(merchants.map(\.rawValue)), .int(day.dayNumber)]) { (MerchantID(try $0.text(0)), try $0.int(1)) }
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }

    func insertSettlementBatch(_ batch: SettlementBatch) throws {
        try session.insertMany(into: "settlement_batches", columns: StoreRows.settlementBatchColumns, rows: [StoreRows.values(of: batch)])
    }

    func settlementBatchesAwaitingPayout(limit: Int) throws -> [SettlementBatch] {
        precondition(limit > 0 && limit <= NACHAFile.maximumEntries, "reads are bounded")
        return try session.query("""
            SELECT \(StoreRows.names(StoreRows.settlementBatchColumns)) FROM settlement_batches
            WHERE state = 'awaiting_payout' ORDER BY day, id LIMIT $1
            """, [SQLValue(limit)], limit: limit, StoreRows.settlementBatch)
    }

    func payoutAccounts(_ merchants: [MerchantID]) throws -> [MerchantID: PayoutAccount] {
        guard !merchants.isEmpty else { return [:] }
        let cipher = cipher
        let rows = try session.query("""
            SELECT id, payout_routing, payout_kind, payout_sealed FROM merchants
            WHERE id \(session.dialect.any(1)) AND payout_sealed IS NOT NULL
            """, [.texts(merchants.map(\.rawValue))]) { row -> (MerchantID, PayoutAccount) in
            let id = try row.text(0)
            let opened = try cipher.open(try row.data(3), context: "merchant:\(id):payout")
            guard let kind = PayoutAccount.Kind(rawValue: try row.text(2)),
                  let account = try? PayoutAccount(routingNumber: try row.text(1), accountNumber: String(decoding: opened, as: UTF8.self), kind: kind) else {
                throw StoreError.corruptRecord(table: "merchants", id: id, detail: "payout account")
            }
            return (MerchantID(id), account)
        }
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }

    func setPayoutAccount(_ account: PayoutAccount?, merchant: MerchantID) throws -> Bool {
        let sealed = try account.map { try cipher.seal(Data($0.accountNumber.utf8), context: "merchant:\(merchant.rawValue):payout") }
        return try session.execute("""
            UPDATE merchants SET payout_routing = $1, payout_kind = $2, payout_last4 = $3, payout_sealed = $4 WHERE id = $5
            """, [SQLValue(account?.routingNumber), SQLValue(account?.kind.rawValue), SQLValue(account?.last4),
                  sealed.map(SQLValue.blob) ?? .null, .text(merchant.rawValue)]) == 1
    }

    func payoutFileCount(createdOn day: SettlementDay) throws -> Int {
        Int(try session.queryOne("SELECT COUNT(*) FROM payout_files WHERE created_day = $1", [.int(day.dayNumber)]) { try $0.int(0) } ?? 0)
    }

    func insertPayoutFile(_ file: PayoutFileRecord) throws {
        try session.insertMany(into: "payout_files", columns: StoreRows.payoutFileColumns, rows: [StoreRows.values(of: file)])
    }

    func markSettlementBatchPaid(_ id: SettlementBatchID, fileID: String, traceNumber: String, at: Instant) throws {
        let changed = try session.execute("""
            UPDATE settlement_batches SET state = 'paid', paid_at = $1, payout_file_id = $2, trace_number = $3
            WHERE id = $4 AND state = 'awaiting_payout'
            """, [SQLValue(at), .text(fileID), .text(traceNumber), .text(id.rawValue)])
        precondition(changed == 1, "batch \(id) is paid once, from awaiting_payout")
    }
}

extension StoreRows {
    static let settlementBatchColumns = SQLColumn.list("""
        id, merchant_id, day:int, sales:int, fees:int, refunds:int, statement_credits:int, carried_in:int, net:int, payout:int, \
        carried_out:int, movement_count:int, state, created_at:int, paid_at:int, payout_file_id, trace_number
        """)

    static func settlementBatch(_ row: any SQLRow) throws -> SettlementBatch {
        let id = try row.text(0)
        guard let state = SettlementBatch.State(rawValue: try row.text(12)) else {
            throw StoreError.corruptRecord(table: "settlement_batches", id: id, detail: "state")
        }
        let batch = SettlementBatch(
            id: SettlementBatchID(id), merchantID: MerchantID(try row.text(1)), day: SettlementDay(dayNumber: try row.int(2)),
            sales: try row.int(3), fees: try row.int(4), refunds: try row.int(5), statementCredits: try row.int(6),
            carriedIn: try row.int(7), net: try row.int(8), payout: try row.int(9), carriedOut: try row.int(10),
            movementCount: Int(try row.int(11)), state: state, createdAt: try row.instant(13), paidAt: try row.optionalInstant(14),
            payoutFileID: try row.optionalText(15), traceNumber: try row.optionalText(16))
        guard batch.id == SettlementBatch.id(merchant: batch.merchantID, day: batch.day) else {
            throw StoreError.corruptRecord(table: "settlement_batches", id: id, detail: "id does not name its merchant and day")
        }
        return batch
    }

    static func values(of b: SettlementBatch) -> [SQLValue] {
        [.text(b.id.rawValue), .text(b.merchantID.rawValue), .int(b.day.dayNumber), .int(b.sales), .int(b.fees), .int(b.refunds),
         .int(b.statementCredits), .int(b.carriedIn), .int(b.net), .int(b.payout), .int(b.carriedOut), SQLValue(b.movementCount),
         .text(b.state.rawValue), SQLValue(b.createdAt), SQLValue(b.paidAt), SQLValue(b.payoutFileID), SQLValue(b.traceNumber)]
    }

    static let payoutFileColumns = SQLColumn.list("""
        id, created_day:int, modifier, created_at:int, batch_count:int, entry_count:int, entry_hash:int, total_credit:int, content
        """)

    static func payoutFile(_ row: any SQLRow) throws -> PayoutFileRecord {
        let id = try row.text(0)
        let content = try row.text(8)
        let lines = content.split(separator: "\n")
        guard let modifier = try row.text(2).first, lines.count % 10 == 0 else {
            throw StoreError.corruptRecord(table: "payout_files", id: id, detail: "modifier or blocking")
        }
        return PayoutFileRecord(
            id: id, createdDay: SettlementDay(dayNumber: try row.int(1)), modifier: modifier, createdAt: try row.instant(3),
            totals: NACHAFile.Totals(batchCount: Int(try row.int(4)), entryCount: Int(try row.int(5)), blockCount: lines.count / 10,
                                     entryHash: try row.int(6), totalCredit: try row.int(7)),
            content: content)
    }

    static func values(of f: PayoutFileRecord) -> [SQLValue] {
        [.text(f.id), .int(f.createdDay.dayNumber), .text(String(f.modifier)), SQLValue(f.createdAt), SQLValue(f.totals.batchCount),
         SQLValue(f.totals.entryCount), .int(f.totals.entryHash), .int(f.totals.totalCredit), .text(f.content)]
    }
}

/// The issuer's switches in the unit of work.
extension WorkingSet {
    func issuerKillSwitchIsOn() throws -> Bool {
        if let known = killSwitchRead { return known }
        let on = try session.queryOne("SELECT enabled FROM issuer_switches WHERE name = 'kill_switch'") { try $0.bool(0) } ?? false
        killSwitchRead = on
        return on
    }

    func setIssuerKillSwitch(_ on: Bool, reason: String, at: Instant) throws {
        try session.execute("""
            INSERT INTO issuer_switches (name, enabled, reason, changed_at) VALUES ('kill_switch', $1, $2, $3)
            ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, reason = excluded.reason, changed_at = excluded.changed_at
            """, [SQLValue(on), .text(reason), SQLValue(at)])
        killSwitchRead = on
    }
}

/// The issuer's risk limits in the unit of work.
extension WorkingSet {
    func issuerRiskPolicy() throws -> RiskPolicy? {
        if let known = riskPolicyRead { return known }
        let policy = try session.queryOne("""
            SELECT daily_spend_cap, max_purchases_per_hour, min_link_age_seconds FROM risk_settings WHERE scope = 'issuer'
            """) { StoreRows.riskPolicy(try $0.int(0), try $0.int(1), try $0.int(2)) }
        riskPolicyRead = .some(policy)
        return policy
    }

    func setIssuerRiskPolicy(_ policy: RiskPolicy, at: Instant) throws {
        try session.execute("""
            INSERT INTO risk_settings (scope, daily_spend_cap, max_purchases_per_hour, min_link_age_seconds, changed_at)
            VALUES ('issuer', $1, $2, $3, $4)
            ON CONFLICT (scope) DO UPDATE SET daily_spend_cap = excluded.daily_spend_cap,
                max_purchases_per_hour = excluded.max_purchases_per_hour, min_link_age_seconds = excluded.min_link_age_seconds,
                changed_at = excluded.changed_at
            """, [.int(policy.dailySpendCap.minorUnits), .int(policy.maximumPurchasesPerHour), .int(policy.minimumLinkAgeSeconds), SQLValue(at)])
        riskPolicyRead = .some(policy)
    }
}

extension StoreRows {
    static func riskPolicy(_ cap: Int64, _ perHour: Int64, _ linkAge: Int64) -> RiskPolicy {
        RiskPolicy(dailySpendCap: .usd(cap), maximumPurchasesPerHour: perHour, minimumLinkAgeSeconds: linkAge)
    }
}
