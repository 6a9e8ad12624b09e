import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore

/// The operator's accounts: merchants and card accounts, opened, listed, changed and closed.
extension EngineService {
    public func createMerchant(_ body: CreateMerchantBody) async throws -> MerchantView {
        try await mapped {
            let account = try body.payoutAccount.map { try Self.payoutAccount($0, param: "payout_account.") }
            let merchant = try await engine.createMerchant(name: body.name, discountRateBasisPoints: body.discountRateBps ?? 250,
                                                           payoutAccount: account)
            return MerchantView(id: merchant.id.rawValue, name: merchant.name, discountRateBps: merchant.discountRateBasisPoints,
                                created: merchant.createdAt.millisecondsSinceEpoch / 1000,
                                payoutAccount: account.map { Self.view(PayoutAccountSummary($0)) })
        }
    }

    public func createCardholder(_ body: CreateCardholderBody) async throws -> CardholderView {
        try await mapped {
            guard body.currency == nil || body.currency?.uppercased() == Currency.usd.rawValue else {
                throw APIError.invalid("Only USD credit lines are supported.", param: "currency")
            }
            guard let state = USState(code: body.address.state) else {
                throw APIError.invalid("`address.state` must be a two-letter US state code (50 states and DC).", param: "address.state")
            }
            let address = BillingAddress(name: body.billingName, line1: body.address.line1, line2: body.address.line2,
                                         city: body.address.city, state: state, postalCode: body.address.postalCode)
            let pan = try body.pan.map { try PrimaryAccountNumber($0) }
            guard let last4 = body.cardLast4 ?? pan?.last4 else {
                throw APIError.invalid("`card_last4` is required when `pan` is not given.", param: "card_last4", code: "parameter_missing")
            }
            let card = try await engine.createCardAccounts([CardAccountDraft(creditLimit: .usd(body.creditLimit), billing: address,
                                                                             cardLast4: last4, pan: pan)])[0]
            return Self.view(card, availableCredit: card.creditLimit.minorUnits)
        }
    }

    public func merchants(search: String?, limit: Int, after: String?) async throws -> ListView<MerchantView> {
        try await mapped {
            let (search, after): (String?, MerchantID?) = (try searchQuery(search), try queryID(after, param: "starting_after"))
            let found = try await store.read { try $0.merchants(search: search, limit: limit + 1, after: after) }
            var views: [MerchantView] = []
            for merchant in found.prefix(limit) { views.append(try await merchantView(merchant.id)) }
            return ListView(data: views, hasMore: found.count > limit)
        }
    }

    public func merchant(id: String) async throws -> MerchantView {
        try await mapped {
            guard let merchantID = MerchantID(validating: id) else { throw APIError.notFound("merchant \(id.prefix(64))") }
            return try await merchantView(merchantID)
        }
    }

    public func cardholders(search: String?, limit: Int, after: String?) async throws -> ListView<CardholderView> {
        try await mapped {
            let (search, after): (String?, CardAccountID?) = (try searchQuery(search), try queryID(after, param: "starting_after"))
            let found = try await store.read { try $0.cardAccounts(search: search, limit: limit + 1, after: after) }
            return ListView(data: try await cardholderViews(Array(found.prefix(limit))), hasMore: found.count > limit)
        }
    }

    public func cardholder(id: String) async throws -> CardholderView {
        try await mapped { try await cardholderView(try cardAccountID(id)) }
    }

    public func updateCardholder(id: String, _ body: UpdateCardholderBody) async throws -> CardholderView {
        try await mapped {
            let card = try await engine.setCreditLimit(cardAccountID: try cardAccountID(id), to: .usd(body.creditLimit))
            return try await cardholderView(card.id)
        }
    }

    public func closeCardholder(id: String, _ body: CloseAccountBody) async throws -> CardholderView {
        try await mapped {
            let card = try await engine.closeCardAccount(try cardAccountID(id), reason: body.reason)
            return try await cardholderView(card.id)
        }
    }

    public func closeMerchant(id: String, _ body: CloseAccountBody) async throws -> MerchantView {
        try await mapped {
            guard let merchantID = MerchantID(validating: id) else { throw APIError.notFound("merchant \(id.prefix(64))") }
            _ = try await engine.closeMerchant(merchantID, reason: body.reason)
            return try await merchantView(merchantID)
        }
    }

    func cardAccountID(_ id: String) throws -> CardAccountID {
        guard let cardID = CardAccountID(validating: id) else { throw APIError.notFound("cardholder \(id.prefix(64))") }
        return cardID
    }

    func cardholderView(_ id: CardAccountID) async throws -> CardholderView {
        guard let card = try await store.read({ try $0.cardAccount(id) }) else { throw APIError.notFound("cardholder \(id.rawValue.prefix(64))") }
        return try await cardholderViews([card])[0]
    }

    /// Views of `cards` with what each can still spend, read from their credit lines in one read.
    func cardholderViews(_ cards: [CardAccount]) async throws -> [CardholderView] {
        precondition(cards.count <= 500, "cardholder lists are paged")
        let lines = try await store.read { reader in
            try cards.map { try reader.ledgerAccount(LedgerAccounts.creditLine($0.id).id)?.availableCredit ?? 0 }
        }
        return zip(cards, lines).map { Self.view($0, availableCredit: $1) }
    }

    static func view(_ card: CardAccount, availableCredit: Int64) -> CardholderView {
        CardholderView(id: card.id.rawValue, creditLimit: card.creditLimit.minorUnits, currency: card.creditLimit.currency.rawValue,
                       billingState: card.billing.state.rawValue, panOnFile: card.panFingerprint != nil,
                       created: card.createdAt.millisecondsSinceEpoch / 1000, availableCredit: availableCredit,
                       closed: card.closedAt.map { $0.millisecondsSinceEpoch / 1000 })
    }
}
