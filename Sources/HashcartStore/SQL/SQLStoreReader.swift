import Foundation
import HashcartCore

/// Read-only queries over a consistent snapshot — reports, the funnel, and the audit behind
/// `hashcart check` — written once for both stores over their ``SQLSession`` (a GRDB read on
/// SQLite, a `REPEATABLE READ READ ONLY` transaction on PostgreSQL).
struct SQLStoreReader: StoreReader {
    let session: any SQLSession
    let cipher: AddressCipher

    /// `base` extended to a newest-first page after `startingAfter` (whose `(time, id)` bounds it).
    private func page(_ base: String, table: String, timeColumn: String, values: inout [SQLValue], startingAfter: String?, limit: Int) -> String {
        var sql = base
        if let startingAfter {
            values.append(.text(startingAfter))
            sql += " AND (\(timeColumn), id) < (SELECT \(timeColumn), id FROM \(table) WHERE id = $\(values.count))"
        }
        values.append(SQLValue(limit))
        return sql + " ORDER BY \(timeColumn) DESC, id DESC LIMIT $\(values.count)"
    }

    func offers() throws -> [Offer] {
        try session.query("SELECT \(StoreColumns.offer) FROM offers ORDER BY created_at, id", StoreRows.offer)
    }

    func offers(merchantID: MerchantID, limit: Int, startingAfter: OfferID?) throws -> [Offer] {
        var values: [SQLValue] = [.text(merchantID.rawValue)]
        let sql = page("SELECT \(StoreColumns.offer) FROM offers WHERE merchant_id = $1", table: "offers", timeColumn: "created_at",
                       values: &values, startingAfter: startingAfter?.rawValue, limit: limit)
        return try session.query(sql, values, limit: limit, StoreRows.offer)
    }

    func orders(merchantID: MerchantID, offerID: OfferID?, status: OrderStatus?, limit: Int, startingAfter: OrderID?) throws -> [Order] {
        var values: [SQLValue] = [.text(merchantID.rawValue)]
        var base = "SELECT \(StoreColumns.order) FROM orders WHERE merchant_id = $1"
        if let offerID { values.append(.text(offerID.rawValue)); base += " AND offer_id = $\(values.count)" }
        if let status { values.append(.text(status.rawValue)); base += " AND status = $\(values.count)" }
        let sql = page(base, table: "orders", timeColumn: "created_at", values: &values, startingAfter: startingAfter?.rawValue, limit: limit)
        return try session.query(sql, values, limit: limit, StoreRows.order)
    }

    func offer(_ id: OfferID) throws -> Offer? {
        try session.queryOne("SELECT \(StoreColumns.offer) FROM offers WHERE id = $1", [.text(id.rawValue)], StoreRows.offer)
    }

    func merchant(_ id: MerchantID) throws -> Merchant? {
        try session.queryOne("SELECT \(StoreRows.names(StoreRows.merchantColumns)) FROM merchants WHERE id = $1", [.text(id.rawValue)], StoreRows.merchant)
    }

    func order(_ id: OrderID) throws -> Order? {
        try session.queryOne("SELECT \(StoreColumns.order) FROM orders WHERE id = $1", [.text(id.rawValue)], StoreRows.order)
    }

    func order(merchantID: MerchantID, reference: String) throws -> Order? {
        try session.queryOne("SELECT \(StoreColumns.order) FROM orders WHERE reference = $1 AND merchant_id = $2",
                             [.text(reference), .text(merchantID.rawValue)], StoreRows.order)
    }

    func links(cardAccountID: CardAccountID) throws -> [Link] {
        try session.query("SELECT \(StoreColumns.link) FROM links WHERE card_account_id = $1 AND unlinked_at IS NULL ORDER BY created_at, id",
                          [.text(cardAccountID.rawValue)], StoreRows.link)
    }

    func oauthAuthorization(stateHash: String) throws -> OAuthAuthorization? {
        try session.queryOne("SELECT \(StoreColumns.oauthAuthorization) FROM oauth_authorizations WHERE state_hash = $1", [.text(stateHash)],
                             StoreRows.oauthAuthorization)
    }

    func link(_ id: LinkID) throws -> Link? {
        try session.queryOne("SELECT \(StoreColumns.link) FROM links WHERE id = $1", [.text(id.rawValue)], StoreRows.link)
    }

    func purchases(cardAccountID: CardAccountID, limit: Int, startingAfter: PurchaseID?) throws -> [Purchase] {
        var values: [SQLValue] = [.text(cardAccountID.rawValue)]
        let sql = page("SELECT \(StoreColumns.purchase) FROM purchases WHERE card_account_id = $1", table: "purchases",
                       timeColumn: "requested_at", values: &values, startingAfter: startingAfter?.rawValue, limit: limit)
        return try session.query(sql, values, limit: limit, StoreRows.purchase)
    }

