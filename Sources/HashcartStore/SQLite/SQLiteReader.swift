import Foundation
import GRDB
import HashcartCore

/// Read-only queries over a consistent snapshot: reports, the funnel, and the audit behind
/// `hashcart check`.
public struct SQLiteReader: StoreReader {
    let db: Database
    let cipher: AddressCipher

    public func offers() throws -> [Offer] {
        try Row.fetchAll(db, sql: "SELECT \(SQLiteTransaction.offerColumns) FROM offers ORDER BY created_at, id")
            .map(SQLiteTransaction.offer(from:))
    }

    /// A merchant's offers, newest first, after `startingAfter` (an offer id), at most `limit`.
    public func offers(merchantID: MerchantID, limit: Int, startingAfter: OfferID?) throws -> [Offer] {
        var sql = "SELECT \(SQLiteTransaction.offerColumns) FROM offers WHERE merchant_id = ?"
        var arguments: StatementArguments = [merchantID.rawValue]
        if let startingAfter {
            sql += " AND (created_at, id) < (SELECT created_at, id FROM offers WHERE id = ?)"
            arguments += [startingAfter.rawValue]
        }
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        arguments += [limit]
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(SQLiteTransaction.offer(from:))
    }

    /// A merchant's orders, newest first, optionally of one offer and one status.
    public func orders(merchantID: MerchantID, offerID: OfferID?, status: OrderStatus?, limit: Int, startingAfter: OrderID?) throws -> [Order] {
        var sql = "SELECT \(SQLiteTransaction.orderColumns) FROM orders WHERE merchant_id = ?"
        var arguments: StatementArguments = [merchantID.rawValue]
        if let offerID { sql += " AND offer_id = ?"; arguments += [offerID.rawValue] }
        if let status { sql += " AND status = ?"; arguments += [status.rawValue] }
        if let startingAfter {
            sql += " AND (created_at, id) < (SELECT created_at, id FROM orders WHERE id = ?)"
            arguments += [startingAfter.rawValue]
        }
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        arguments += [limit]
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(SQLiteTransaction.order(from:))
    }

    public func order(_ id: OrderID) throws -> Order? {
        try Row.fetchOne(db, sql: "SELECT \(SQLiteTransaction.orderColumns) FROM orders WHERE id = ?", arguments: [id.rawValue])
            .map(SQLiteTransaction.order(from:))
    }

    public func links(cardAccountID: CardAccountID) throws -> [Link] {
        try Row.fetchAll(db, sql: "SELECT \(SQLiteTransaction.linkColumns) FROM links WHERE card_account_id = ? AND unlinked_at IS NULL ORDER BY created_at, id",
                         arguments: [cardAccountID.rawValue]).map(SQLiteTransaction.link(from:))
    }

    public func link(_ id: LinkID) throws -> Link? {
        try Row.fetchOne(db, sql: "SELECT \(SQLiteTransaction.linkColumns) FROM links WHERE id = ?", arguments: [id.rawValue])
            .map(SQLiteTransaction.link(from:))
    }

    /// A cardholder's purchases, newest first, after `startingAfter` (a purchase id), at most `limit`.
    public func purchases(cardAccountID: CardAccountID, limit: Int, startingAfter: PurchaseID?) throws -> [Purchase] {
        var sql = "SELECT \(SQLiteTransaction.purchaseColumns) FROM purchases WHERE card_account_id = ?"
        var arguments: StatementArguments = [cardAccountID.rawValue]
        if let startingAfter {
            sql += " AND (requested_at, id) < (SELECT requested_at, id FROM purchases WHERE id = ?)"
            arguments += [startingAfter.rawValue]
        }
        sql += " ORDER BY requested_at DESC, id DESC LIMIT ?"
        arguments += [limit]
        return try db.fetchRaw(sql, arguments, limit: limit, SQLiteTransaction.purchase(from:))
    }

