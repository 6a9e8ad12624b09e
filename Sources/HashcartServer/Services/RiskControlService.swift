/// The issuer's controls (operator): risk limits, kill switches, and the ledger check.
public protocol RiskControlService: Sendable {
    func ledgerCheck() async throws -> LedgerCheckView
    /// The issuer's risk limits in this mode.
    func riskSettings() async throws -> RiskSettingsView
    func setRiskSettings(_ body: RiskSettingsBody) async throws -> RiskSettingsView
    /// The issuer's kill switch for every purchase in this mode.
    func killSwitch() async throws -> KillSwitchView
    func setKillSwitch(_ body: KillSwitchBody) async throws -> KillSwitchView
    /// The issuer stops (or lets go on) one offer, whoever's it is.
    func setOfferKillSwitch(offerID: String, _ body: OfferKillSwitchBody) async throws -> OfferView
    func setOfferRisk(offerID: String, _ body: RiskSettingsBody) async throws -> OfferView
}
