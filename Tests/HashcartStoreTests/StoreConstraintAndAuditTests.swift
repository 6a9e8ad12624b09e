import Foundation
import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

/// The database refuses what the rules forbid even when the engine is bypassed, and the audit
/// behind `hashcart check` finds what raw tampering did.
@Suite(.onEveryBackend) struct StoreConstraintAndAuditTests {
    /// Runs raw SQL and expects the database to refuse it with a CHECK constraint.
    func expectCheckFailure(_ fixture: StoreFixture, _ sql: String, _ arguments: [(any Sendable)?] = [],
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: RawSQLError.checkViolation, sourceLocation: sourceLocation) {
            try fixture.database.execute(sql, arguments)
        }
    }

    func units(_ fixture: StoreFixture) throws -> [Int64] {
        let row = try #require(try fixture.database.query("SELECT quantity, reserved_units, sold_units FROM offers WHERE id = $1",
                                                          [StoreFixture.offerID.rawValue]).first)
        return row.map { Int64($0 ?? "") ?? -1 }
    }

    @Test func sqlRefusesOversellingAnOffer() async throws {
        let fixture = try await StoreFixture()
        #expect(try units(fixture) == [5, 0, 0])
        let id = StoreFixture.offerID.rawValue
        expectCheckFailure(fixture, "UPDATE offers SET sold_units = quantity + 1 WHERE id = $1", [id])
        expectCheckFailure(fixture, "UPDATE offers SET reserved_units = 3, sold_units = 3 WHERE id = $1", [id])
        expectCheckFailure(fixture, "UPDATE offers SET reserved_units = 6 WHERE id = $1", [id])
        expectCheckFailure(fixture, "UPDATE offers SET sold_units = -1 WHERE id = $1", [id])
        expectCheckFailure(fixture, "UPDATE offers SET quantity = 0, sold_units = 1 WHERE id = $1", [id])
        #expect(try units(fixture) == [5, 0, 0])
        // Exactly the quantity is allowed by SQL (the audit then compares it with the orders).
        try fixture.database.execute("UPDATE offers SET reserved_units = 2, sold_units = 3 WHERE id = $1", [id])
        #expect(try units(fixture) == [5, 2, 3])
    }

    /// A purchase and its captured order, written with raw SQL.
    func insertCapturedOrder(_ fixture: StoreFixture, total: Int64 = 15_599) throws {
        try fixture.database.execute("""
                INSERT INTO purchases (id, offer_id, merchant_id, card_account_id, network, user_id, handle, post_id, reference, state,
                    amount, tax, total, fee, tax_rate_ppm, tax_version, billing_state, window_seconds, requested_at, expires_at,
                    authorized_at, captured_at)
                VALUES ('pur_1', $1, $2, $3, 'sandbox', 'u1', '@u1', 'p1', 'REF1', 'captured', 14999, $4, $5, 375, 40000, 'test', 'NY',
                    600, 0, 600000, 1, 2)
                """, [StoreFixture.offerID.rawValue, StoreFixture.merchantID.rawValue, StoreFixture.cardA.rawValue,
                                 total - 14999, total])
        try fixture.database.execute("""
                INSERT INTO orders (id, purchase_id, merchant_id, offer_id, card_account_id, reference, amount, tax, total, fee,
                    tax_rate_ppm, tax_version, billing_state, status, captured, refunded, refund_count, created_at, updated_at)
                VALUES ('ord_1', 'pur_1', $1, $2, $3, 'REF1', 14999, $4, $5, 375, 40000, 'test', 'NY', 'shipped', $6, 0, 0, 0, 0)
                """, [StoreFixture.merchantID.rawValue, StoreFixture.offerID.rawValue, StoreFixture.cardA.rawValue,
                                 total - 14999, total, total])
    }

    /// A purchase buys 1 to 999 units, and its line is a whole unit price times them.
    @Test func sqlRefusesAUnitCountOutOfRangeAndAnUnevenLineIsCorrupt() async throws {
        let fixture = try await StoreFixture()
        try insertCapturedOrder(fixture)
        for table in ["purchases", "orders"] {
            expectCheckFailure(fixture, "UPDATE \(table) SET units = 0")
            expectCheckFailure(fixture, "UPDATE \(table) SET units = 1000")
        }
        #expect(try await fixture.store.read { try $0.purchase(PurchaseID("pur_1")) }?.units == 1)
        // 14,999 does not divide by 2: not something Hashcart wrote.
        try fixture.database.execute("UPDATE purchases SET units = 2")
        await #expect(throws: StoreError.self) { try await fixture.store.read { try $0.purchase(PurchaseID("pur_1")) } }
        try fixture.database.execute("UPDATE purchases SET units = 1")
        try fixture.database.execute("UPDATE orders SET units = 7")
        await #expect(throws: StoreError.self) { try await fixture.store.read { try $0.orders() } }
    }

    /// A store written before a post could buy several units (v11) migrates with its purchases and
    /// orders intact, each one unit at its old price.
    @Test func aStoreFromBeforeUnitsMigratesItsPurchasesAsOneUnit() async throws {
        let fixture = try await StoreFixture()
        try insertCapturedOrder(fixture)
        // Put the schema back as v10 left it, with the rows in it.
        for table in ["purchases", "orders"] {
            try fixture.database.execute("ALTER TABLE \(table) DROP COLUMN units")
            try fixture.database.execute("ALTER TABLE \(table) RENAME COLUMN amount TO unit_price")
        }
        switch fixture.database.backend {
        case .sqlite: try fixture.database.execute("DELETE FROM grdb_migrations WHERE identifier = 'v11-purchase-units'")
        case .postgres: try fixture.database.execute("DELETE FROM hashcart_migrations WHERE id = 'v11-purchase-units'")
        }
        try await fixture.reopen()
        let purchase = try #require(try await fixture.store.read { try $0.purchase(PurchaseID("pur_1")) })
        #expect(purchase.units == 1 && purchase.unitPrice == .usd(14_999) && purchase.amount == .usd(14_999) && purchase.total == .usd(15_599))
        let order = try #require(try await fixture.store.read { try $0.orders() }.first)
        #expect(order.units == 1 && order.unitPrice == .usd(14_999) && order.total == .usd(15_599))
        // The purchases' CHECK follows the renamed column: a total that is not amount + tax is still refused.
        expectCheckFailure(fixture, "UPDATE purchases SET total = total + 1")
    }

    @Test func sqlRefusesRefundingMoreThanWasCaptured() async throws {
        let fixture = try await StoreFixture()
        try insertCapturedOrder(fixture)
        expectCheckFailure(fixture, "UPDATE orders SET refunded = captured + 1 WHERE id = 'ord_1'")
        expectCheckFailure(fixture, "UPDATE orders SET refunded = -1 WHERE id = 'ord_1'")
        // At most one capture, of exactly the total.
        expectCheckFailure(fixture, "UPDATE orders SET captured = total * 2 WHERE id = 'ord_1'")
        expectCheckFailure(fixture, "UPDATE orders SET captured = 0, refunded = 100 WHERE id = 'ord_1'")
        // A purchase's total is its price plus tax.
        expectCheckFailure(fixture, "UPDATE purchases SET total = total + 1 WHERE id = 'pur_1'")
        let row = try #require(try fixture.database.query("SELECT captured, refunded FROM orders WHERE id = 'ord_1'").first)
        #expect(row == ["15599", "0"])
        try fixture.database.execute("UPDATE orders SET refunded = captured WHERE id = 'ord_1'")
    }

    @Test func sqlRefusesOverdrawingACreditLine() async throws {
        let fixture = try await StoreFixture()
        let line = LedgerAccounts.creditLine(StoreFixture.cardB).id.rawValue
        expectCheckFailure(fixture, "UPDATE ledger_accounts SET debits_posted = credits_posted + 1 WHERE id = $1", [line])
        expectCheckFailure(fixture, "UPDATE ledger_accounts SET debits_pending = credits_posted, debits_posted = 1 WHERE id = $1", [line])
        expectCheckFailure(fixture, "UPDATE ledger_accounts SET credits_posted = -5 WHERE id = $1", [LedgerAccounts.issuerFeeRevenue.id.rawValue])
        #expect(try await fixture.store.read { try $0.ledgerAccount(LedgerAccounts.creditLine(StoreFixture.cardB).id) }?.availableCredit == 250_000)
    }

    @Test func auditIsEmptyOnACleanStore() async throws {
        let empty = try await StoreFixture(seed: false)
        #expect(try await empty.audit() == [])
        let seeded = try await StoreFixture()
        #expect(try await seeded.audit() == [])
    }

    @Test func auditFindsATamperedLedgerTotal() async throws {
        let fixture = try await StoreFixture()
        try fixture.database.execute("UPDATE ledger_accounts SET debits_posted = debits_posted + 1 WHERE id = $1", [LedgerAccounts.issuerCreditLines.id.rawValue])
        let violations = try await fixture.audit()
        #expect(violations.contains { $0.rule == "ledger.balanced" })
        #expect(violations.contains { $0.rule == "ledger.totals_match_transfers" && $0.subject == LedgerAccounts.issuerCreditLines.id.rawValue })
        #expect(!violations.contains { $0.rule.hasPrefix("stock.") || $0.rule.hasPrefix("privacy.") })
    }

    @Test func auditFindsBalancedButForgedTotals() async throws {
        // Debits and credits still sum equal, but neither account matches its transfers.
        let fixture = try await StoreFixture()
        try fixture.database.execute("UPDATE ledger_accounts SET debits_posted = debits_posted + 500 WHERE id = $1", [LedgerAccounts.issuerCreditLines.id.rawValue])
        try fixture.database.execute("UPDATE ledger_accounts SET credits_posted = credits_posted + 500 WHERE id = $1", [LedgerAccounts.issuerFeeRevenue.id.rawValue])
        let violations = try await fixture.audit()
        #expect(!violations.contains { $0.rule == "ledger.balanced" })
        let forged = Set(violations.filter { $0.rule == "ledger.totals_match_transfers" }.map(\.subject))
        #expect(forged == [LedgerAccounts.issuerCreditLines.id.rawValue, LedgerAccounts.issuerFeeRevenue.id.rawValue])
    }

    @Test func auditFindsATamperedCreditLine() async throws {
        let fixture = try await StoreFixture()
        try fixture.database.execute("UPDATE card_accounts SET credit_limit = credit_limit + 100 WHERE id = $1", [StoreFixture.cardB.rawValue])
        let violations = try await fixture.audit()
        #expect(violations.contains { $0.rule == "ledger.credit_line_matches_limit" && $0.subject == StoreFixture.cardB.rawValue })
    }

    @Test(arguments: [
        ("UPDATE offers SET sold_units = quantity WHERE id = 'offer_fixture'", "offer_fixture"),
        ("UPDATE offers SET reserved_units = 1 WHERE id = 'offer_fixture'", "offer_fixture"),
        ("UPDATE offers SET sold_units = 1000 WHERE id = 'offer_unlimited'", "offer_unlimited"),
    ])
    func auditFindsTamperedStockCounters(sql: String, offer: String) async throws {
        let fixture = try await StoreFixture()
        try fixture.database.execute(sql)
        let violations = try await fixture.audit()
        #expect(violations.map(\.rule) == ["stock.not_oversold"])
        #expect(violations.first?.subject == offer)
    }

    /// A purchase put back into a waitlist behind the engine's back, with its order standing.
    @Test func auditFindsAWaitlistedPurchaseHoldingAnOrder() async throws {
        let fixture = try await StoreFixture()
        try insertCapturedOrder(fixture)
        try fixture.database.execute("UPDATE offers SET sold_units = 1 WHERE id = $1", [StoreFixture.offerID.rawValue])
        let clean = try await fixture.audit().map(\.rule)
        #expect(!clean.contains("waitlist.holds_nothing"), "\(clean)")
        try fixture.database.execute("UPDATE purchases SET state = 'waitlisted' WHERE id = 'pur_1'")
        let violations = try await fixture.audit()
        #expect(violations.contains { $0.rule == "waitlist.holds_nothing" && $0.subject == "pur_1" }, "\(violations)")
    }

    func insertSentPost(_ fixture: StoreFixture, key: String, text: String, card: CardAccountID?) throws {
        try fixture.database.execute("""
                INSERT INTO outbound_posts (key, network, in_reply_to, text, purpose, purchase_id, card_account_id, state, attempts,
                    next_attempt_at, last_error, post_id, sent_at, created_at)
                VALUES ($1, 'sandbox', 'p1', $2, 'confirmed', NULL, $3, 'sent', 1, 0, NULL, 'r1', 0, 0)
                """, [key, text, card?.rawValue])
    }

    @Test func auditFindsAnOutboundPostRevealingTheCardholdersData() async throws {
        let fixture = try await StoreFixture()
        // Safe posts: another card's digits, a plain confirmation.
        try insertSentPost(fixture, key: "safe-1", text: "Confirmed, ref K7QX. Card ending \(StoreFixture.last4B) thanks", card: StoreFixture.cardA)
        try insertSentPost(fixture, key: "safe-2", text: "Confirmed, ref K7QX. Ships soon.", card: StoreFixture.cardB)
        #expect(try await fixture.audit() == [])

        try insertSentPost(fixture, key: "leak-digits", text: "Confirmed! Charged to the card ending \(StoreFixture.last4A).", card: StoreFixture.cardA)
        try insertSentPost(fixture, key: "leak-address", text: "Shipping to \(StoreFixture.billingB.line1) soon", card: StoreFixture.cardB)
        try insertSentPost(fixture, key: "leak-number", text: "card 4111 1111 1111 1111", card: nil)
        let violations = try await fixture.audit()
        #expect(violations.allSatisfy { $0.rule == "privacy.outbound_post" })
        let byKey = Dictionary(violations.map { ($0.subject, $0.detail) }, uniquingKeysWith: { $0 + ", " + $1 })
        #expect(Set(byKey.keys) == ["leak-digits", "leak-address", "leak-number"])
        #expect(byKey["leak-digits"]?.contains("card_digits") == true)
        #expect(byKey["leak-address"]?.contains("address") == true)
        #expect(byKey["leak-number"]?.contains("card_number_like") == true)
    }

    @Test func tamperingIsStillFoundAfterReopen() async throws {
        let fixture = try await StoreFixture()
        try fixture.database.execute("UPDATE offers SET sold_units = 2 WHERE id = $1", [StoreFixture.offerID.rawValue])
        try await fixture.reopen()
        #expect(try await fixture.audit().map(\.rule) == ["stock.not_oversold"])
    }
}
