import Crypto
import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartServer
import HashcartStore

/// A cardholder's own objects (its token or a cardholder user): purchases and cancelling one,
/// notifications, statement credits, and linking accounts by code or the network's sign-in.
extension EngineService {
    public func notifications(cardholderID: String, limit: Int) async throws -> ListView<NotificationView> {
        try await mapped {
            let all = try await store.read { try $0.notifications(cardAccountID: CardAccountID(cardholderID)) }
            let newest = all.reversed().prefix(limit + 1)
            return ListView(data: newest.prefix(limit).map {
                NotificationView(id: $0.id, kind: $0.kind, purchase: $0.purchaseID?.rawValue, message: $0.message,
                                 created: $0.createdAt.millisecondsSinceEpoch / 1000)
            }, hasMore: newest.count > limit)
        }
    }

    /// A cardholder's statement credits, newest first.
    public func statementCredits(cardholderID: String, limit: Int) async throws -> ListView<StatementCreditView> {
        try await mapped {
            let (credits, titles) = try await store.read { reader in
                let credits = try reader.statementCredits(cardAccountID: CardAccountID(cardholderID), limit: limit + 1)
                var titles: [OfferID: String] = [:]
                for id in Set(credits.map(\.offerID)) { titles[id] = try reader.offer(id)?.title }
                return (credits, titles)
            }
            return ListView(data: credits.prefix(limit).map { Self.view($0, title: titles[$0.offerID] ?? "") }, hasMore: credits.count > limit)
        }
    }

    public func loadedOffers(cardholderID: String, limit: Int) async throws -> ListView<LoadedOfferView> {
        try await mapped {
            let (loads, offers) = try await store.read { reader in
                let loads = try reader.statementCreditLoads(cardAccountID: CardAccountID(cardholderID), limit: limit + 1)
                var offers: [OfferID: Offer] = [:]
                for load in loads.prefix(limit) { offers[load.offerID] = try reader.offer(load.offerID) }
                return (loads, offers)
            }
            return ListView(data: loads.prefix(limit).compactMap { load in
                guard let offer = offers[load.offerID], let terms = offer.statementCredit else { return nil }
                return LoadedOfferView(offer: offer.id.rawValue, title: offer.title, spendThreshold: terms.spendThreshold.minorUnits,
                                       creditAmount: terms.credit.minorUnits, currency: terms.credit.currency.rawValue,
                                       loaded: load.loadedAt.millisecondsSinceEpoch / 1000, ends: offer.endsAt.millisecondsSinceEpoch / 1000)
            }, hasMore: loads.count > limit)
        }
    }

    static func view(_ credit: StatementCredit, title: String) -> StatementCreditView {
        StatementCreditView(id: credit.id.rawValue, offer: credit.offerID.rawValue, merchant: credit.merchantID.rawValue, title: title,
                            amount: credit.amount.minorUnits, currency: credit.amount.currency.rawValue, state: credit.state.rawValue,
                            created: credit.earnedAt.millisecondsSinceEpoch / 1000,
                            reversedAt: credit.reversedAt.map { $0.millisecondsSinceEpoch / 1000 })
    }

    public func cancelPurchase(cardholderID: String, id: String) async throws -> PurchaseView {
        try await mapped {
            guard let purchaseID = PurchaseID(validating: id) else { throw APIError.notFound("purchase \(id.prefix(64))") }
            try await engine.cancelPurchase(purchaseID, cardAccountID: CardAccountID(cardholderID))
            guard let purchase = try await store.read({ try $0.purchase(purchaseID) }) else { throw APIError.notFound("purchase \(id.prefix(64))") }
            return Self.view(purchase)
        }
    }

    static func view(_ p: Purchase) -> PurchaseView {
        PurchaseView(id: p.id.rawValue, offer: p.offerID.rawValue, reference: p.reference, state: p.state.rawValue,
                     declineReason: p.declineReason?.rawValue, declineMessage: p.declineReason?.cardholderMessage,
                     quantity: p.units, unitAmount: p.unitPrice.minorUnits, amount: p.amount.minorUnits, tax: p.tax.minorUnits, total: p.total.minorUnits,
                     currency: p.total.currency.rawValue, created: p.requestedAt.millisecondsSinceEpoch / 1000)
    }

    public func createLinkCode(cardholderID: String, _ body: CreateLinkBody) async throws -> LinkCodeView {
        try await mapped {
            guard let engine = engines[NetworkName(rawValue: body.network)] else {
                let names = engines.keys.map { "`\($0)`" }.sorted().joined(separator: ", ")
                throw APIError.invalid("This Hashcart links on \(names), not `\(body.network.prefix(32))`.", param: "network")
            }
            let code = try await engine.requestLinkCode(cardAccountID: CardAccountID(cardholderID))
            return LinkCodeView(code: code.code, network: code.network.rawValue, expiresAt: code.expiresAt.millisecondsSinceEpoch / 1000,
                                instructions: "Post \(code.code) from your \(code.network) account before it expires; Hashcart replies when it is linked.")
        }
    }

