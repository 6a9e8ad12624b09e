import HashcartCore

/// The columns each stored type is read from, in the order its decoder expects. Both stores
/// use the same table and column names.
enum StoreColumns {
    /// Hashtag keys of offers not ended (bound 1: now, 2: limit). Both dialects; `placeholder` is `?` or `$`.
    static func interestHashtagsSQL(placeholder: String) -> String {
        let (now, limit) = placeholder == "?" ? ("?", "?") : ("$1", "$2")
        return "SELECT hashtag_key FROM offers WHERE lifecycle != 'ended' AND ends_at > \(now) ORDER BY hashtag_key LIMIT \(limit)"
    }

    /// Authors of purchases holding a unit on a network (bound 1: network, 2: limit); served by the
    /// partial index `purchases_open_expiry`.
    static func interestAuthorsSQL(placeholder: String) -> String {
        let (network, limit) = placeholder == "?" ? ("?", "?") : ("$1", "$2")
        return """
            SELECT DISTINCT user_id FROM purchases WHERE state IN ('requested', 'awaiting_confirmation') AND network = \(network)
            ORDER BY user_id LIMIT \(limit)
            """
    }

    static let link = "id, card_account_id, network, user_id, handle, created_at, unlinked_at"
    static let offer = """
        id, merchant_id, title, sku, price, currency, tax_category, quantity, per_cardholder_limit, starts_at, ends_at,
        eligible_states, hashtag, hashtag_key, capture_mode, window_seconds, lifecycle, kill_switch, reserved_units,
        sold_units, created_at
        """
    static let purchase = """
        id, offer_id, merchant_id, card_account_id, network, user_id, handle, post_id, reference, state, decline_reason,
        cancellation_reason, unit_price, tax, total, fee, tax_rate_ppm, tax_version, billing_state, window_seconds,
        requested_at, expires_at, confirmation_post_id, confirmed_at, authorized_at, hold_expires_at, captured_at, ended_at
        """
    static let order = """
        id, purchase_id, merchant_id, offer_id, card_account_id, reference, unit_price, tax, total, fee, tax_rate_ppm,
        tax_version, billing_state, status, captured, refunded, refund_count, carrier, tracking, created_at, updated_at
        """
    static let outbound = """
        key, network, in_reply_to, text, purpose, purchase_id, card_account_id, state, attempts, next_attempt_at,
        last_error, post_id, sent_at, created_at
        """
    static let transfer = "id, debit_account_id, credit_account_id, amount, type, pending_id, timeout_at, code, created_at"

    /// The cause a transfer id names: `auth:<purchase>:principal` → `<purchase>`.
    static func subject(of id: TransferID) -> String {
        let parts = id.rawValue.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count >= 3 ? parts.dropFirst().dropLast().joined(separator: ":") : id.rawValue
    }
}
