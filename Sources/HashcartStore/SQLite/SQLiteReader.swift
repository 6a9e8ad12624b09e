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

    public func offer(_ id: OfferID) throws -> Offer? {
        try Row.fetchOne(db, sql: "SELECT \(SQLiteTransaction.offerColumns) FROM offers WHERE id = ?", arguments: [id.rawValue])
            .map(SQLiteTransaction.offer(from:))
    }

    public func merchant(_ id: MerchantID) throws -> Merchant? {
        try Row.fetchOne(db, sql: "SELECT id, name, discount_bps, created_at FROM merchants WHERE id = ?", arguments: [id.rawValue]).map { row in
            Merchant(id: MerchantID(row[0] as String), name: row[1], discountRateBasisPoints: row[2], createdAt: Instant(millisecondsSinceEpoch: row[3]))
        }
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

    public func audit(limit: Int, holdsExpiredBefore: Instant?) throws -> [InvariantViolation] {
        let transaction = SQLiteTransaction(db: db, cipher: cipher)
        return try StoreAudit(
            query: { sql, parameters in
                try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(parameters)).map { row in
                    (0..<row.count).map { index -> AuditValue in
                        switch row[index] as DatabaseValue {
                        case let value where value.isNull: .null
                        case let value: (Int64.fromDatabaseValue(value)).map(AuditValue.int) ?? .text(String.fromDatabaseValue(value) ?? "")
                        }
                    }
                }
            },
            sensitiveData: { cardIDs in
                var found: [CardAccountID: SensitiveData] = [:]
                for cardID in cardIDs {
                    guard let card = try transaction.cardAccount(cardID) else { continue }
                    let line = try transaction.ledgerAccount(LedgerAccounts.creditLine(cardID).id)
                    found[cardID] = SensitiveData(cardLast4: card.cardLast4, billing: card.billing, creditLimit: card.creditLimit,
                                                  availableCredit: .usd(line?.availableCredit ?? 0))
                }
                return found
            },
            limit: limit, holdsExpiredBefore: holdsExpiredBefore
        ).run()
    }
}
