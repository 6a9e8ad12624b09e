import Foundation
import HashcartCore
import PostgresNIO

/// Read-only queries on a PostgreSQL snapshot (REPEATABLE READ, READ ONLY): reports, the funnel,
/// and the audit behind `hashcart check`.
struct PostgresReader: StoreReader {
    let session: PostgresSession
    let cipher: AddressCipher

    /// Row-level reads shared with write transactions (card accounts, ledger accounts).
    private var rows: PostgresTransaction {
        PostgresTransaction(session: session, cipher: cipher, cardCache: CardAccountCache(capacity: 1))
    }

    /// `sql` for a newest-first page after `startingAfter` (whose `(created_at, id)` bounds it).
    private func page(_ base: String, table: String, timeColumn: String, values: inout [any PostgresBindable],
                      startingAfter: String?, limit: Int) -> String {
        var sql = base
        if let startingAfter {
            values.append(startingAfter)
            sql += " AND (\(timeColumn), id) < (SELECT \(timeColumn), id FROM \(table) WHERE id = $\(values.count))"
        }
        values.append(limit)
        return sql + " ORDER BY \(timeColumn) DESC, id DESC LIMIT $\(values.count)"
    }

    func offers() throws -> [Offer] {
        try session.query("SELECT \(StoreColumns.offer) FROM offers ORDER BY created_at, id").map(PostgresRows.offer)
    }

    func offers(merchantID: MerchantID, limit: Int, startingAfter: OfferID?) throws -> [Offer] {
        var values: [any PostgresBindable] = [merchantID.rawValue]
        let sql = page("SELECT \(StoreColumns.offer) FROM offers WHERE merchant_id = $1", table: "offers", timeColumn: "created_at",
                       values: &values, startingAfter: startingAfter?.rawValue, limit: limit)
        return try session.query(sql, values).map(PostgresRows.offer)
    }

    func orders(merchantID: MerchantID, offerID: OfferID?, status: OrderStatus?, limit: Int, startingAfter: OrderID?) throws -> [Order] {
        var values: [any PostgresBindable] = [merchantID.rawValue]
        var base = "SELECT \(StoreColumns.order) FROM orders WHERE merchant_id = $1"
        if let offerID { values.append(offerID.rawValue); base += " AND offer_id = $\(values.count)" }
        if let status { values.append(status.rawValue); base += " AND status = $\(values.count)" }
        let sql = page(base, table: "orders", timeColumn: "created_at", values: &values, startingAfter: startingAfter?.rawValue, limit: limit)
        return try session.query(sql, values).map(PostgresRows.order)
    }

    func offer(_ id: OfferID) throws -> Offer? {
        try session.query("SELECT \(StoreColumns.offer) FROM offers WHERE id = $1", [id.rawValue]).first.map(PostgresRows.offer)
    }

    func merchant(_ id: MerchantID) throws -> Merchant? {
        try session.query("SELECT id, name, discount_bps, created_at FROM merchants WHERE id = $1", [id.rawValue]).first.map { raw in
            let row = PostgresRowReader(row: raw, table: "merchants")
            return Merchant(id: id, name: try row.text(1), discountRateBasisPoints: try row.int(2), createdAt: try row.instant(3))
        }
    }

    func order(_ id: OrderID) throws -> Order? {
        try session.query("SELECT \(StoreColumns.order) FROM orders WHERE id = $1", [id.rawValue]).first.map(PostgresRows.order)
    }

    func links(cardAccountID: CardAccountID) throws -> [Link] {
        try session.query("SELECT \(StoreColumns.link) FROM links WHERE card_account_id = $1 AND unlinked_at IS NULL ORDER BY created_at, id",
                          [cardAccountID.rawValue]).map(PostgresRows.link)
    }

    func link(_ id: LinkID) throws -> Link? {
        try session.query("SELECT \(StoreColumns.link) FROM links WHERE id = $1", [id.rawValue]).first.map(PostgresRows.link)
    }

    func purchases(cardAccountID: CardAccountID, limit: Int, startingAfter: PurchaseID?) throws -> [Purchase] {
        var values: [any PostgresBindable] = [cardAccountID.rawValue]
        let sql = page("SELECT \(StoreColumns.purchase) FROM purchases WHERE card_account_id = $1", table: "purchases",
                       timeColumn: "requested_at", values: &values, startingAfter: startingAfter?.rawValue, limit: limit)
        return try session.query(sql, values).map(PostgresRows.purchase)
    }

