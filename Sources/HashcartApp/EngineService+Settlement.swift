import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore

/// Settlement over the API: merchants' payout accounts (operator), their settlement statements
/// (merchant: its own only), and the issuer's sales-tax liability (operator). Each answers from
/// the store of the mode the credential belongs to.
extension EngineService {
    /// The most days one sales-tax report covers (a year and a day).
    public static let maximumReportDays: Int64 = 366

    public func setPayoutAccount(merchantID: String, _ body: PayoutAccountBody) async throws -> MerchantView {
        try await mapped {
            guard let id = MerchantID(validating: merchantID) else { throw APIError.notFound("merchant \(merchantID.prefix(64))") }
            let account = try Self.payoutAccount(body, param: "")
            try await engine.setPayoutAccount(merchantID: id, account: account)
            return try await merchantView(id)
        }
    }

    /// A request's payout account, checked; `param` prefixes the field names in errors.
    static func payoutAccount(_ body: PayoutAccountBody, param: String) throws -> PayoutAccount {
        guard let kind = PayoutAccount.Kind(rawValue: body.accountType ?? "checking") else {
            throw APIError.invalid("`account_type` must be checking or savings.", param: param + "account_type")
        }
        do {
            return try PayoutAccount(routingNumber: body.routingNumber, accountNumber: body.accountNumber, kind: kind)
        } catch {
            throw APIError.invalid("`\(error.field)` \(error.message).", param: param + error.field)
        }
    }

    func merchantView(_ id: MerchantID) async throws -> MerchantView {
        let (merchant, payout) = try await store.read { reader in (try reader.merchant(id), try reader.payoutAccountSummary(merchantID: id)) }
        guard let merchant else { throw APIError.notFound("merchant \(id.rawValue.prefix(64))") }
        return MerchantView(id: merchant.id.rawValue, name: merchant.name, discountRateBps: merchant.discountRateBasisPoints,
                            created: merchant.createdAt.millisecondsSinceEpoch / 1000,
                            payoutAccount: payout.map(Self.view), closed: merchant.closedAt.map { $0.millisecondsSinceEpoch / 1000 })
    }

    static func view(_ account: PayoutAccountSummary) -> PayoutAccountView {
        PayoutAccountView(routingNumber: account.routingNumber, accountType: account.kind.rawValue, last4: account.last4)
    }

    public func settlements(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<SettlementView> {
        try await mapped {
            let merchant = MerchantID(merchantID)
            if let startingAfter {
                guard let after = SettlementBatchID(validating: startingAfter),
                      try await store.read({ try $0.settlementBatch(after) })?.merchantID == merchant else {
                    throw APIError.invalid("`starting_after` is not one of your settlements.", param: "starting_after")
                }
            }
            let batches = try await store.read { reader in
                try reader.settlementBatches(merchantID: merchant, limit: limit + 1, startingAfter: startingAfter.map(SettlementBatchID.init(rawValue:)))
            }
            return ListView(data: batches.prefix(limit).map(Self.view), hasMore: batches.count > limit)
        }
    }

    /// Another merchant's settlement is "not found".
    public func settlement(merchantID: String, id: String) async throws -> SettlementView {
        try await mapped {
            guard let batchID = SettlementBatchID(validating: id),
                  let batch = try await store.read({ try $0.settlementBatch(batchID) }), batch.merchantID.rawValue == merchantID else {
                throw APIError.notFound("settlement \(id.prefix(64))")
            }
            return Self.view(batch)
        }
    }

    static func view(_ batch: SettlementBatch) -> SettlementView {
        SettlementView(id: batch.id.rawValue, merchant: batch.merchantID.rawValue, day: batch.day.description, sales: batch.sales, fees: batch.fees,
                       refunds: batch.refunds, statementCredits: batch.statementCredits, carriedIn: batch.carriedIn, net: batch.net,
                       payout: batch.payout, carriedOut: batch.carriedOut, state: batch.state.rawValue, movements: batch.movementCount,
                       created: batch.createdAt.millisecondsSinceEpoch / 1000, paidAt: batch.paidAt.map { $0.millisecondsSinceEpoch / 1000 },
                       payoutFile: batch.payoutFileID, traceNumber: batch.traceNumber)
    }

    /// Sales tax per state on captures and refunds of the UTC days `from` through `to`
    /// (default: the last 30 days through yesterday).
    public func salesTaxReport(from: String?, to: String?) async throws -> SalesTaxReportView {
        try await mapped {
            func day(_ text: String?, _ param: String, default value: SettlementDay) throws -> SettlementDay {
                guard let text else { return value }
                do { return try SettlementDay(parsing: text) } catch {
                    throw APIError.invalid("`\(param)` \(error.message).", param: param)
                }
            }
            let yesterday = SettlementDay(containing: engine.clock.now()).previous
            let last = try day(to, "to", default: yesterday)
            let first = try day(from, "from", default: SettlementDay(dayNumber: last.dayNumber - 29))
            guard first <= last else { throw APIError.invalid("`from` must not be after `to`.", param: "from") }
            guard last.dayNumber - first.dayNumber < Self.maximumReportDays else {
                throw APIError.invalid("A report covers at most \(Self.maximumReportDays) days.", param: "from")
            }
            let lines = try await store.read { try $0.salesTaxLiabilities(from: first.start, to: last.end) }
            return SalesTaxReportView(from: first.description, to: last.description, states: lines.map {
                SalesTaxStateView(state: $0.state.rawValue, collected: $0.collected, refunded: $0.refunded, net: $0.net, transfers: $0.transferCount)
            })
        }
    }
}
