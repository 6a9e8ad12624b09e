import Foundation
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore

/// The issuer's card transactions over JSON (operator), beside the ISO 8583 card feed.
extension EngineService {
    /// The issuer's card transactions (`POST /v1/card_transactions`): each PAN is fingerprinted
    /// here and dropped; a malformed transaction refuses the whole batch before anything changes.
    public func ingestCardTransactions(_ body: CardTransactionsBody) async throws -> ListView<CardTransactionResultView> {
        try await mapped {
            guard (1...Self.maximumCardTransactionsPerRequest).contains(body.transactions.count) else {
                throw APIError.invalid("`transactions` must hold 1 to \(Self.maximumCardTransactionsPerRequest) transactions.", param: "transactions")
            }
            var transactions: [CardTransaction] = []
            for (index, item) in body.transactions.enumerated() {
                func field(_ name: String) -> String { "transactions.\(index).\(name)" }
                guard let kind = CardTransactionKind(rawValue: item.kind) else {
                    throw APIError.invalid("`\(field("kind"))` must be purchase or reversal.", param: field("kind"))
                }
                guard item.currency == nil || item.currency?.uppercased() == Currency.usd.rawValue else {
                    throw APIError.invalid("Only USD card transactions are supported.", param: field("currency"))
                }
                guard (0...32_503_680_000).contains(item.occurredAt) else {
                    throw APIError.invalid("`\(field("occurred_at"))` must be a Unix time in seconds.", param: field("occurred_at"))
                }
                let pan: PrimaryAccountNumber
                do throws(ValidationError) { pan = try PrimaryAccountNumber(item.pan) } catch {
                    throw APIError.invalid("`\(field("pan"))` \(error.message).", param: field("pan"))
                }
                let transaction = CardTransaction(kind: kind, card: store.cardFingerprint(of: pan), amount: .usd(item.amount),
                                                  acceptorID: item.acceptorId, merchantCategoryCode: item.mcc, retrievalReference: item.rrn,
                                                  systemTrace: item.stan, occurredAt: Instant(secondsSinceEpoch: item.occurredAt))
                do throws(ValidationError) {
                    transactions.append(try transaction.validated(now: engine.clock.now()))
                } catch {
                    throw APIError.invalid("`\(field(error.field))` \(error.message).", param: field(error.field))
                }
            }
            let outcomes = try await engine.ingestCardTransactions(transactions)
            return ListView(data: zip(transactions, outcomes).map { CardTransactionResultView(id: $0.id.rawValue, outcome: $1.rawValue) },
                            hasMore: false)
        }
    }

    /// The most card transactions one `POST /v1/card_transactions` takes (its body is bounded too).
    public static let maximumCardTransactionsPerRequest = 200
}
