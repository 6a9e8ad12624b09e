/// Settlement: merchants' statements (their own only) and the issuer's sales-tax report.
public protocol SettlementService: Sendable {
    /// The issuer's sales-tax liability per state over UTC days `from` through `to` (YYYY-MM-DD).
    func salesTaxReport(from: String?, to: String?) async throws -> SalesTaxReportView
    /// The merchant's settlement statements, newest day first.
    func settlements(merchantID: String, limit: Int, startingAfter: String?) async throws -> ListView<SettlementView>
    /// Another merchant's settlement is "not found".
    func settlement(merchantID: String, id: String) async throws -> SettlementView
}