    func funnel(offer: OfferID) throws -> [String: Int64] {
        let pairs = try session.query("SELECT metric, value FROM funnel WHERE offer_id = $1", [.text(offer.rawValue)]) { (try $0.text(0), try $0.int(1)) }
        return Dictionary(pairs, uniquingKeysWith: +)
    }

    func funnelSeries(offer: OfferID, limit: Int) throws -> [FunnelPoint] {
        try session.query("SELECT minute, metric, value FROM funnel_minutes WHERE offer_id = $1 ORDER BY minute, metric LIMIT $2",
                          [.text(offer.rawValue), SQLValue(limit)], limit: limit) { row in
            FunnelPoint(minute: try row.int(0), metric: try row.text(1), value: try row.int(2))
        }
    }

    func funnelTotals(merchantID: MerchantID, fromMinute: Int64, toMinute: Int64, limit: Int) throws -> [(offer: OfferID, metric: String, value: Int64)] {
        try session.query("""
            SELECT f.offer_id, f.metric, CAST(SUM(f.value) AS BIGINT) FROM funnel_minutes f JOIN offers o ON o.id = f.offer_id
            WHERE o.merchant_id = $1 AND f.minute >= $2 AND f.minute < $3 GROUP BY f.offer_id, f.metric ORDER BY f.offer_id, f.metric LIMIT $4
            """, [.text(merchantID.rawValue), .int(fromMinute), .int(toMinute), SQLValue(limit)], limit: limit) { row in
            (offer: OfferID(try row.text(0)), metric: try row.text(1), value: try row.int(2))
        }
    }

    func funnelBuckets(merchantID: MerchantID, offer: OfferID?, fromMinute: Int64, toMinute: Int64, bucketMinutes: Int64,
                       metrics: [String]) throws -> [(bucket: Int64, metric: String, value: Int64)] {
        precondition(bucketMinutes > 0 && toMinute >= fromMinute, "buckets of a range")
        precondition(metrics.count <= 32, "a chart draws a few metrics")
        let buckets = (toMinute - fromMinute + bucketMinutes - 1) / bucketMinutes
        precondition(buckets <= 1_000, "a chart has at most 1,000 buckets")
        let limit = Int(buckets) * max(metrics.count, 1)
        return try session.query("""
            SELECT CAST((f.minute - $2) / $4 AS BIGINT), f.metric, CAST(SUM(f.value) AS BIGINT)
            FROM funnel_minutes f JOIN offers o ON o.id = f.offer_id
            WHERE o.merchant_id = $1 AND f.minute >= $2 AND f.minute < $3 AND f.metric \(session.dialect.any(5)) AND ($6 = '' OR f.offer_id = $6)
            GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $7
            """, [.text(merchantID.rawValue), .int(fromMinute), .int(toMinute), .int(bucketMinutes), .texts(metrics),
                  .text(offer?.rawValue ?? ""), SQLValue(limit)], limit: limit) { row in
            (bucket: try row.int(0), metric: try row.text(1), value: try row.int(2))
        }
    }

    func auditLog(merchantID: MerchantID?, limit: Int, before: Int64?) throws -> [(seq: Int64, entry: AuditEntry)] {
        try session.query("""
            SELECT seq, at, actor, address, action, object_id, merchant_id, detail FROM audit_log
            WHERE ($1 = '' OR merchant_id = $1) AND seq < $2 ORDER BY seq DESC LIMIT $3
            """, [.text(merchantID?.rawValue ?? ""), .int(before ?? Int64.max), SQLValue(limit)], limit: limit) { row in
            (seq: try row.int(0), entry: AuditEntry(actor: try row.text(2), address: try row.text(3), action: try row.text(4), objectID: try row.text(5),
                                                    merchantID: try row.optionalText(6).map { MerchantID($0) }, detail: try row.text(7), at: try row.instant(1)))
        }
    }

    func timesToConfirm(offer: OfferID) throws -> [Int64] {
        try session.query("SELECT confirmed_at - requested_at FROM purchases WHERE offer_id = $1 AND confirmed_at IS NOT NULL ORDER BY 1",
                          [.text(offer.rawValue)]) { try $0.int(0) }
    }

