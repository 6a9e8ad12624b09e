import HashcartCore

/// The columns each stored type is read from, in the order its decoder expects. Both stores
/// use the same table and column names.
enum StoreColumns {
    /// Hashtag keys of offers not ended (bound 1: now, 2: limit).
    /// A card's statement-credit loads of offers not ended, newest first: `$1` the card, `$2` the limit.
    static let openLoadsOfCardSQL = """
        SELECT \(StoreRows.loadColumns) FROM statement_credit_loads l
        WHERE l.card_account_id = $1 AND EXISTS (SELECT 1 FROM offers o WHERE o.id = l.offer_id AND o.lifecycle != 'ended')
        ORDER BY l.loaded_at DESC, l.offer_id LIMIT $2
        """
    static let interestHashtagsSQL = "SELECT hashtag_key FROM offers WHERE lifecycle != 'ended' AND ends_at > $1 ORDER BY hashtag_key LIMIT $2"

    /// Authors of purchases holding a unit on a network (bound 1: network, 2: limit); served by the
    /// partial index `purchases_open_expiry`.
    static let interestAuthorsSQL = """
        SELECT DISTINCT user_id FROM purchases WHERE state IN ('requested', 'awaiting_confirmation') AND network = $1
        ORDER BY user_id LIMIT $2
        """

    /// Authors waiting in a waitlist on a network (bound 1: network, 2: limit): their deletes
    /// cancel too; served by the partial index `purchases_waitlist_close`.
    static let interestWaitlistedAuthorsSQL = """
        SELECT DISTINCT user_id FROM purchases WHERE state = 'waitlisted' AND network = $1 ORDER BY user_id LIMIT $2
        """

    static let link = StoreRows.names(StoreRows.linkColumns)
    static let webhookEndpointStatus = "id, url, created_at, disabled_at, previous_secret_expires_at"
    static let oauthAuthorization = "state_hash, card_account_id, network, code_verifier, created_at, expires_at, used_at, browser_binding"
    static let offer = StoreRows.names(StoreRows.offerColumns)
    static let purchase = StoreRows.names(StoreRows.purchaseColumns)
    static let order = StoreRows.names(StoreRows.orderColumns)
    static let outbound = StoreRows.names(StoreRows.outboundColumns)
    static let transfer = StoreRows.names(StoreRows.transferColumns)

    /// The cause a transfer id names: `auth:<purchase>:principal` → `<purchase>`.
    static func subject(of id: TransferID) -> String {
        let parts = id.rawValue.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count >= 3 ? parts.dropFirst().dropLast().joined(separator: ":") : id.rawValue
    }
}
