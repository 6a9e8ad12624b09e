import Foundation

/// The store's schema, defined once for both stores: a list of versioned migrations in one
/// notation, rendered into each dialect's DDL by ``sql(of:in:)``. A migration, once released,
/// never changes: new needs get a new migration appended. SQLite runs them through GRDB's
/// migrator (``Migrations``), PostgreSQL through its own table of applied ids (``PostgresStore``).
///
/// Times are Unix milliseconds and amounts minor units (`{int}`: SQLite's INTEGER, PostgreSQL's
/// BIGINT), sealed data `{blob}` (BLOB, BYTEA). The other marks:
/// - `{bool}`: INTEGER / BOOLEAN; `{serial}`: a rowid INTEGER / BIGSERIAL;
/// - `{without rowid}`: SQLite's WITHOUT ROWID tables (nothing on PostgreSQL);
/// - `{event seq}`, `{seq}`, `{, seq}`: the merchant events' commit order, SQLite's rowid and
///   PostgreSQL's `seq` column;
/// - a line starting `{postgres} `: PostgreSQL only.
enum StoreSchema {
    struct Migration: Sendable {
        let id: String
        let sql: String
    }

    static let migrations: [Migration] = [
        Migration(id: "v1-core", sql: """
            CREATE TABLE meta (key TEXT PRIMARY KEY, value {blob} NOT NULL){without rowid};

            CREATE TABLE merchants (
                id TEXT PRIMARY KEY, name TEXT NOT NULL,
                discount_bps {int} NOT NULL CHECK (discount_bps BETWEEN 0 AND 2000),
                created_at {int} NOT NULL);

            -- billing_sealed: AES-256-GCM over name, address and the card's last four digits.
            -- billing_state stays clear for eligibility and tax routing (a state alone is not an address).
            CREATE TABLE card_accounts (
                id TEXT PRIMARY KEY, credit_limit {int} NOT NULL CHECK (credit_limit >= 0),
                billing_state TEXT NOT NULL, billing_sealed {blob} NOT NULL, created_at {int} NOT NULL);

            CREATE TABLE links (
                id TEXT PRIMARY KEY, card_account_id TEXT NOT NULL REFERENCES card_accounts(id),
                network TEXT NOT NULL, user_id TEXT NOT NULL, handle TEXT NOT NULL,
                created_at {int} NOT NULL, unlinked_at {int});
            CREATE UNIQUE INDEX links_active_identity ON links(network, user_id) WHERE unlinked_at IS NULL;
            CREATE UNIQUE INDEX links_active_card_network ON links(card_account_id, network) WHERE unlinked_at IS NULL;

            CREATE TABLE link_codes (
                code TEXT PRIMARY KEY, card_account_id TEXT NOT NULL REFERENCES card_accounts(id),
                network TEXT NOT NULL, expires_at {int} NOT NULL, used_at {int}){without rowid};

            CREATE TABLE offers (
                id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
                title TEXT NOT NULL, sku TEXT NOT NULL, price {int} NOT NULL CHECK (price > 0),
                currency TEXT NOT NULL, tax_category TEXT NOT NULL, quantity {int},
                per_cardholder_limit {int} NOT NULL, starts_at {int} NOT NULL, ends_at {int} NOT NULL,
                eligible_states {int} NOT NULL, hashtag TEXT NOT NULL, hashtag_key TEXT NOT NULL,
                capture_mode TEXT NOT NULL, window_seconds {int} NOT NULL, lifecycle TEXT NOT NULL,
                kill_switch {bool} NOT NULL, reserved_units {int} NOT NULL, sold_units {int} NOT NULL,
                created_at {int} NOT NULL,
                -- No unit is ever sold twice or oversold: the database refuses it too.
                CHECK (reserved_units >= 0 AND sold_units >= 0),
                CHECK (quantity IS NULL OR reserved_units + sold_units <= quantity));
            CREATE UNIQUE INDEX offers_open_hashtag ON offers(hashtag_key) WHERE lifecycle != 'ended';
            {postgres} CREATE INDEX offers_merchant ON offers(merchant_id, created_at);

            CREATE TABLE purchases (
                id TEXT PRIMARY KEY, offer_id TEXT NOT NULL REFERENCES offers(id), merchant_id TEXT NOT NULL,
                card_account_id TEXT NOT NULL REFERENCES card_accounts(id),
                network TEXT NOT NULL, user_id TEXT NOT NULL, handle TEXT NOT NULL, post_id TEXT NOT NULL,
                reference TEXT NOT NULL UNIQUE, state TEXT NOT NULL, decline_reason TEXT, cancellation_reason TEXT,
                unit_price {int} NOT NULL, tax {int} NOT NULL, total {int} NOT NULL, fee {int} NOT NULL,
                tax_rate_ppm {int} NOT NULL, tax_version TEXT NOT NULL, billing_state TEXT NOT NULL,
                window_seconds {int} NOT NULL, requested_at {int} NOT NULL, expires_at {int} NOT NULL,
                confirmation_post_id TEXT, confirmed_at {int}, authorized_at {int}, hold_expires_at {int},
                captured_at {int}, ended_at {int},
                CHECK (total = unit_price + tax));
            CREATE UNIQUE INDEX purchases_confirmation_post ON purchases(network, confirmation_post_id)
                WHERE confirmation_post_id IS NOT NULL;
            CREATE INDEX purchases_open_expiry ON purchases(expires_at)
                WHERE state IN ('requested', 'awaiting_confirmation');
            CREATE INDEX purchases_hold_expiry ON purchases(hold_expires_at) WHERE state = 'authorized';
            CREATE INDEX purchases_card ON purchases(card_account_id, requested_at);
            CREATE INDEX purchases_offer ON purchases(offer_id, state);

            CREATE TABLE orders (
                id TEXT PRIMARY KEY, purchase_id TEXT NOT NULL UNIQUE REFERENCES purchases(id),
                merchant_id TEXT NOT NULL, offer_id TEXT NOT NULL, card_account_id TEXT NOT NULL,
                reference TEXT NOT NULL, unit_price {int} NOT NULL, tax {int} NOT NULL, total {int} NOT NULL,
                fee {int} NOT NULL, tax_rate_ppm {int} NOT NULL, tax_version TEXT NOT NULL,
                billing_state TEXT NOT NULL, status TEXT NOT NULL, captured {int} NOT NULL,
                refunded {int} NOT NULL, refund_count {int} NOT NULL, carrier TEXT, tracking TEXT,
                created_at {int} NOT NULL, updated_at {int} NOT NULL,
                -- Refunds never exceed what was captured; at most one capture (of the total).
                CHECK (refunded >= 0 AND refunded <= captured),
                CHECK (captured = 0 OR captured = total));
            CREATE INDEX orders_merchant ON orders(merchant_id, created_at);
            {postgres} CREATE INDEX orders_offer ON orders(offer_id);

            CREATE TABLE ledger_accounts (
                id TEXT PRIMARY KEY, code TEXT NOT NULL, flags {int} NOT NULL,
                debits_pending {int} NOT NULL, debits_posted {int} NOT NULL,
                credits_pending {int} NOT NULL, credits_posted {int} NOT NULL,
                CHECK (debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0),
                CHECK ((flags & 1) = 0 OR debits_pending + debits_posted <= credits_posted),
                CHECK ((flags & 2) = 0 OR credits_pending + credits_posted <= debits_posted)){without rowid};
            -- Immutable transfers. A pending transfer's one mutable fact, its status
            -- (pending → posted | voided | expired), is kept beside it in pending_status.
            CREATE TABLE ledger_transfers (
                id TEXT PRIMARY KEY, debit_account_id TEXT NOT NULL, credit_account_id TEXT NOT NULL,
                amount {int} NOT NULL CHECK (amount > 0), type TEXT NOT NULL, pending_id TEXT,
                timeout_at {int}, code TEXT NOT NULL, created_at {int} NOT NULL,
                -- What caused it: the middle of its id (`auth:<purchase>:principal` → the purchase).
                subject TEXT NOT NULL,
                pending_status TEXT CHECK ((type = 'pending') = (pending_status IS NOT NULL)));
            CREATE INDEX ledger_transfers_subject ON ledger_transfers(subject, type);

            CREATE TABLE processed_events (
                network TEXT NOT NULL, event_id TEXT NOT NULL, processed_at {int} NOT NULL,
                PRIMARY KEY (network, event_id)){without rowid};
            CREATE TABLE deleted_posts (
                network TEXT NOT NULL, post_id TEXT NOT NULL, deleted_at {int} NOT NULL,
                PRIMARY KEY (network, post_id)){without rowid};
            CREATE TABLE parked_events (
                id {serial} PRIMARY KEY, network TEXT NOT NULL, post_id TEXT NOT NULL,
                event {blob} NOT NULL, parked_at {int} NOT NULL);
            CREATE INDEX parked_events_post ON parked_events(network, post_id);
            CREATE TABLE cursors (network TEXT PRIMARY KEY, cursor TEXT NOT NULL){without rowid};

            CREATE TABLE outbound_posts (
                key TEXT PRIMARY KEY, network TEXT NOT NULL, in_reply_to TEXT NOT NULL, text TEXT NOT NULL,
                purpose TEXT NOT NULL, purchase_id TEXT, card_account_id TEXT, state TEXT NOT NULL,
                attempts {int} NOT NULL, next_attempt_at {int} NOT NULL, last_error TEXT,
                post_id TEXT, sent_at {int}, created_at {int} NOT NULL);
            CREATE INDEX outbound_due ON outbound_posts(next_attempt_at) WHERE state = 'pending';

            -- The events' order is the order they committed (every insert holds the writer lock), for
            -- webhook scheduling and newest-first lists: SQLite's rowid, PostgreSQL's seq.
            CREATE TABLE merchant_events (
                id TEXT PRIMARY KEY, {event seq}merchant_id TEXT NOT NULL, type TEXT NOT NULL, object_id TEXT NOT NULL,
                created_at {int} NOT NULL);
            {postgres} CREATE INDEX merchant_events_merchant ON merchant_events(merchant_id, seq);
            CREATE TABLE cardholder_notifications (
                id TEXT PRIMARY KEY, card_account_id TEXT NOT NULL, purchase_id TEXT, kind TEXT NOT NULL,
                message TEXT NOT NULL, created_at {int} NOT NULL);
            {postgres} CREATE INDEX cardholder_notifications_card ON cardholder_notifications(card_account_id, created_at);

            CREATE TABLE funnel (
                offer_id TEXT NOT NULL, metric TEXT NOT NULL, value {int} NOT NULL,
                PRIMARY KEY (offer_id, metric)){without rowid};
            CREATE TABLE offer_authors (
                offer_id TEXT NOT NULL, network TEXT NOT NULL, user_id TEXT NOT NULL,
                PRIMARY KEY (offer_id, network, user_id)){without rowid};
            CREATE TABLE invitations (
                network TEXT NOT NULL, user_id TEXT NOT NULL, last_at {int} NOT NULL,
                PRIMARY KEY (network, user_id)){without rowid};
            """),
        Migration(id: "v2-credentials", sql: """
            -- Merchant API keys and cardholder tokens. Only a SHA-256 of each secret is kept:
            -- the secret is shown once, when it is created.
            CREATE TABLE credentials (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('merchant_api_key', 'cardholder_token')),
                owner_id TEXT NOT NULL, secret_hash {blob} NOT NULL UNIQUE, created_at {int} NOT NULL, revoked_at {int});
            CREATE INDEX credentials_owner ON credentials(owner_id, kind);
            """),
        Migration(id: "v3-idempotency", sql: """
            -- Idempotency-Key records (Stripe's semantics): the first response to a key is kept
            -- and replayed; status is NULL while the first request is still running.
            CREATE TABLE idempotency_keys (
                scope {blob} NOT NULL, key TEXT NOT NULL, request_hash {blob} NOT NULL, status {int}, response {blob},
                created_at {int} NOT NULL, PRIMARY KEY (scope, key)){without rowid};
            CREATE INDEX idempotency_keys_age ON idempotency_keys(created_at);
            """),
        Migration(id: "v4-webhooks", sql: """
            -- A merchant's webhook endpoints. The signing secret is sealed like billing data.
            CREATE TABLE webhook_endpoints (
                id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id), url TEXT NOT NULL,
                secret_sealed {blob} NOT NULL, created_at {int} NOT NULL, disabled_at {int});
            CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints(merchant_id);
            -- One row per (event, endpoint): at-least-once delivery that survives restarts.
            CREATE TABLE webhook_deliveries (
                event_id TEXT NOT NULL REFERENCES merchant_events(id), endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
                state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')), attempts {int} NOT NULL,
                next_attempt_at {int} NOT NULL, last_status {int}, last_error TEXT, delivered_at {int},
                created_at {int} NOT NULL, PRIMARY KEY (event_id, endpoint_id)){without rowid};
            CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
            """),
        Migration(id: "v5-funnel-minutes", sql: """
            -- The funnel per minute (minute = unix seconds / 60), for the time series of analytics.
            CREATE TABLE funnel_minutes (
                offer_id TEXT NOT NULL, metric TEXT NOT NULL, minute {int} NOT NULL, value {int} NOT NULL,
                PRIMARY KEY (offer_id, metric, minute)){without rowid};
            """),
        Migration(id: "v6-webhook-endpoint-order", sql: """
            -- An endpoint gets the events recorded after it, by the events' order rather than
            -- their timestamps (a clock stepping back must not hide an event from it).
            ALTER TABLE webhook_endpoints ADD COLUMN after_event_seq {int} NOT NULL DEFAULT 0;
            UPDATE webhook_endpoints SET after_event_seq = COALESCE(
                (SELECT MAX(e.{seq}) FROM merchant_events e WHERE e.created_at < webhook_endpoints.created_at), 0);
            """),
        Migration(id: "v7-shared-indexes", sql: """
            -- Indexes the PostgreSQL schema had from the start, now on both stores (no-ops there).
            CREATE INDEX IF NOT EXISTS offers_merchant ON offers(merchant_id, created_at);
            CREATE INDEX IF NOT EXISTS orders_offer ON orders(offer_id);
            CREATE INDEX IF NOT EXISTS merchant_events_merchant ON merchant_events(merchant_id{, seq});
            CREATE INDEX IF NOT EXISTS cardholder_notifications_card ON cardholder_notifications(card_account_id, created_at);
            """),
        Migration(id: "v8-card-linked-offers", sql: """
            -- Card-linked offers: the type, the terms as JSON (read with the offer, never queried
            -- into), and what the offer has paid out in statement credits.
            ALTER TABLE offers ADD COLUMN offer_type TEXT NOT NULL DEFAULT 'purchase' CHECK (offer_type IN ('purchase', 'statement_credit'));
            ALTER TABLE offers ADD COLUMN credit_terms TEXT;
            ALTER TABLE offers ADD COLUMN credited_total {int} NOT NULL DEFAULT 0 CHECK (credited_total >= 0);
            -- A card number's keyed fingerprint (HMAC-SHA256 under the store's key), never the number.
            ALTER TABLE card_accounts ADD COLUMN pan_fingerprint TEXT;
            CREATE UNIQUE INDEX IF NOT EXISTS card_accounts_pan_fingerprint ON card_accounts(pan_fingerprint) WHERE pan_fingerprint IS NOT NULL;
            -- A card-linked offer loaded onto a card by a post of its hashtag: once per card.
            CREATE TABLE statement_credit_loads (
                offer_id TEXT NOT NULL REFERENCES offers(id), card_account_id TEXT NOT NULL REFERENCES card_accounts(id),
                network TEXT NOT NULL, post_id TEXT NOT NULL, loaded_at {int} NOT NULL,
                PRIMARY KEY (offer_id, card_account_id)){without rowid};
            CREATE INDEX IF NOT EXISTS statement_credit_loads_card ON statement_credit_loads(card_account_id, loaded_at);
            -- Every card transaction the issuer reported, once by its processing key, with what it did.
            CREATE TABLE card_transactions (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('purchase', 'reversal')), card_fingerprint TEXT NOT NULL,
                card_account_id TEXT REFERENCES card_accounts(id), amount {int} NOT NULL CHECK (amount > 0), acceptor_id TEXT NOT NULL,
                mcc TEXT, rrn TEXT NOT NULL, stan TEXT NOT NULL, occurred_at {int} NOT NULL, received_at {int} NOT NULL,
                outcome TEXT NOT NULL){without rowid};
            CREATE INDEX IF NOT EXISTS card_transactions_rrn ON card_transactions(card_fingerprint, rrn);
            -- Statement credits: one per offer and card (its id says so), earned by one transaction.
            CREATE TABLE statement_credits (
                id TEXT PRIMARY KEY, offer_id TEXT NOT NULL REFERENCES offers(id), merchant_id TEXT NOT NULL REFERENCES merchants(id),
                card_account_id TEXT NOT NULL REFERENCES card_accounts(id), transaction_id TEXT NOT NULL REFERENCES card_transactions(id),
                amount {int} NOT NULL CHECK (amount > 0), state TEXT NOT NULL CHECK (state IN ('earned', 'reversed')),
                earned_at {int} NOT NULL, reversed_at {int}, UNIQUE (offer_id, card_account_id)){without rowid};
            CREATE INDEX IF NOT EXISTS statement_credits_card ON statement_credits(card_account_id, earned_at);
            CREATE INDEX IF NOT EXISTS statement_credits_transaction ON statement_credits(transaction_id);
            """),
        Migration(id: "v9-settlement", sql: """
            -- A merchant's payout bank account: the routing number, kind and last four in the clear
            -- (for statements and pages), the account number sealed like billing data.
            ALTER TABLE merchants ADD COLUMN payout_routing TEXT;
            ALTER TABLE merchants ADD COLUMN payout_kind TEXT CHECK (payout_kind IS NULL OR payout_kind IN ('checking', 'savings'));
            ALTER TABLE merchants ADD COLUMN payout_last4 TEXT;
            ALTER TABLE merchants ADD COLUMN payout_sealed {blob};
            -- Settlement reads a day's transfers by when they were made.
            CREATE INDEX IF NOT EXISTS ledger_transfers_created ON ledger_transfers(created_at);
            -- Each UTC day is closed once: the row is the claim (a second run, or a second
            -- instance, finds it and settles nothing).
            CREATE TABLE settlement_days (
                day {int} PRIMARY KEY, closed_at {int} NOT NULL, batch_count {int} NOT NULL){without rowid};
            -- One batch per merchant and day: its statement lines, payout and carried deficit.
            CREATE TABLE settlement_batches (
                id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id), day {int} NOT NULL REFERENCES settlement_days(day),
                sales {int} NOT NULL, fees {int} NOT NULL, refunds {int} NOT NULL, statement_credits {int} NOT NULL,
                carried_in {int} NOT NULL, net {int} NOT NULL, payout {int} NOT NULL, carried_out {int} NOT NULL,
                movement_count {int} NOT NULL, state TEXT NOT NULL CHECK (state IN ('awaiting_payout', 'paid', 'nothing_to_pay')),
                created_at {int} NOT NULL, paid_at {int}, payout_file_id TEXT, trace_number TEXT,
                UNIQUE (merchant_id, day),
                CHECK (carried_in <= 0 AND carried_out <= 0 AND payout >= 0),
                CHECK (net = sales + fees + refunds + statement_credits),
                CHECK (payout + carried_out = net + carried_in),
                CHECK ((state = 'nothing_to_pay') = (payout = 0)),
                CHECK ((state = 'paid') = (payout_file_id IS NOT NULL))){without rowid};
            CREATE INDEX IF NOT EXISTS settlement_batches_merchant ON settlement_batches(merchant_id, day);
            CREATE INDEX IF NOT EXISTS settlement_batches_state ON settlement_batches(state, day);
            -- Every NACHA payout file written, with its text (to write it again) and control totals.
            CREATE TABLE payout_files (
                id TEXT PRIMARY KEY, created_day {int} NOT NULL, modifier TEXT NOT NULL, created_at {int} NOT NULL,
                batch_count {int} NOT NULL, entry_count {int} NOT NULL, entry_hash {int} NOT NULL, total_credit {int} NOT NULL,
                content TEXT NOT NULL, UNIQUE (created_day, modifier)){without rowid};
            """),
        Migration(id: "v10-issuer-switches", sql: """
            -- The issuer's switches and limits for everything in this mode (today: the kill switch that stops
            -- every purchase, confirmation and load), with when and why each last changed.
            CREATE TABLE issuer_switches (
                name TEXT PRIMARY KEY, enabled {bool} NOT NULL, reason TEXT NOT NULL, changed_at {int} NOT NULL){without rowid};
            -- The issuer's risk limits as set over the API (one row, scope 'issuer'); without it, the
            -- engine's configured defaults apply.
            CREATE TABLE risk_settings (
                scope TEXT PRIMARY KEY, daily_spend_cap {int} NOT NULL CHECK (daily_spend_cap > 0),
                max_purchases_per_hour {int} NOT NULL CHECK (max_purchases_per_hour > 0),
                min_link_age_seconds {int} NOT NULL CHECK (min_link_age_seconds >= 0), changed_at {int} NOT NULL){without rowid};
            """),
        Migration(id: "v11-purchase-units", sql: """
            -- A post may buy several units (`#Tag x2`). unit_price held the line before tax while a
            -- purchase was one unit; it is now `amount` (unit price × units), so purchases' CHECK
            -- (total = amount + tax) still holds, and every row written before reads as one unit.
            ALTER TABLE purchases RENAME COLUMN unit_price TO amount;
            ALTER TABLE purchases ADD COLUMN units {int} NOT NULL DEFAULT 1 CHECK (units BETWEEN 1 AND 999);
            ALTER TABLE orders RENAME COLUMN unit_price TO amount;
            ALTER TABLE orders ADD COLUMN units {int} NOT NULL DEFAULT 1 CHECK (units BETWEEN 1 AND 999);
            """),
        Migration(id: "v12-waitlists", sql: """
            -- A sold-out offer's waitlist: its purchases in state 'waitlisted', in the order they came
            -- (the next in line is found by the first), and by when their line closes (the offer's end).
            CREATE INDEX IF NOT EXISTS purchases_waitlist ON purchases(offer_id, requested_at, id) WHERE state = 'waitlisted';
            CREATE INDEX IF NOT EXISTS purchases_waitlist_close ON purchases(expires_at) WHERE state = 'waitlisted';
            """),
        Migration(id: "v13-announcements", sql: """
            -- Whether the official accounts announce the offer when it goes live (once per network:
            -- the outbox row `announce:<offer>:<network>` is the record). Offers made before this
            -- are not announced: an upgrade posts nothing about offers already running.
            ALTER TABLE offers ADD COLUMN announce {bool} NOT NULL DEFAULT FALSE;
            -- Reposts of and replies to an announcement are told apart from early confirmations.
            CREATE INDEX IF NOT EXISTS outbound_announcements ON outbound_posts(network, post_id) WHERE purpose = 'announcement';
            """),
        Migration(id: "v14-offer-risk", sql: """
            -- The issuer's risk limits for one offer (NULL: the issuer-wide limit applies). Read with
            -- the offer, so the purchase path asks nothing more.
            ALTER TABLE offers ADD COLUMN risk_daily_spend_cap {int} CHECK (risk_daily_spend_cap IS NULL OR risk_daily_spend_cap > 0);
            ALTER TABLE offers ADD COLUMN risk_max_purchases_per_hour {int} CHECK (risk_max_purchases_per_hour IS NULL OR risk_max_purchases_per_hour > 0);
            ALTER TABLE offers ADD COLUMN risk_min_link_age_seconds {int} CHECK (risk_min_link_age_seconds IS NULL OR risk_min_link_age_seconds >= 0);
            """),
        Migration(id: "v15-oauth-links", sql: """
            -- Sign-ins a cardholder started at a network to link an identity by OAuth: the state's
            -- hash (never the state), the PKCE verifier, used once within ten minutes. Rows of a card
            -- expired a day ago are deleted when it starts another.
            CREATE TABLE oauth_authorizations (
                state_hash TEXT PRIMARY KEY, card_account_id TEXT NOT NULL REFERENCES card_accounts(id),
                network TEXT NOT NULL, code_verifier TEXT NOT NULL, created_at {int} NOT NULL, expires_at {int} NOT NULL,
                used_at {int}){without rowid};
            CREATE INDEX oauth_authorizations_card ON oauth_authorizations(card_account_id, expires_at);
            """),
        Migration(id: "v16-webhook-endpoint-care", sql: """
            -- A rotated secret signs beside the new one until it expires; a test event goes to one endpoint only.
            ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_sealed {blob};
            ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_expires_at {int};
            ALTER TABLE merchant_events ADD COLUMN only_endpoint_id TEXT;
            """),
        Migration(id: "v17-dashboard-users", sql: """
            -- People who sign in to the dashboard pages of this mode: bcrypt hashes only.
            CREATE TABLE dashboard_users (
                id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('operator', 'merchant', 'cardholder')),
                merchant_id TEXT REFERENCES merchants(id), card_account_id TEXT REFERENCES card_accounts(id),
                created_at {int} NOT NULL, disabled_at {int},
                CHECK ((role = 'merchant') = (merchant_id IS NOT NULL)), CHECK ((role = 'cardholder') = (card_account_id IS NOT NULL)));
            CREATE INDEX dashboard_users_merchant ON dashboard_users(merchant_id);
            -- Signed-in browsers: the SHA-256 of the cookie's token, never the token.
            CREATE TABLE dashboard_sessions (
                token_hash {blob} PRIMARY KEY, user_id TEXT NOT NULL REFERENCES dashboard_users(id), csrf_token TEXT NOT NULL,
                created_at {int} NOT NULL, expires_at {int} NOT NULL, address TEXT NOT NULL);
            CREATE INDEX dashboard_sessions_user ON dashboard_sessions(user_id, created_at);
            """),
        Migration(id: "v18-order-pages", sql: """
            -- The dashboard finds a merchant's order by the reference on its receipt, and pages
            -- through orders newest first (created_at, id) by merchant, status or offer without
            -- sorting them: a flash sale makes thousands in one millisecond.
            CREATE INDEX orders_reference ON orders(reference);
            DROP INDEX IF EXISTS orders_merchant;
            CREATE INDEX orders_merchant ON orders(merchant_id, created_at, id);
            CREATE INDEX orders_merchant_status ON orders(merchant_id, status, created_at, id);
            DROP INDEX IF EXISTS orders_offer;
            CREATE INDEX orders_offer ON orders(offer_id, created_at, id);
            """),
        Migration(id: "v19-audit-log", sql: """
            -- Who did what, when and from where: each line written in the transaction of its action.
            CREATE TABLE audit_log (
                seq {serial} PRIMARY KEY, at {int} NOT NULL, actor TEXT NOT NULL, address TEXT NOT NULL, action TEXT NOT NULL,
                object_id TEXT NOT NULL, merchant_id TEXT, detail TEXT NOT NULL);
            CREATE INDEX audit_log_merchant ON audit_log(merchant_id, seq);
            """),
        Migration(id: "v20-closing", sql: """
            -- The issuer closes merchants and card accounts; both stay, for their history.
            ALTER TABLE merchants ADD COLUMN closed_at {int};
            ALTER TABLE card_accounts ADD COLUMN closed_at {int};
            """),
        Migration(id: "v21-oauth-browser-binding", sql: """
            -- A sign-in started from a page finishes only in the browser that started it.
            ALTER TABLE oauth_authorizations ADD COLUMN browser_binding TEXT;
            """),
    ]

