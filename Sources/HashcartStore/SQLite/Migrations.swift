import GRDB

/// The store's schema, as a list of versioned migrations. A migration, once released, never
/// changes: new needs get a new migration appended.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;

                CREATE TABLE merchants (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL,
                    discount_bps INTEGER NOT NULL CHECK (discount_bps BETWEEN 0 AND 2000),
                    created_at INTEGER NOT NULL);

                -- billing_sealed: AES-256-GCM over name, address and the card's last four digits.
                -- billing_state stays clear for eligibility and tax routing (a state alone is not an address).
                CREATE TABLE card_accounts (
                    id TEXT PRIMARY KEY, credit_limit INTEGER NOT NULL CHECK (credit_limit >= 0),
                    billing_state TEXT NOT NULL, billing_sealed BLOB NOT NULL, created_at INTEGER NOT NULL);

                CREATE TABLE links (
                    id TEXT PRIMARY KEY, card_account_id TEXT NOT NULL REFERENCES card_accounts(id),
                    network TEXT NOT NULL, user_id TEXT NOT NULL, handle TEXT NOT NULL,
                    created_at INTEGER NOT NULL, unlinked_at INTEGER);
                CREATE UNIQUE INDEX links_active_identity ON links(network, user_id) WHERE unlinked_at IS NULL;
                CREATE UNIQUE INDEX links_active_card_network ON links(card_account_id, network) WHERE unlinked_at IS NULL;

                CREATE TABLE link_codes (
                    code TEXT PRIMARY KEY, card_account_id TEXT NOT NULL REFERENCES card_accounts(id),
                    network TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER) WITHOUT ROWID;

                CREATE TABLE offers (
                    id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id),
                    title TEXT NOT NULL, sku TEXT NOT NULL, price INTEGER NOT NULL CHECK (price > 0),
                    currency TEXT NOT NULL, tax_category TEXT NOT NULL, quantity INTEGER,
                    per_cardholder_limit INTEGER NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
                    eligible_states INTEGER NOT NULL, hashtag TEXT NOT NULL, hashtag_key TEXT NOT NULL,
                    capture_mode TEXT NOT NULL, window_seconds INTEGER NOT NULL, lifecycle TEXT NOT NULL,
                    kill_switch INTEGER NOT NULL, reserved_units INTEGER NOT NULL, sold_units INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    -- No unit is ever sold twice or oversold: the database refuses it too.
                    CHECK (reserved_units >= 0 AND sold_units >= 0),
                    CHECK (quantity IS NULL OR reserved_units + sold_units <= quantity));
                CREATE UNIQUE INDEX offers_open_hashtag ON offers(hashtag_key) WHERE lifecycle != 'ended';

                CREATE TABLE purchases (
                    id TEXT PRIMARY KEY, offer_id TEXT NOT NULL REFERENCES offers(id), merchant_id TEXT NOT NULL,
                    card_account_id TEXT NOT NULL REFERENCES card_accounts(id),
                    network TEXT NOT NULL, user_id TEXT NOT NULL, handle TEXT NOT NULL, post_id TEXT NOT NULL,
                    reference TEXT NOT NULL UNIQUE, state TEXT NOT NULL, decline_reason TEXT, cancellation_reason TEXT,
                    unit_price INTEGER NOT NULL, tax INTEGER NOT NULL, total INTEGER NOT NULL, fee INTEGER NOT NULL,
                    tax_rate_ppm INTEGER NOT NULL, tax_version TEXT NOT NULL, billing_state TEXT NOT NULL,
                    window_seconds INTEGER NOT NULL, requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
                    confirmation_post_id TEXT, confirmed_at INTEGER, authorized_at INTEGER, hold_expires_at INTEGER,
                    captured_at INTEGER, ended_at INTEGER,
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
                    reference TEXT NOT NULL, unit_price INTEGER NOT NULL, tax INTEGER NOT NULL, total INTEGER NOT NULL,
                    fee INTEGER NOT NULL, tax_rate_ppm INTEGER NOT NULL, tax_version TEXT NOT NULL,
                    billing_state TEXT NOT NULL, status TEXT NOT NULL, captured INTEGER NOT NULL,
                    refunded INTEGER NOT NULL, refund_count INTEGER NOT NULL, carrier TEXT, tracking TEXT,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                    -- Refunds never exceed what was captured; at most one capture (of the total).
                    CHECK (refunded >= 0 AND refunded <= captured),
                    CHECK (captured = 0 OR captured = total));
                CREATE INDEX orders_merchant ON orders(merchant_id, created_at);

                CREATE TABLE ledger_accounts (
                    id TEXT PRIMARY KEY, code TEXT NOT NULL, flags INTEGER NOT NULL,
                    debits_pending INTEGER NOT NULL, debits_posted INTEGER NOT NULL,
                    credits_pending INTEGER NOT NULL, credits_posted INTEGER NOT NULL,
                    CHECK (debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0),
                    CHECK ((flags & 1) = 0 OR debits_pending + debits_posted <= credits_posted),
                    CHECK ((flags & 2) = 0 OR credits_pending + credits_posted <= debits_posted)) WITHOUT ROWID;
                -- Immutable transfers. A pending transfer's one mutable fact, its status
                -- (pending → posted | voided | expired), is kept beside it in pending_status.
                CREATE TABLE ledger_transfers (
                    id TEXT PRIMARY KEY, debit_account_id TEXT NOT NULL, credit_account_id TEXT NOT NULL,
                    amount INTEGER NOT NULL CHECK (amount > 0), type TEXT NOT NULL, pending_id TEXT,
                    timeout_at INTEGER, code TEXT NOT NULL, created_at INTEGER NOT NULL,
                    -- What caused it: the middle of its id (`auth:<purchase>:principal` → the purchase).
                    subject TEXT NOT NULL,
                    pending_status TEXT CHECK ((type = 'pending') = (pending_status IS NOT NULL)));
                CREATE INDEX ledger_transfers_subject ON ledger_transfers(subject, type);

                CREATE TABLE processed_events (
                    network TEXT NOT NULL, event_id TEXT NOT NULL, processed_at INTEGER NOT NULL,
                    PRIMARY KEY (network, event_id)) WITHOUT ROWID;
                CREATE TABLE deleted_posts (
                    network TEXT NOT NULL, post_id TEXT NOT NULL, deleted_at INTEGER NOT NULL,
                    PRIMARY KEY (network, post_id)) WITHOUT ROWID;
                CREATE TABLE parked_events (
                    id INTEGER PRIMARY KEY, network TEXT NOT NULL, post_id TEXT NOT NULL,
                    event BLOB NOT NULL, parked_at INTEGER NOT NULL);
                CREATE INDEX parked_events_post ON parked_events(network, post_id);
                CREATE TABLE cursors (network TEXT PRIMARY KEY, cursor TEXT NOT NULL) WITHOUT ROWID;

                CREATE TABLE outbound_posts (
                    key TEXT PRIMARY KEY, network TEXT NOT NULL, in_reply_to TEXT NOT NULL, text TEXT NOT NULL,
                    purpose TEXT NOT NULL, purchase_id TEXT, card_account_id TEXT, state TEXT NOT NULL,
                    attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_error TEXT,
                    post_id TEXT, sent_at INTEGER, created_at INTEGER NOT NULL);
                CREATE INDEX outbound_due ON outbound_posts(next_attempt_at) WHERE state = 'pending';

                CREATE TABLE merchant_events (
                    id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, type TEXT NOT NULL, object_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL);
                CREATE TABLE cardholder_notifications (
                    id TEXT PRIMARY KEY, card_account_id TEXT NOT NULL, purchase_id TEXT, kind TEXT NOT NULL,
                    message TEXT NOT NULL, created_at INTEGER NOT NULL);

                CREATE TABLE funnel (
                    offer_id TEXT NOT NULL, metric TEXT NOT NULL, value INTEGER NOT NULL,
                    PRIMARY KEY (offer_id, metric)) WITHOUT ROWID;
                CREATE TABLE offer_authors (
                    offer_id TEXT NOT NULL, network TEXT NOT NULL, user_id TEXT NOT NULL,
                    PRIMARY KEY (offer_id, network, user_id)) WITHOUT ROWID;
                CREATE TABLE invitations (
                    network TEXT NOT NULL, user_id TEXT NOT NULL, last_at INTEGER NOT NULL,
                    PRIMARY KEY (network, user_id)) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-credentials") { db in
            try db.execute(sql: """
                -- Merchant API keys and cardholder tokens. Only a SHA-256 of each secret is kept:
                -- the secret is shown once, when it is created.
                CREATE TABLE credentials (
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('merchant_api_key', 'cardholder_token')),
                    owner_id TEXT NOT NULL, secret_hash BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked_at INTEGER);
                CREATE INDEX credentials_owner ON credentials(owner_id, kind);
                """)
        }
        migrator.registerMigration("v3-idempotency") { db in
            try db.execute(sql: """
                -- Idempotency-Key records (Stripe's semantics): the first response to a key is kept
                -- and replayed; status is NULL while the first request is still running.
                CREATE TABLE idempotency_keys (
                    scope BLOB NOT NULL, key TEXT NOT NULL, request_hash BLOB NOT NULL, status INTEGER, response BLOB,
                    created_at INTEGER NOT NULL, PRIMARY KEY (scope, key)) WITHOUT ROWID;
                CREATE INDEX idempotency_keys_age ON idempotency_keys(created_at);
                """)
        }
        migrator.registerMigration("v4-webhooks") { db in
            try db.execute(sql: """
                -- A merchant's webhook endpoints. The signing secret is sealed like billing data.
                CREATE TABLE webhook_endpoints (
                    id TEXT PRIMARY KEY, merchant_id TEXT NOT NULL REFERENCES merchants(id), url TEXT NOT NULL,
                    secret_sealed BLOB NOT NULL, created_at INTEGER NOT NULL, disabled_at INTEGER);
                CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints(merchant_id);
                -- One row per (event, endpoint): at-least-once delivery that survives restarts.
                CREATE TABLE webhook_deliveries (
                    event_id TEXT NOT NULL REFERENCES merchant_events(id), endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
                    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')), attempts INTEGER NOT NULL,
                    next_attempt_at INTEGER NOT NULL, last_status INTEGER, last_error TEXT, delivered_at INTEGER,
                    created_at INTEGER NOT NULL, PRIMARY KEY (event_id, endpoint_id)) WITHOUT ROWID;
                CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
                """)
        }
        migrator.registerMigration("v5-funnel-minutes") { db in
            try db.execute(sql: """
                -- The funnel per minute (minute = unix seconds / 60), for the time series of analytics.
                CREATE TABLE funnel_minutes (
                    offer_id TEXT NOT NULL, metric TEXT NOT NULL, minute INTEGER NOT NULL, value INTEGER NOT NULL,
                    PRIMARY KEY (offer_id, metric, minute)) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v6-webhook-endpoint-order") { db in
            try db.execute(sql: """
                -- An endpoint gets the events recorded after it, by the events' order rather than
                -- their timestamps (a clock stepping back must not hide an event from it).
                ALTER TABLE webhook_endpoints ADD COLUMN after_event_seq INTEGER NOT NULL DEFAULT 0;
                UPDATE webhook_endpoints SET after_event_seq = COALESCE(
                    (SELECT MAX(e.rowid) FROM merchant_events e WHERE e.created_at < webhook_endpoints.created_at), 0);
                """)
        }
        return migrator
    }
}
