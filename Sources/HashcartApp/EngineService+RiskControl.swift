import HashcartCore
import HashcartEngine
import HashcartServer

/// The issuer's controls over the API (operator, in the mode the admin token names): the kill
/// switches (one for every purchase in the mode, one per offer), risk limits, and the ledger check.
extension EngineService {
    public func ledgerCheck() async throws -> LedgerCheckView {
        try await mapped {
            LedgerCheckView(violations: try await store.read { try $0.audit() }.map {
                ViolationView(rule: $0.rule, subject: $0.subject, detail: $0.detail)
            })
        }
    }

    public func killSwitch() async throws -> KillSwitchView {
        try await mapped {
            let stored = try await store.read { try $0.issuerKillSwitch() }
            return KillSwitchView(on: stored?.on ?? false, reason: stored?.reason ?? "",
                                  changed: (stored?.changedAt.millisecondsSinceEpoch ?? 0) / 1000)
        }
    }

    public func setKillSwitch(_ body: KillSwitchBody) async throws -> KillSwitchView {
        try await mapped {
            guard let reason = body.reason, !reason.isEmpty else {
                throw APIError.invalid("`reason` is required: say why every purchase is stopped or let go on.", param: "reason",
                                       code: "parameter_missing")
            }
            try await engine.setIssuerKillSwitch(on: body.on, reason: reason)
            return try await killSwitch()
        }
    }

    public func setOfferKillSwitch(offerID: String, _ body: OfferKillSwitchBody) async throws -> OfferView {
        let changed = try await mapped {
            guard let id = OfferID(validating: offerID) else { throw APIError.notFound("offer \(offerID.prefix(64))") }
            try await engine.setKillSwitch(of: id, on: body.on)
            guard let offer = try await store.read({ try $0.offer(id) }) else { throw APIError.notFound("offer \(offerID.prefix(64))") }
            return view(offer)
        }
        return changed
    }
}

/// The issuer's risk limits over the API (operator, per mode).
extension EngineService {
    public func riskSettings() async throws -> RiskSettingsView {
        try await mapped {
            let stored = try await store.read { try $0.issuerRiskPolicy() }
            let policy = stored?.policy ?? engine.configuration.risk
            return RiskSettingsView(dailySpendCap: policy.dailySpendCap.minorUnits, maxPurchasesPerHour: policy.maximumPurchasesPerHour,
                                    minLinkAgeSeconds: policy.minimumLinkAgeSeconds, source: stored == nil ? "default" : "api",
                                    changed: (stored?.changedAt.millisecondsSinceEpoch ?? 0) / 1000)
        }
    }

    public func setRiskSettings(_ body: RiskSettingsBody) async throws -> RiskSettingsView {
        try await mapped {
            var policy = try await store.read { try $0.issuerRiskPolicy() }?.policy ?? engine.configuration.risk
            if let cap = body.dailySpendCap { policy.dailySpendCap = .usd(cap) }
            if let perHour = body.maxPurchasesPerHour { policy.maximumPurchasesPerHour = perHour }
            if let age = body.minLinkAgeSeconds { policy.minimumLinkAgeSeconds = age }
            do {
                try await engine.setIssuerRiskPolicy(policy)
            } catch EngineError.invalid(let error) {
                let param = error.field.hasPrefix("risk.") ? String(error.field.dropFirst("risk.".count)) : error.field
                throw APIError.invalid("`\(param)` \(error.message).", param: param)
            }
            return try await riskSettings()
        }
    }

    /// One offer's own limits: the body replaces them whole (a limit left out follows the issuer's).
    public func setOfferRisk(offerID: String, _ body: RiskSettingsBody) async throws -> OfferView {
        try await mapped {
            guard let id = OfferID(validating: offerID) else { throw APIError.notFound("offer \(offerID.prefix(64))") }
            let overrides = RiskOverrides(dailySpendCap: body.dailySpendCap.map(Money.usd), maximumPurchasesPerHour: body.maxPurchasesPerHour,
                                          minimumLinkAgeSeconds: body.minLinkAgeSeconds)
            do {
                return view(try await engine.setRisk(of: id, to: overrides))
            } catch EngineError.invalid(let error) {
                let param = error.field.hasPrefix("risk.") ? String(error.field.dropFirst("risk.".count)) : error.field
                throw APIError.invalid("`\(param)` \(error.message).", param: param)
            }
        }
    }
}