    public func startOAuthLink(cardholderID: String, _ body: CreateOAuthLinkBody, browserNonce: String?) async throws -> OAuthLinkView {
        try await mapped {
            let network = NetworkName(rawValue: body.network)
            guard let provider = oauthLinks[network] else {
                let names = oauthLinks.keys.map { "`\($0)`" }.sorted().joined(separator: ", ")
                throw APIError.invalid(names.isEmpty
                    ? "This Hashcart's \(mode) mode has no OAuth sign-in set up; link by code (POST /v1/links)."
                    : "OAuth sign-in links on \(names) here, not `\(body.network.prefix(32))`; link by code (POST /v1/links).", param: "network")
            }
            let state = OAuthState.make(mode: mode, random: PKCE.randomToken())
            let verifier = PKCE.randomToken() + PKCE.randomToken()
            let authorization = try await engine.beginOAuthLink(cardAccountID: CardAccountID(cardholderID), network: network,
                                                                stateHash: Self.stateHash(state), codeVerifier: verifier,
                                                                browserBindingHash: browserNonce.map(Self.stateHash))
            return OAuthLinkView(network: network.rawValue, authorizeUrl: provider.authorizationURL(state: state, codeVerifier: verifier),
                                 expiresAt: authorization.expiresAt.millisecondsSinceEpoch / 1000)
        }
    }

    public func finishOAuthLink(network: String, state: String, code: String?, error: String?, browserNonce: String?) async throws -> LinkView {
        try await mapped {
            // No sign-in can have started here for a network this mode has no OAuth app on.
            guard let provider = oauthLinks[NetworkName(rawValue: network)] else { throw OAuthLinkError.unknownState }
            guard OAuthState.mode(of: state) == mode else { throw OAuthLinkError.unknownState }
            func isVisibleASCII(_ value: String, upTo limit: Int) -> Bool {
                (1...limit).contains(value.utf8.count) && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
            }
            // A read first: a forged or replayed state (anyone can send one) never takes the writer.
            let stateHash = Self.stateHash(state)
            guard let seen = try await store.read({ try $0.oauthAuthorization(stateHash: stateHash) }) else { throw OAuthLinkError.unknownState }
            guard seen.usedAt == nil else { throw OAuthLinkError.stateUsed }
            // Started from a page: only the browser holding its cookie finishes it (checked before
            // the state is taken, so a link sent to someone else does not spend it either).
            if let binding = seen.browserBindingHash {
                guard SecretText.equal(browserNonce.map(Self.stateHash) ?? "", binding) else { throw OAuthLinkError.otherBrowser }
            }
            // Then the state is taken, whatever came with it: a sign-in is used once.
            let authorization = try await engine.claimOAuthLink(stateHash: stateHash, callbackNetwork: provider.network)
            if let error {
                let reason = isVisibleASCII(error, upTo: 64) ? error : "an unreadable error"
                throw OAuthLinkError.denied(network: provider.network, reason: reason)
            }
            guard let code, isVisibleASCII(code, upTo: 2_048) else {
                throw APIError.invalid("The network sent no usable `code`; start linking again.", param: "code")
            }
            let identity: SocialIdentity
            do {
                identity = try await provider.identity(code: code, codeVerifier: authorization.codeVerifier)
            } catch let failure as ConnectorError {
                throw failure.isRetryable
                    ? APIError(status: .badGateway, type: .api, code: "network_unavailable",
                               message: "\(provider.network) did not answer the sign-in (\(failure.message.prefix(200))); start linking again.")
                    : APIError(status: .badRequest, code: "oauth_exchange_failed",
                               message: "\(provider.network) refused the sign-in (\(failure.message.prefix(200))); start linking again.")
            }
            return Self.view(try await engine.completeOAuthLink(authorization, identity: identity))
        }
    }

    /// Hex SHA-256 of an OAuth state: the store keeps only this.
    static func stateHash(_ state: String) -> String {
        SHA256.hash(data: Data(state.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public func links(cardholderID: String) async throws -> ListView<LinkView> {
        try await mapped {
            ListView(data: try await store.read { try $0.links(cardAccountID: CardAccountID(cardholderID)) }.map(Self.view), hasMore: false)
        }
    }

    public func deleteLink(cardholderID: String, id: String) async throws -> LinkView {
        try await mapped {
            guard let link = try await store.read({ try $0.link(LinkID(id)) }), link.cardAccountID.rawValue == cardholderID, link.isActive else {
                throw APIError.notFound("link \(id.prefix(64))")
            }
            try await engine.unlink(cardAccountID: link.cardAccountID, network: link.identity.network)
            var ended = Self.view(link)
            ended.active = false
            return ended
        }
    }

    static func view(_ link: Link) -> LinkView {
        LinkView(id: link.id.rawValue, network: link.identity.network.rawValue, userId: link.identity.userID, handle: link.identity.handle,
                 created: link.createdAt.millisecondsSinceEpoch / 1000, active: link.isActive)
    }

    public func purchases(cardholderID: String, limit: Int, startingAfter: String?) async throws -> ListView<PurchaseView> {
        try await mapped {
            let after: PurchaseID? = try queryID(startingAfter, param: "starting_after")
            let (purchases, shipped) = try await store.read { reader in
                let purchases = try reader.purchases(cardAccountID: CardAccountID(cardholderID), limit: limit + 1,
                                                     startingAfter: after)
                let shipped = Set(try purchases.prefix(limit).filter { $0.state == .captured || $0.state == .authorized }.compactMap { purchase in
                    try reader.order(Order.id(for: purchase.id)).flatMap { $0.status == .shipped ? purchase.id : nil }
                })
                return (purchases, shipped)
            }
            return ListView(data: purchases.prefix(limit).map { purchase in
                var view = Self.view(purchase)
                view.shipped = shipped.contains(purchase.id)
                return view
            }, hasMore: purchases.count > limit)
        }
    }
}