    func funnel(offer: OfferID) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for raw in try session.query("SELECT metric, value FROM funnel WHERE offer_id = $1", [offer.rawValue]) {
            let row = PostgresRowReader(row: raw, table: "funnel")
            result[try row.text(0)] = try row.int(1)
        }
        return result
    }

    func funnelSeries(offer: OfferID, limit: Int) throws -> [FunnelPoint] {
        try session.query("SELECT minute, metric, value FROM funnel_minutes WHERE offer_id = $1 ORDER BY minute, metric LIMIT $2",
                          [offer.rawValue, limit]).map { raw in
            let row = PostgresRowReader(row: raw, table: "funnel_minutes")
            return FunnelPoint(minute: try row.int(0), metric: try row.text(1), value: try row.int(2))
        }
    }

    func timesToConfirm(offer: OfferID) throws -> [Int64] {
        try session.query("SELECT confirmed_at - requested_at FROM purchases WHERE offer_id = $1 AND confirmed_at IS NOT NULL ORDER BY 1",
                          [offer.rawValue]).map { try PostgresRowReader(row: $0, table: "purchases").int(0) }
    }

    func purchaseCounts(offer: OfferID) throws -> [PurchaseState: Int64] {
        var result: [PurchaseState: Int64] = [:]
        for raw in try session.query("SELECT state, COUNT(*) FROM purchases WHERE offer_id = $1 GROUP BY state", [offer.rawValue]) {
            let row = PostgresRowReader(row: raw, table: "purchases")
            if let state = PurchaseState(rawValue: try row.text(0)) { result[state] = try row.int(1) }
        }
        return result
    }

    func purchase(_ id: PurchaseID) throws -> Purchase? {
        try session.query("SELECT \(StoreColumns.purchase) FROM purchases WHERE id = $1", [id.rawValue]).first.map(PostgresRows.purchase)
    }

    func purchases(limit: Int) throws -> [Purchase] {
        try session.query("SELECT \(StoreColumns.purchase) FROM purchases ORDER BY requested_at, id LIMIT $1", [limit]).map(PostgresRows.purchase)
    }

    func orders(limit: Int) throws -> [Order] {
        try session.query("SELECT \(StoreColumns.order) FROM orders ORDER BY created_at, id LIMIT $1", [limit]).map(PostgresRows.order)
    }

    func ledgerAccounts() throws -> [LedgerAccount] {
        try session.query("SELECT \(PostgresRows.ledgerAccountColumns) FROM ledger_accounts ORDER BY id").map(PostgresRows.ledgerAccount)
    }

    func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount? {
        try rows.ledgerAccount(id)
    }

    func cardAccount(_ id: CardAccountID) throws -> CardAccount? {
        try rows.cardAccount(id)
    }

    func outboundPosts(limit: Int) throws -> [OutboundPost] {
        try session.query("SELECT \(StoreColumns.outbound) FROM outbound_posts ORDER BY created_at, key LIMIT $1", [limit]).map(PostgresRows.outbound)
    }

    func merchantEventCounts() throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for raw in try session.query("SELECT type, COUNT(*) FROM merchant_events GROUP BY type") {
            let row = PostgresRowReader(row: raw, table: "merchant_events")
            result[try row.text(0)] = try row.int(1)
        }
        return result
    }

    func notifications(cardAccountID: CardAccountID) throws -> [CardholderNotification] {
        try session.query("""
            SELECT id, card_account_id, purchase_id, kind, message, created_at FROM cardholder_notifications
            WHERE card_account_id = $1 ORDER BY created_at, id
            """, [cardAccountID.rawValue]).map(PostgresRows.notification)
    }

    func count(_ table: String) throws -> Int64 {
        precondition(table.allSatisfy { $0.isLetter || $0 == "_" }, "table names are identifiers")
        return try PostgresRowReader(row: try session.query("SELECT COUNT(*) FROM \(table)")[0], table: table).int(0)
    }

    func audit(limit: Int, holdsExpiredBefore: Instant?) throws -> [InvariantViolation] {
        try StoreAudit(
            query: { sql, parameters in
                try session.query(sql, parameters).map { raw in
                    (0..<raw.count).map { index -> AuditValue in
                        let cell = raw[index]
                        guard cell.bytes != nil else { return .null }
                        if let value = try? cell.decode(Int64.self) { return .int(value) }
                        if let value = try? cell.decode(String.self) { return .text(value) }
                        return .null
                    }
                }
            },
            sensitiveData: { cardIDs in
                guard !cardIDs.isEmpty else { return [:] }
                let ids = cardIDs.map(\.rawValue)
                var lines: [CardAccountID: Int64] = [:]  // available credit
                for raw in try session.query("""
                    SELECT c.id, a.credits_posted - a.debits_posted - a.debits_pending FROM card_accounts c
                    LEFT JOIN ledger_accounts a ON a.id = 'card:' || c.id || ':credit_line' WHERE c.id = ANY($1::text[])
                    """, [ids]) {
                    let row = PostgresRowReader(row: raw, table: "ledger_accounts")
                    let available: Int64 = try row.optionalInt(1) ?? 0
                    lines[CardAccountID(try row.text(0))] = available
                }
                var found: [CardAccountID: SensitiveData] = [:]
                for raw in try session.query("SELECT id, credit_limit, billing_sealed, created_at FROM card_accounts WHERE id = ANY($1::text[])", [ids]) {
                    let card = try PostgresTransaction.cardAccount(raw, cipher: cipher)
                    let available: Int64 = lines[card.id] ?? 0
                    found[card.id] = SensitiveData(cardLast4: card.cardLast4, billing: card.billing, creditLimit: card.creditLimit,
                                                   availableCredit: .usd(available))
                }
                return found
            },
            limit: limit, holdsExpiredBefore: holdsExpiredBefore
        ).run()
    }
}