    func purchaseCounts(offer: OfferID) throws -> [PurchaseState: Int64] {
        var result: [PurchaseState: Int64] = [:]
        for (state, count) in try session.query("SELECT state, COUNT(*) FROM purchases WHERE offer_id = $1 GROUP BY state",
                                                [.text(offer.rawValue)], { (try $0.text(0), try $0.int(1)) }) {
            if let state = PurchaseState(rawValue: state) { result[state] = count }
        }
        return result
    }

    func purchase(_ id: PurchaseID) throws -> Purchase? {
        try session.queryOne("SELECT \(StoreColumns.purchase) FROM purchases WHERE id = $1", [.text(id.rawValue)], StoreRows.purchase)
    }

    func purchases(limit: Int) throws -> [Purchase] {
        try session.query("SELECT \(StoreColumns.purchase) FROM purchases ORDER BY requested_at, id LIMIT $1", [SQLValue(limit)], limit: limit,
                          StoreRows.purchase)
    }

    func orders(limit: Int) throws -> [Order] {
        try session.query("SELECT \(StoreColumns.order) FROM orders ORDER BY created_at, id LIMIT $1", [SQLValue(limit)], limit: limit, StoreRows.order)
    }

    func ledgerAccounts() throws -> [LedgerAccount] {
        try session.query("SELECT \(StoreRows.names(StoreRows.ledgerAccountColumns)) FROM ledger_accounts ORDER BY id", StoreRows.ledgerAccount)
    }

    func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount? {
        try session.queryOne("SELECT \(StoreRows.names(StoreRows.ledgerAccountColumns)) FROM ledger_accounts WHERE id = $1", [.text(id.rawValue)],
                             StoreRows.ledgerAccount)
    }

