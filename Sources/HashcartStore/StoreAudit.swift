import HashcartCore

/// The audit behind `hashcart check`: every violation of PRODUCT.md's "Rules that are never
/// broken" that the stored data shows. The rules are written once, in SQL both SQLite and
/// PostgreSQL run unchanged; each store supplies how to run a query and read a card.
struct StoreAudit {
    /// One row of a rule's query, read by position.
    typealias Row = [AuditValue]

    /// Runs a query (already carrying its LIMIT) with text parameters `$1`, `$2`, … and returns its rows.
    let query: (String, [String]) throws -> [Row]
    /// Card accounts' private data and credit lines, for the privacy rule (a page of cards at a time).
    let sensitiveData: ([CardAccountID]) throws -> [CardAccountID: SensitiveData]
    let limit: Int
    /// Holds still pending with a timeout before this are reported (nil: not checked).
    var holdsExpiredBefore: Instant?

    func run() throws -> [InvariantViolation] {
        var found: [InvariantViolation] = []
        func rows(_ sql: String) throws -> [Row] { try query(sql + " LIMIT \(limit)", []) }

        // Money: debits equal credits, pending and posted.
        let totals = try query("""
            SELECT CAST(COALESCE(SUM(debits_posted), 0) AS BIGINT), CAST(COALESCE(SUM(credits_posted), 0) AS BIGINT),
                   CAST(COALESCE(SUM(debits_pending), 0) AS BIGINT), CAST(COALESCE(SUM(credits_pending), 0) AS BIGINT) FROM ledger_accounts
            """, [])[0]
        if totals[0].int != totals[1].int {
            found.append(.init(rule: "ledger.balanced", subject: "ledger", detail: "posted debits \(totals[0].int) ≠ posted credits \(totals[1].int)"))
        }
        if totals[2].int != totals[3].int {
            found.append(.init(rule: "ledger.balanced", subject: "ledger", detail: "pending debits \(totals[2].int) ≠ pending credits \(totals[3].int)"))
        }
        // Statement-credit expense only passes money through: what is posted in is posted out.
        for row in try rows("""
            SELECT id, CAST(debits_posted AS BIGINT), CAST(credits_posted AS BIGINT) FROM ledger_accounts
            WHERE code = '\(LedgerAccountCode.statementCreditExpense.rawValue)' AND debits_posted <> credits_posted ORDER BY id
            """) {
            found.append(.init(rule: "ledger.clearing_nets_to_zero", subject: row[0].text,
                               detail: "posted debits \(row[1].int) ≠ posted credits \(row[2].int)"))
        }
        found += try settlementViolations(rows)
        // No hold outlives its timeout: the engine's timers void lapsed holds.
        if let holdsExpiredBefore {
            for row in try query("""
                SELECT id, CAST(timeout_at AS BIGINT), CAST(amount AS BIGINT) FROM ledger_transfers
                WHERE type = 'pending' AND pending_status = 'pending' AND timeout_at IS NOT NULL AND timeout_at < CAST($1 AS BIGINT)
                ORDER BY timeout_at, id LIMIT \(limit)
                """, [String(holdsExpiredBefore.millisecondsSinceEpoch)]) {
                found.append(.init(rule: "ledger.hold_outlived_timeout", subject: row[0].text,
                                   detail: "a hold of \(row[2].int) still pending after its timeout at \(row[1].int) ms"))
            }
        }
        // Every account inside its bounds (no cardholder over the credit limit).
        for row in try rows("""
            SELECT id, debits_pending, debits_posted, credits_posted FROM ledger_accounts
            WHERE (flags & 1) != 0 AND debits_pending + debits_posted > credits_posted
            """) {
            found.append(.init(rule: "ledger.credit_limit", subject: row[0].text, detail: "debits \(row[1].int + row[2].int) exceed credits \(row[3].int)"))
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
            SELECT a.id FROM ledger_accounts a LEFT JOIN sums s ON s.account = a.id
            WHERE a.debits_posted != COALESCE(s.dp, 0) OR a.debits_pending != COALESCE(s.dq, 0)
               OR a.credits_posted != COALESCE(s.cp, 0) OR a.credits_pending != COALESCE(s.cq, 0)
            """) {
            found.append(.init(rule: "ledger.totals_match_transfers", subject: row[0].text,
                               detail: "stored totals differ from the sum of its transfers"))
        }
        // Each credit line holds exactly its card account's limit (raises credited, cuts
        // debited), plus what refunds and statement credits gave back.
        for row in try rows("""
            WITH refunds AS (
                SELECT credit_account_id AS account, SUM(amount) AS total FROM ledger_transfers
                WHERE code IN ('refund_principal', 'refund_tax', 'refund_fee', 'statement_credit') GROUP BY credit_account_id),
            cuts AS (
                SELECT debit_account_id AS account, SUM(amount) AS total FROM ledger_transfers
                WHERE code = 'credit_limit_decrease' GROUP BY debit_account_id)
            SELECT c.id, c.credit_limit, a.credits_posted - COALESCE(k.total, 0) FROM card_accounts c
            LEFT JOIN ledger_accounts a ON a.id = 'card:' || c.id || ':credit_line'
            LEFT JOIN refunds r ON r.account = a.id
            LEFT JOIN cuts k ON k.account = a.id
            WHERE a.credits_posted IS NULL OR a.credits_posted - COALESCE(k.total, 0) != c.credit_limit + COALESCE(r.total, 0)
            """) {
            found.append(.init(rule: "ledger.credit_line_matches_limit", subject: row[0].text,
                               detail: "limit \(row[1].int), credit line \(row[2].optionalInt ?? -1)"))
        }
        // A closed card account's credit line is closed too (so it takes no new holds), and
        // an open one's is open.
        for row in try rows("""
            SELECT c.id FROM card_accounts c JOIN ledger_accounts a ON a.id = 'card:' || c.id || ':credit_line'
            WHERE (c.closed_at IS NULL) = ((a.flags & 4) != 0)
            """) {
            found.append(.init(rule: "ledger.closed_card_line_closed", subject: row[0].text,
                               detail: "the card account and its credit line disagree on whether it is closed"))
        }
        // No unit sold twice or oversold; counters match the units of the purchases and orders behind them.
        for row in try rows("""
            WITH counted AS (
                SELECT o.id, o.quantity, o.reserved_units, o.sold_units,
                    (SELECT COALESCE(SUM(p.units), 0) FROM purchases p
                     WHERE p.offer_id = o.id AND p.state IN ('requested', 'awaiting_confirmation')) AS held,
                    (SELECT COALESCE(SUM(r.units), 0) FROM orders r WHERE r.offer_id = o.id AND r.status != 'cancelled') AS sold
                FROM offers o)
            SELECT id, quantity, reserved_units, sold_units, CAST(held AS BIGINT), CAST(sold AS BIGINT) FROM counted
            WHERE (quantity IS NOT NULL AND reserved_units + sold_units > quantity) OR reserved_units != held OR sold_units != sold
            """) {
            found.append(.init(rule: "stock.not_oversold", subject: row[0].text,
                               detail: "quantity \(row[1].optionalInt ?? -1), reserved \(row[2].int) (purchases say \(row[4].int)), sold \(row[3].int) (orders say \(row[5].int))"))
        }
        // Every authorized purchase has one order; every order a purchase that got that far.
        for row in try rows("""
            SELECT p.id, p.state FROM purchases p LEFT JOIN orders o ON o.purchase_id = p.id
            WHERE (p.state IN ('authorized', 'captured') AND o.id IS NULL)
               OR (o.id IS NOT NULL AND p.authorized_at IS NULL)
            """) {
            found.append(.init(rule: "orders.match_purchases", subject: row[0].text, detail: "purchase \(row[1].text) and its order disagree"))
        }
        // A purchase waiting in a waitlist holds nothing: no confirmation post, no money, no order.
        for row in try rows("""
            SELECT p.id FROM purchases p
            WHERE p.state = 'waitlisted' AND (p.confirmation_post_id IS NOT NULL OR p.confirmed_at IS NOT NULL
                OR EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.subject = p.id)
                OR EXISTS (SELECT 1 FROM orders o WHERE o.purchase_id = p.id))
            """) {
            found.append(.init(rule: "waitlist.holds_nothing", subject: row[0].text, detail: "a waitlisted purchase has a confirmation, a transfer or an order"))
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
            found.append(.init(rule: "capture.at_most_once", subject: row[0].text,
                               detail: "captured \(row[1].int) of \(row[2].int); \(row[3].int) posts of \(row[4].int) holds"))
        }
        // Refunds never exceed what was captured, and match their transfers.
        for row in try rows("""
            WITH sums AS (
                SELECT o.id AS id, o.refunded AS refunded, o.captured AS captured,
                    (SELECT CAST(COALESCE(SUM(t.amount), 0) AS BIGINT) FROM ledger_transfers t
                     WHERE t.subject = o.id AND t.code IN ('refund_principal', 'refund_tax', 'refund_fee')) AS transferred
                FROM orders o)
            SELECT id, refunded, captured, transferred FROM sums WHERE refunded > captured OR refunded != transferred
            """) {
            found.append(.init(rule: "refunds.within_capture", subject: row[0].text,
                               detail: "refunded \(row[1].int), captured \(row[2].int), refund transfers \(row[3].int)"))
        }
        // Statement credits: each has its two earning transfers of its amount, and its two
        // claw-back transfers exactly when reversed; no such transfer without its credit.
        for row in try rows("""
            WITH legs AS (
                SELECT s.id AS id, s.state AS state,
                    (SELECT COUNT(*) FROM ledger_transfers t WHERE t.subject = s.id AND t.amount = s.amount
                     AND t.code IN ('statement_credit_funding', 'statement_credit')) AS earned,
                    (SELECT COUNT(*) FROM ledger_transfers t WHERE t.subject = s.id AND t.amount = s.amount
                     AND t.code = 'statement_credit_clawback') AS clawed
                FROM statement_credits s)
            SELECT id, state, earned, clawed FROM legs WHERE earned != 2 OR clawed != (CASE WHEN state = 'reversed' THEN 2 ELSE 0 END)
            UNION ALL
            SELECT t.subject, 'missing', 0, 0 FROM ledger_transfers t
            WHERE t.code IN ('statement_credit_funding', 'statement_credit', 'statement_credit_clawback')
              AND NOT EXISTS (SELECT 1 FROM statement_credits s WHERE s.id = t.subject)
            """) {
            found.append(.init(rule: "credits.match_transfers", subject: row[0].text,
                               detail: "credit \(row[1].text): \(row[2].int) earning and \(row[3].int) claw-back transfers"))
        }
        // A credit is earned only by a transaction after its card loaded the offer, and an offer's
        // paid-out total is the sum of its credits not reversed.
        for row in try rows("""
            SELECT s.id FROM statement_credits s JOIN card_transactions c ON c.id = s.transaction_id
            LEFT JOIN statement_credit_loads l ON l.offer_id = s.offer_id AND l.card_account_id = s.card_account_id
            WHERE l.loaded_at IS NULL OR c.occurred_at < l.loaded_at OR c.card_account_id IS NULL OR c.card_account_id != s.card_account_id
            """) {
            found.append(.init(rule: "credits.after_load", subject: row[0].text, detail: "earned without a load of its offer before the transaction"))
        }
        for row in try rows("""
            WITH totals AS (
                SELECT o.id AS id, o.credited_total AS credited,
                    (SELECT CAST(COALESCE(SUM(s.amount), 0) AS BIGINT) FROM statement_credits s WHERE s.offer_id = o.id AND s.state = 'earned') AS earned
                FROM offers o)
            SELECT id, credited, earned FROM totals WHERE credited != earned
            """) {
            found.append(.init(rule: "credits.offer_total", subject: row[0].text, detail: "credited_total \(row[1].int), credits earned \(row[2].int)"))
        }
        // Privacy: nothing sent to a network reveals card, address, name, limit or balance.
        var sensitiveByCard: [CardAccountID: SensitiveData?] = [:]
        var privacyCount = 0
        var after = ""
        // Outbound posts are read in pages by key, so the audit's memory stays bounded.
        pages: while privacyCount < limit {
            let page = try query("SELECT key, text, card_account_id FROM outbound_posts WHERE key > $1 ORDER BY key LIMIT 1000", [after])
            guard let last = page.last else { break }
            after = last[0].text
            let cards = Set(page.compactMap { $0[2].optionalText.map(CardAccountID.init(rawValue:)) }).subtracting(sensitiveByCard.keys)
            let loaded = try sensitiveData(Array(cards))
            for card in cards { sensitiveByCard[card] = .some(loaded[card]) }
            for row in page {
                var sensitive: SensitiveData?
                if let card = row[2].optionalText { sensitive = sensitiveByCard[CardAccountID(card)] ?? nil }
                let violations = PrivacyGuard.violations(in: row[1].text, sensitive: sensitive)
                    .filter { $0 != .balance }  // the balance moves after posting; checked when posted
                if !violations.isEmpty {
                    privacyCount += 1
                    found.append(.init(rule: "privacy.outbound_post", subject: row[0].text, detail: violations.map(\.rawValue).joined(separator: ", ")))
                    if privacyCount >= limit { break pages }
                }
            }
            if page.count < 1000 { break }
        }
        return found
    }
}

extension StoreAudit {
    /// Settlement: clearing holds exactly the batches waiting for a payout file, paid out exactly
    /// the paid ones and the files' totals; every batch has its transfers and no settlement
    /// transfer is without its batch; each closed day's batches are what the ledger moved that
    /// day (a transfer recorded into a day after it closed shows here); deficits carry batch to batch.
    func settlementViolations(_ rows: (String) throws -> [Row]) throws -> [InvariantViolation] {
        var found: [InvariantViolation] = []
        for row in try rows("""
            WITH expected AS (
                -- Clearing has no file to match: its batches stand in both columns.
                SELECT '\(LedgerAccounts.settlementClearing.id.rawValue)' AS account,
                    CAST(COALESCE((SELECT SUM(payout) FROM settlement_batches WHERE state = 'awaiting_payout'), 0) AS BIGINT) AS batches,
                    CAST(COALESCE((SELECT SUM(payout) FROM settlement_batches WHERE state = 'awaiting_payout'), 0) AS BIGINT) AS files
                UNION ALL
                SELECT '\(LedgerAccounts.settlementPaid.id.rawValue)',
                    CAST(COALESCE((SELECT SUM(payout) FROM settlement_batches WHERE state = 'paid'), 0) AS BIGINT),
                    CAST(COALESCE((SELECT SUM(total_credit) FROM payout_files), 0) AS BIGINT))
            SELECT a.id, CAST(a.credits_posted - a.debits_posted AS BIGINT), e.batches
            FROM ledger_accounts a JOIN expected e ON e.account = a.id
            WHERE a.credits_posted - a.debits_posted != e.batches OR a.credits_posted - a.debits_posted != e.files
            """) {
            found.append(.init(rule: "settlement.accounts_match_batches", subject: row[0].text,
                               detail: "balance \(row[1].int), batches say \(row[2].int)"))
        }
        for row in try rows("""
            WITH legs AS (
                SELECT b.id AS id, b.payout AS payout, b.state AS state,
                    (SELECT COUNT(*) FROM ledger_transfers t WHERE t.id = 'settle:' || b.id || ':clearing' AND t.amount = b.payout
                     AND t.debit_account_id = 'merchant:' || b.merchant_id || ':payable') AS cleared,
                    (SELECT COUNT(*) FROM ledger_transfers t WHERE t.id = 'settle:' || b.id || ':payout' AND t.amount = b.payout) AS paid
                FROM settlement_batches b)
            SELECT id, state, cleared, paid FROM legs
            WHERE cleared != (CASE WHEN payout > 0 THEN 1 ELSE 0 END) OR paid != (CASE WHEN state = 'paid' THEN 1 ELSE 0 END)
            UNION ALL
            SELECT t.id, 'missing', 0, 0 FROM ledger_transfers t
            WHERE t.code IN ('settlement_batch', 'settlement_payout') AND NOT EXISTS (SELECT 1 FROM settlement_batches b WHERE b.id = t.subject)
            """) {
            found.append(.init(rule: "settlement.batch_transfers", subject: row[0].text,
                               detail: "batch \(row[1].text): \(row[2].int) clearing and \(row[3].int) payout transfers"))
        }
        for row in try rows("""
            WITH moves AS (
                SELECT CASE WHEN t.credit_account_id LIKE 'merchant:%' THEN t.credit_account_id ELSE t.debit_account_id END AS account,
                    t.created_at / 86400000 AS day,
                    CASE WHEN t.credit_account_id LIKE 'merchant:%' THEN t.amount ELSE -t.amount END AS amount
                FROM ledger_transfers t
                WHERE t.type IN ('single', 'post_pending')
                  AND t.code IN ('capture', 'refund_principal', 'statement_credit_funding', 'statement_credit_clawback')
                  AND (t.credit_account_id LIKE 'merchant:%' OR t.debit_account_id LIKE 'merchant:%')),
            sums AS (SELECT account, day, SUM(amount) AS net FROM moves WHERE day IN (SELECT day FROM settlement_days) GROUP BY account, day)
            SELECT s.account, CAST(s.day AS BIGINT), CAST(s.net AS BIGINT), b.net FROM sums s
            LEFT JOIN settlement_batches b ON 'merchant:' || b.merchant_id || ':payable' = s.account AND b.day = s.day
            WHERE b.net IS NULL OR b.net != s.net
            """) {
            found.append(.init(rule: "settlement.batch_matches_ledger", subject: row[0].text,
                               detail: "day \(SettlementDay(dayNumber: row[1].int)): the ledger moved \(row[2].int), the batch says \(row[3].optionalInt.map(String.init) ?? "nothing")"))
        }
        for row in try rows("""
            WITH chain AS (
                SELECT b.id AS id, b.carried_in AS carried_in,
                    COALESCE((SELECT p.carried_out FROM settlement_batches p WHERE p.merchant_id = b.merchant_id AND p.day < b.day
                              ORDER BY p.day DESC LIMIT 1), 0) AS previous
                FROM settlement_batches b)
            SELECT id, carried_in, previous FROM chain WHERE carried_in != previous
            """) {
            found.append(.init(rule: "settlement.carry_chain", subject: row[0].text,
                               detail: "carried in \(row[1].int), the merchant's previous batch carried out \(row[2].int)"))
        }
        return found
    }
}

/// One value of an audit row: text, integer or NULL.
enum AuditValue {
    case text(String)
    case int(Int64)
    case null

    var text: String {
        switch self {
        case .text(let value): value
        case .int(let value): String(value)
        case .null: ""
        }
    }

    var optionalText: String? {
        if case .null = self { return nil }
        return text
    }

    var int: Int64 { optionalInt ?? 0 }

    var optionalInt: Int64? {
        switch self {
        case .int(let value): value
        case .text(let value): Int64(value)
        case .null: nil
        }
    }
}
