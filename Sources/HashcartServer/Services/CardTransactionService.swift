/// The issuer's card transactions over JSON (operator): what each earned or clawed back.
public protocol CardTransactionService: Sendable {
    /// The issuer's card transactions, as JSON (the card feed takes ISO 8583): what each did.
    func ingestCardTransactions(_ body: CardTransactionsBody) async throws -> ListView<CardTransactionResultView>
}