    /// Every funnel counter of an offer, by metric name (`declined.<reason>` per decline reason).
    public func funnel(offer: OfferID) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT metric, value FROM funnel WHERE offer_id = ?", arguments: [offer.rawValue]) {
            result[row[0]] = row[1]
        }
        return result
    }

    /// An offer's funnel per minute: (unix minute, metric, value), oldest first, at most `limit` rows.
    public func funnelSeries(offer: OfferID, limit: Int) throws -> [FunnelPoint] {
        try Row.fetchAll(db, sql: "SELECT minute, metric, value FROM funnel_minutes WHERE offer_id = ? ORDER BY minute, metric LIMIT ?",
                         arguments: [offer.rawValue, limit]).map { FunnelPoint(minute: $0[0], metric: $0[1], value: $0[2]) }
    }

    /// Milliseconds from each purchase request to its confirmation, for an offer.
    public func timesToConfirm(offer: OfferID) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT confirmed_at - requested_at FROM purchases WHERE offer_id = ? AND confirmed_at IS NOT NULL ORDER BY 1",
                           arguments: [offer.rawValue])
    }

    public func purchaseCounts(offer: OfferID) throws -> [PurchaseState: Int64] {
        var result: [PurchaseState: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM purchases WHERE offer_id = ? GROUP BY state", arguments: [offer.rawValue]) {
            if let state = PurchaseState(rawValue: row[0]) { result[state] = row[1] }
        }
        return result
    }

    public func purchase(_ id: PurchaseID) throws -> Purchase? {
        try db.fetchFirstRaw("SELECT \(SQLiteTransaction.purchaseColumns) FROM purchases WHERE id = ?", [id.rawValue],
                             SQLiteTransaction.purchase(from:))
    }

    public func purchases(limit: Int) throws -> [Purchase] {
        try db.fetchRaw("SELECT \(SQLiteTransaction.purchaseColumns) FROM purchases ORDER BY requested_at, id LIMIT ?", [limit],
                        limit: limit, SQLiteTransaction.purchase(from:))
    }

    public func orders(limit: Int) throws -> [Order] {
        try Row.fetchAll(db, sql: "SELECT \(SQLiteTransaction.orderColumns) FROM orders ORDER BY created_at, id LIMIT ?", arguments: [limit])
            .map(SQLiteTransaction.order(from:))
    }

    public func ledgerAccounts() throws -> [LedgerAccount] {
        try Row.fetchAll(db, sql: "SELECT id FROM ledger_accounts ORDER BY id").compactMap { row in
            try SQLiteTransaction(db: db, cipher: cipher).ledgerAccount(LedgerAccountID(row[0] as String))
        }
    }

    public func ledgerAccount(_ id: LedgerAccountID) throws -> LedgerAccount? {
        try SQLiteTransaction(db: db, cipher: cipher).ledgerAccount(id)
    }

    public func cardAccount(_ id: CardAccountID) throws -> CardAccount? {
        try SQLiteTransaction(db: db, cipher: cipher).cardAccount(id)
    }

    public func outboundPosts(limit: Int) throws -> [OutboundPost] {
        try Row.fetchAll(db, sql: "SELECT \(SQLiteTransaction.outboundColumns) FROM outbound_posts ORDER BY created_at, key LIMIT ?", arguments: [limit])
            .map(SQLiteTransaction.outbound(from:))
    }

    public func merchantEventCounts() throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT type, COUNT(*) FROM merchant_events GROUP BY type") { result[row[0]] = row[1] }
        return result
    }

    public func notifications(cardAccountID: CardAccountID) throws -> [CardholderNotification] {
        try Row.fetchAll(db, sql: "SELECT id, card_account_id, purchase_id, kind, message, created_at FROM cardholder_notifications WHERE card_account_id = ? ORDER BY created_at, id",
                         arguments: [cardAccountID.rawValue]).map { row in
            CardholderNotification(id: row[0], cardAccountID: CardAccountID(row[1] as String),
                                   purchaseID: (row[2] as String?).map(PurchaseID.init(rawValue:)), kind: row[3], message: row[4],
                                   createdAt: Instant(millisecondsSinceEpoch: row[5]))
        }
    }

    public func count(_ table: String) throws -> Int64 {
        precondition(table.allSatisfy { $0.isLetter || $0 == "_" }, "table names are identifiers")
        return try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
    }

    /// Every violation of PRODUCT.md's "Rules that are never broken" that the stored data shows.
    /// At most `limit` are returned per rule.
    public func audit(limit: Int) throws -> [InvariantViolation] {
        var found: [InvariantViolation] = []
        func rows(_ sql: String, _ arguments: StatementArguments = []) throws -> [Row] {
            try Row.fetchAll(db, sql: sql + " LIMIT \(limit)", arguments: arguments)
        }

        // Money: debits equal credits, pending and posted.
        let totals = try Row.fetchOne(db, sql: """
            SELECT COALESCE(SUM(debits_posted), 0), COALESCE(SUM(credits_posted), 0),
                   COALESCE(SUM(debits_pending), 0), COALESCE(SUM(credits_pending), 0) FROM ledger_accounts
            """)!
        if (totals[0] as Int64) != (totals[1] as Int64) {
            found.append(.init(rule: "ledger.balanced", subject: "ledger", detail: "posted debits \(totals[0] as Int64) ≠ posted credits \(totals[1] as Int64)"))
        }
        if (totals[2] as Int64) != (totals[3] as Int64) {
            found.append(.init(rule: "ledger.balanced", subject: "ledger", detail: "pending debits \(totals[2] as Int64) ≠ pending credits \(totals[3] as Int64)"))
        }
        // Every account inside its bounds (no cardholder over the credit limit).
        for row in try rows("""
            SELECT id, debits_pending, debits_posted, credits_posted FROM ledger_accounts
            WHERE (flags & 1) != 0 AND debits_pending + debits_posted > credits_posted
            """) {
            found.append(.init(rule: "ledger.credit_limit", subject: row[0], detail: "debits \((row[1] as Int64) + (row[2] as Int64)) exceed credits \(row[3] as Int64)"))
        }
        // Account totals are exactly what the immutable transfers say.
        for row in try rows("""
            WITH moves AS (
                SELECT t.debit_account_id AS account, t.amount AS dp, 0 AS dq, 0 AS cp, 0 AS cq FROM ledger_transfers t
                    WHERE t.type IN ('single', 'post_pending')
                UNION ALL SELECT t.credit_account_id, 0, 0, t.amount, 0 FROM ledger_transfers t
                    WHERE t.type IN ('single', 'post_pending')
                UNION ALL SELECT t.debit_account_id, 0, t.amount, 0, 0 FROM ledger_transfers t
                    WHERE t.pending_status = 'pending'
                UNION ALL SELECT t.credit_account_id, 0, 0, 0, t.amount FROM ledger_transfers t
                    WHERE t.pending_status = 'pending'),
            sums AS (SELECT account, SUM(dp) dp, SUM(dq) dq, SUM(cp) cp, SUM(cq) cq FROM moves GROUP BY account)
            SELECT a.id, a.debits_posted, COALESCE(s.dp, 0), a.debits_pending, COALESCE(s.dq, 0),
                   a.credits_posted, COALESCE(s.cp, 0), a.credits_pending, COALESCE(s.cq, 0)
            FROM ledger_accounts a LEFT JOIN sums s ON s.account = a.id
            WHERE a.debits_posted != COALESCE(s.dp, 0) OR a.debits_pending != COALESCE(s.dq, 0)
               OR a.credits_posted != COALESCE(s.cp, 0) OR a.credits_pending != COALESCE(s.cq, 0)
            """) {
            found.append(.init(rule: "ledger.totals_match_transfers", subject: row[0],
                               detail: "stored totals differ from the sum of its transfers"))
        }
        // Each credit line holds exactly its card account's limit.
        for row in try rows("""
            WITH refunds AS (
                SELECT credit_account_id AS account, SUM(amount) AS total FROM ledger_transfers
                WHERE code IN ('refund_principal', 'refund_tax', 'refund_fee') GROUP BY credit_account_id)
            SELECT c.id, c.credit_limit, a.credits_posted FROM card_accounts c
            LEFT JOIN ledger_accounts a ON a.id = 'card:' || c.id || ':credit_line'
            LEFT JOIN refunds r ON r.account = a.id
            WHERE a.credits_posted IS NULL OR a.credits_posted != c.credit_limit + COALESCE(r.total, 0)
            """) {
            found.append(.init(rule: "ledger.credit_line_matches_limit", subject: row[0], detail: "limit \(row[1] as Int64), credit line \(row[2] as Int64? ?? -1)"))
        }
        // No unit sold twice or oversold; counters match the purchases and orders behind them.
        for row in try rows("""
            SELECT o.id, o.quantity, o.reserved_units, o.sold_units,
                (SELECT COUNT(*) FROM purchases p WHERE p.offer_id = o.id AND p.state IN ('requested', 'awaiting_confirmation')),
                (SELECT COUNT(*) FROM orders r WHERE r.offer_id = o.id AND r.status != 'cancelled')
            FROM offers o
            WHERE (o.quantity IS NOT NULL AND o.reserved_units + o.sold_units > o.quantity)
               OR o.reserved_units != (SELECT COUNT(*) FROM purchases p WHERE p.offer_id = o.id AND p.state IN ('requested', 'awaiting_confirmation'))
               OR o.sold_units != (SELECT COUNT(*) FROM orders r WHERE r.offer_id = o.id AND r.status != 'cancelled')
            """) {
            found.append(.init(rule: "stock.not_oversold", subject: row[0],
                               detail: "quantity \(row[1] as Int64? ?? -1), reserved \(row[2] as Int64) (purchases say \(row[4] as Int64)), sold \(row[3] as Int64) (orders say \(row[5] as Int64))"))
        }
        // Every authorized purchase has one order; every order a purchase that got that far.
        for row in try rows("""
            SELECT p.id, p.state FROM purchases p LEFT JOIN orders o ON o.purchase_id = p.id
            WHERE (p.state IN ('authorized', 'captured') AND o.id IS NULL)
               OR (o.id IS NOT NULL AND p.authorized_at IS NULL)
            """) {
            found.append(.init(rule: "orders.match_purchases", subject: row[0], detail: "purchase \(row[1] as String) and its order disagree"))
        }
        // At most one capture per order, of exactly its total; captured iff its holds are posted.
        for row in try rows("""
            WITH counts AS (
                SELECT o.id AS id, o.captured AS captured, o.total AS total,
                    (SELECT COUNT(*) FROM ledger_transfers t WHERE t.subject = o.purchase_id AND t.type = 'post_pending') AS posts,
                    (SELECT COUNT(*) FROM ledger_transfers t WHERE t.subject = o.purchase_id AND t.type = 'pending') AS holds
                FROM orders o)
            SELECT id, captured, total, posts, holds FROM counts
            WHERE (captured != 0 AND captured != total) OR ((captured = 0) != (posts = 0)) OR posts > holds
            """) {
            found.append(.init(rule: "capture.at_most_once", subject: row[0],
                               detail: "captured \(row[1] as Int64) of \(row[2] as Int64); \(row[3] as Int64) posts of \(row[4] as Int64) holds"))
        }
        // Refunds never exceed what was captured, and match their transfers.
        for row in try rows("""
            WITH sums AS (
                SELECT o.id AS id, o.refunded AS refunded, o.captured AS captured,
                    (SELECT COALESCE(SUM(t.amount), 0) FROM ledger_transfers t
                     WHERE t.subject = o.id AND t.code IN ('refund_principal', 'refund_tax', 'refund_fee')) AS transferred
                FROM orders o)
            SELECT id, refunded, captured, transferred FROM sums WHERE refunded > captured OR refunded != transferred
            """) {
            found.append(.init(rule: "refunds.within_capture", subject: row[0],
                               detail: "refunded \(row[1] as Int64), captured \(row[2] as Int64), refund transfers \(row[3] as Int64)"))
        }
        // Privacy: nothing sent to a network reveals card, address, name, limit or balance.
        let transaction = SQLiteTransaction(db: db, cipher: cipher)
        var sensitiveByCard: [CardAccountID: SensitiveData] = [:]
        let posts = try Row.fetchCursor(db, sql: "SELECT key, text, card_account_id FROM outbound_posts")
        var privacyCount = 0
        while let row = try posts.next(), privacyCount < limit {
            var sensitive: SensitiveData?
            if let cardID = (row[2] as String?).map(CardAccountID.init(rawValue:)) {
                if let cached = sensitiveByCard[cardID] {
                    sensitive = cached
                } else if let card = try transaction.cardAccount(cardID) {
                    let line = try transaction.ledgerAccount(LedgerAccounts.creditLine(cardID).id)
                    let data = SensitiveData(cardLast4: card.cardLast4, billing: card.billing, creditLimit: card.creditLimit,
                                             availableCredit: .usd(line?.availableCredit ?? 0))
                    sensitiveByCard[cardID] = data
                    sensitive = data
                }
            }
            let violations = PrivacyGuard.violations(in: row[1], sensitive: sensitive)
                .filter { $0 != .balance }  // the balance moves after posting; checked when posted
            if !violations.isEmpty {
                privacyCount += 1
                found.append(.init(rule: "privacy.outbound_post", subject: row[0], detail: violations.map(\.rawValue).joined(separator: ", ")))
            }
        }
        return found
    }
}