    /// `%text%` for LIKE, with LIKE's own characters written as themselves (`\` escapes).
    static func likePattern(_ text: String) -> String {
        "%" + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    func merchants(search: String?, limit: Int, after: MerchantID?) throws -> [Merchant] {
        try session.query("""
            SELECT \(StoreRows.names(StoreRows.merchantColumns)) FROM merchants
            WHERE ($1 = '' OR LOWER(name) LIKE $2 ESCAPE '\\' OR LOWER(id) LIKE $2 ESCAPE '\\') AND id > $3 ORDER BY id LIMIT $4
            """, [.text(search ?? ""), .text(Self.likePattern(search ?? "")), .text(after?.rawValue ?? ""), SQLValue(limit)], limit: limit,
            StoreRows.merchant)
    }

    func cardAccounts(search: String?, limit: Int, after: CardAccountID?) throws -> [CardAccount] {
        let cipher = cipher
        return try session.query("""
            SELECT \(StoreRows.cardAccountColumns) FROM card_accounts WHERE ($1 = '' OR LOWER(id) LIKE $2 ESCAPE '\\') AND id > $3 ORDER BY id LIMIT $4
            """, [.text(search ?? ""), .text(Self.likePattern(search ?? "")), .text(after?.rawValue ?? ""), SQLValue(limit)], limit: limit) {
            try StoreRows.cardAccount($0, cipher: cipher)
        }
    }

    func cardAccount(_ id: CardAccountID) throws -> CardAccount? {
        let cipher = cipher
        return try session.queryOne("SELECT \(StoreRows.cardAccountColumns) FROM card_accounts WHERE id = $1", [.text(id.rawValue)]) {
            try StoreRows.cardAccount($0, cipher: cipher)
        }
    }

    func outboundPosts(limit: Int) throws -> [OutboundPost] {
        try session.query("SELECT \(StoreColumns.outbound) FROM outbound_posts ORDER BY created_at, key LIMIT $1", [SQLValue(limit)], limit: limit,
                          StoreRows.outbound)
    }

    func merchantEventCounts() throws -> [String: Int64] {
        let pairs = try session.query("SELECT type, COUNT(*) FROM merchant_events GROUP BY type") { (try $0.text(0), try $0.int(1)) }
        return Dictionary(pairs, uniquingKeysWith: +)
    }

    func notifications(cardAccountID: CardAccountID) throws -> [CardholderNotification] {
        try session.query("""
            SELECT \(StoreRows.names(StoreRows.notificationColumns)) FROM cardholder_notifications
            WHERE card_account_id = $1 ORDER BY created_at, id
            """, [.text(cardAccountID.rawValue)], StoreRows.notification)
    }

    func statementCredits(cardAccountID: CardAccountID, limit: Int) throws -> [StatementCredit] {
        precondition(limit > 0 && limit <= 10_000, "reads are bounded")
        return try session.query("""
            SELECT \(StoreRows.names(StoreRows.statementCreditColumns)) FROM statement_credits
            WHERE card_account_id = $1 ORDER BY earned_at DESC, id DESC LIMIT $2
            """, [.text(cardAccountID.rawValue), SQLValue(limit)], limit: limit, StoreRows.statementCredit)
    }

    func statementCreditLoads(cardAccountID: CardAccountID, limit: Int) throws -> [StatementCreditLoad] {
        precondition(limit > 0 && limit <= 10_000, "reads are bounded")
        return try session.query(StoreColumns.openLoadsOfCardSQL, [.text(cardAccountID.rawValue), SQLValue(limit)], limit: limit, StoreRows.load)
    }

    func issuerKillSwitch() throws -> (on: Bool, reason: String, changedAt: Instant)? {
        try session.queryOne("SELECT enabled, reason, changed_at FROM issuer_switches WHERE name = 'kill_switch'") {
            (try $0.bool(0), try $0.text(1), try $0.instant(2))
        }
    }

    func issuerRiskPolicy() throws -> (policy: RiskPolicy, changedAt: Instant)? {
        try session.queryOne("""
            SELECT daily_spend_cap, max_purchases_per_hour, min_link_age_seconds, changed_at FROM risk_settings WHERE scope = 'issuer'
            """) { (StoreRows.riskPolicy(try $0.int(0), try $0.int(1), try $0.int(2)), try $0.instant(3)) }
    }

    func settlementBatches(merchantID: MerchantID?, limit: Int, startingAfter: SettlementBatchID?) throws -> [SettlementBatch] {
        precondition(limit > 0 && limit <= 10_000, "reads are bounded")
        var values: [SQLValue] = []
        var sql = "SELECT \(StoreRows.names(StoreRows.settlementBatchColumns)) FROM settlement_batches WHERE 1 = 1"
        if let merchantID { values.append(.text(merchantID.rawValue)); sql += " AND merchant_id = $\(values.count)" }
        if let startingAfter {
            values.append(.text(startingAfter.rawValue))
            sql += " AND (day, id) < (SELECT day, id FROM settlement_batches WHERE id = $\(values.count))"
        }
        values.append(SQLValue(limit))
        sql += " ORDER BY day DESC, id DESC LIMIT $\(values.count)"
        return try session.query(sql, values, limit: limit, StoreRows.settlementBatch)
    }

    func settlementBatch(_ id: SettlementBatchID) throws -> SettlementBatch? {
        try session.queryOne("SELECT \(StoreRows.names(StoreRows.settlementBatchColumns)) FROM settlement_batches WHERE id = $1",
                             [.text(id.rawValue)], StoreRows.settlementBatch)
    }

    func payoutAccountSummary(merchantID: MerchantID) throws -> PayoutAccountSummary? {
        try session.queryOne("""
            SELECT payout_routing, payout_kind, payout_last4 FROM merchants WHERE id = $1 AND payout_sealed IS NOT NULL
            """, [.text(merchantID.rawValue)]) { row in
            guard let kind = PayoutAccount.Kind(rawValue: try row.text(1)) else {
                throw StoreError.corruptRecord(table: "merchants", id: merchantID.rawValue, detail: "payout_kind")
            }
            return PayoutAccountSummary(routingNumber: try row.text(0), kind: kind, last4: try row.text(2))
        }
    }

    func payoutFiles(limit: Int) throws -> [PayoutFileRecord] {
        precondition(limit > 0 && limit <= 1_000, "reads are bounded")
        return try session.query("SELECT \(StoreRows.names(StoreRows.payoutFileColumns)) FROM payout_files ORDER BY created_at DESC, id DESC LIMIT $1",
                                 [SQLValue(limit)], limit: limit, StoreRows.payoutFile)
    }

    func payoutFile(_ id: String) throws -> PayoutFileRecord? {
        try session.queryOne("SELECT \(StoreRows.names(StoreRows.payoutFileColumns)) FROM payout_files WHERE id = $1", [.text(id)],
                             StoreRows.payoutFile)
    }

    func salesTaxLiabilities(from: Instant, to: Instant) throws -> [SalesTaxLiability] {
        try session.query("""
            SELECT CASE WHEN code = 'capture' THEN credit_account_id ELSE debit_account_id END,
                CAST(SUM(CASE WHEN code = 'capture' THEN amount ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN code = 'refund_tax' THEN amount ELSE 0 END) AS BIGINT), COUNT(*)
            FROM ledger_transfers
            WHERE created_at >= $1 AND created_at < $2 AND type IN ('single', 'post_pending')
              AND ((code = 'capture' AND credit_account_id LIKE 'tax:%') OR (code = 'refund_tax' AND debit_account_id LIKE 'tax:%'))
            GROUP BY 1 ORDER BY 1
            """, [SQLValue(from), SQLValue(to)], limit: USState.allCases.count) { row in
            let account = try row.text(0)
            let parts = account.split(separator: ":")
            guard parts.count == 3, let state = USState(rawValue: String(parts[1])) else {
                throw StoreError.corruptRecord(table: "ledger_accounts", id: account, detail: "not a state's tax account")
            }
            return SalesTaxLiability(state: state, collected: try row.int(1), refunded: try row.int(2), transferCount: try row.int(3))
        }
    }

    func statementCredit(_ id: StatementCreditID) throws -> StatementCredit? {
        try session.queryOne("SELECT \(StoreRows.names(StoreRows.statementCreditColumns)) FROM statement_credits WHERE id = $1",
                             [.text(id.rawValue)], StoreRows.statementCredit)
    }

    func count(_ table: String) throws -> Int64 {
        precondition(table.allSatisfy { $0.isLetter || $0 == "_" }, "table names are identifiers")
        return try session.queryOne("SELECT COUNT(*) FROM \(table)") { try $0.int(0) } ?? 0
    }

    func latestRecordedAt() throws -> Instant? {
        let latest = try session.queryOne("""
            SELECT MAX(at) FROM (
                SELECT MAX(processed_at) AS at FROM processed_events
                UNION ALL SELECT MAX(created_at) FROM ledger_transfers WHERE code NOT IN ('settlement_batch', 'settlement_payout')
                UNION ALL SELECT MAX(updated_at) FROM orders UNION ALL SELECT MAX(created_at) FROM outbound_posts) AS latest
            """) { try $0.optionalInstant(0) }
        return latest ?? nil
    }

    func schemaOutline() throws -> [String] {
        let columns: [String]
        let indexes: [String]
        switch session.dialect {
        case .sqlite:
            columns = try session.query("""
                SELECT m.name || '.' || c.name FROM sqlite_master m, pragma_table_info(m.name) c
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name != 'grdb_migrations'
                """) { try $0.text(0) }
            indexes = try session.query("""
                SELECT 'index ' || name || ' on ' || tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
                """) { try $0.text(0) }
        case .postgres:
            columns = try session.query("""
                SELECT table_name || '.' || column_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name != 'hashcart_migrations'
                """) { try $0.text(0) }
            // Named indexes only: those PostgreSQL makes for PRIMARY KEY and UNIQUE are SQLite's autoindexes.
            indexes = try session.query("""
                SELECT 'index ' || i.indexname || ' on ' || i.tablename FROM pg_indexes i
                WHERE i.schemaname = current_schema() AND NOT EXISTS (
                    SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace)
                """) { try $0.text(0) }
        }
        // SQLite's rowid is PostgreSQL's merchant_events.seq: the one column only one of them names.
        return (columns + indexes).filter { $0 != "merchant_events.seq" }.sorted()
    }

    func audit(limit: Int, holdsExpiredBefore: Instant?) throws -> [InvariantViolation] {
        let session = session
        let cipher = cipher
        return try StoreAudit(
            query: { sql, parameters in
                try session.query(sql, parameters.map(SQLValue.text)) { row in (0..<row.columnCount).map(row.auditValue) }
            },
            sensitiveData: { cardIDs in
                guard !cardIDs.isEmpty else { return [:] }
                let ids = SQLValue.texts(cardIDs.map(\.rawValue))
                // Available credit: the credit line's posted credits less its debits.
                let lines = Dictionary(try session.query("""
                    SELECT c.id, a.credits_posted - a.debits_posted - a.debits_pending FROM card_accounts c
                    LEFT JOIN ledger_accounts a ON a.id = 'card:' || c.id || ':credit_line' WHERE c.id \(session.dialect.any(1))
                    """, [ids]) { (CardAccountID(try $0.text(0)), try $0.optionalInt(1) ?? 0) }, uniquingKeysWith: { first, _ in first })
                var found: [CardAccountID: SensitiveData] = [:]
                for card in try session.query("SELECT \(StoreRows.cardAccountColumns) FROM card_accounts WHERE id \(session.dialect.any(1))", [ids], {
                    try StoreRows.cardAccount($0, cipher: cipher)
                }) {
                    found[card.id] = SensitiveData(cardLast4: card.cardLast4, billing: card.billing, creditLimit: card.creditLimit,
                                                   availableCredit: .usd(lines[card.id] ?? 0))
                }
                return found
            },
            limit: limit, holdsExpiredBefore: holdsExpiredBefore
        ).run()
    }
}