    /// A migration's statements in `dialect`.
    static func sql(of migration: Migration, in dialect: SQLDialect) -> String {
        let marks: [(String, String)] = switch dialect {
        case .sqlite:
            [("{int}", "INTEGER"), ("{blob}", "BLOB"), ("{bool}", "INTEGER"), ("{serial}", "INTEGER"),
             ("{without rowid}", " WITHOUT ROWID"), ("{event seq}", ""), ("{seq}", "rowid"), ("{, seq}", "")]
        case .postgres:
            [("{int}", "BIGINT"), ("{blob}", "BYTEA"), ("{bool}", "BOOLEAN"), ("{serial}", "BIGSERIAL"),
             ("{without rowid}", ""), ("{event seq}", "seq BIGSERIAL NOT NULL UNIQUE, "), ("{seq}", "seq"), ("{, seq}", ", seq")]
        }
        let lines = migration.sql.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
            guard line.hasPrefix("{postgres} ") else { return String(line) }
            return dialect == .postgres ? String(line.dropFirst("{postgres} ".count)) : nil
        }
        var sql = lines.joined(separator: "\n")
        for (mark, text) in marks { sql = sql.replacingOccurrences(of: mark, with: text) }
        precondition(!sql.contains("{"), "migration \(migration.id) has an unknown mark")
        return sql
    }
}
