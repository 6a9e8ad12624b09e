/// The operator's accounts: merchants and card accounts (opened, listed, changed, closed), their
/// API keys and tokens, payout accounts, and the audit log.
public protocol AccountService: Sendable {
    func createMerchant(_ body: CreateMerchantBody) async throws -> MerchantView
    /// A new API key for a merchant, shown once.
    func createAPIKey(merchantID: String) async throws -> SecretView
    /// A merchant's API keys, newest first (never their secrets; revoked ones marked).
    func apiKeys(merchantID: String, limit: Int) async throws -> ListView<SecretView>
    /// Revokes one of a merchant's API keys at once.
    func revokeAPIKey(merchantID: String, keyID: String) async throws -> SecretView
    /// A new bearer token for a cardholder, shown once.
    func createCardholderToken(cardholderID: String) async throws -> SecretView
    func createCardholder(_ body: CreateCardholderBody) async throws -> CardholderView
    /// Sets the bank account a merchant's settlement batches are paid to.
    func setPayoutAccount(merchantID: String, _ body: PayoutAccountBody) async throws -> MerchantView
    /// Merchants (operator): those whose name or id holds `search`, by id, after `after`.
    func merchants(search: String?, limit: Int, after: String?) async throws -> ListView<MerchantView>
    /// One merchant (operator).
    func merchant(id: String) async throws -> MerchantView
    /// Cardholders (operator): those whose card account id holds `search`, by id, after `after`.
    func cardholders(search: String?, limit: Int, after: String?) async throws -> ListView<CardholderView>
    /// One card account of this mode (operator).
    func cardholder(id: String) async throws -> CardholderView
    /// Moves a card account's credit limit (operator); a cut below what it has used is refused.
    func updateCardholder(id: String, _ body: UpdateCardholderBody) async throws -> CardholderView
    /// Closes a card account (operator): no new purchases, its links end; refunds still reach it.
    func closeCardholder(id: String, _ body: CloseAccountBody) async throws -> CardholderView
    /// Closes a merchant (operator): its offers end and it starts no new ones; orders and payouts go on.
    func closeMerchant(id: String, _ body: CloseAccountBody) async throws -> MerchantView
    /// The audit log, newest first: everything (the operator) or one merchant's lines; `before` a line's number.
    func auditLog(merchantID: String?, limit: Int, before: Int64?) async throws -> [AuditLineView]
}
