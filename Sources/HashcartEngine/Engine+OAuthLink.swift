import HashcartCore

/// Linking by OAuth: the cardholder signs in at the network, which sends them back with a code
/// that proves the account. The engine keeps the sign-in (hashed state, PKCE verifier) and, once the
/// network has said whose account it is, links it with the same rules as a link code: one active
/// link per identity and per card and network.
extension Engine {
    /// Records a sign-in the cardholder is starting at `network`. Refused when the card is unknown,
    /// already linked on that network, or has ``OAuthAuthorization/maximumPendingPerCard`` waiting.
    public func beginOAuthLink(cardAccountID: CardAccountID, network: NetworkName, stateHash: String,
                               codeVerifier: String, browserBindingHash: String? = nil) async throws -> OAuthAuthorization {
        let now = clock.now()
        let authorization = OAuthAuthorization(stateHash: stateHash, cardAccountID: cardAccountID, network: network, codeVerifier: codeVerifier,
                                               createdAt: now, expiresAt: now.adding(seconds: OAuthAuthorization.lifetimeSeconds),
                                               browserBindingHash: browserBindingHash)
        try await store.write { tx in
            guard try tx.cardAccount(cardAccountID) != nil else { throw EngineError.notFound("card account \(cardAccountID)") }
            try self.refuseIfClosed(cardAccountID, tx: tx)
            guard try tx.activeLink(cardAccountID: cardAccountID, network: network) == nil else { throw OAuthLinkError.cardAlreadyLinked(network) }
            guard try tx.pendingOAuthAuthorizations(cardAccountID: cardAccountID, at: now) < OAuthAuthorization.maximumPendingPerCard else {
                throw OAuthLinkError.tooManyPending
            }
            try tx.insertOAuthAuthorization(authorization)
        }
        return authorization
    }

    /// Takes the sign-in a callback's state belongs to, once: it is marked used whatever happens
    /// next (an authorization code is single-use too), so a replayed or raced callback is refused.
    public func claimOAuthLink(stateHash: String, callbackNetwork: NetworkName) async throws -> OAuthAuthorization {
        let now = clock.now()
        return try await store.write { tx in
            guard let authorization = try tx.oauthAuthorization(stateHash: stateHash) else { throw OAuthLinkError.unknownState }
            guard authorization.usedAt == nil else { throw OAuthLinkError.stateUsed }
            guard authorization.network == callbackNetwork else {
                throw OAuthLinkError.wrongNetwork(started: authorization.network, callback: callbackNetwork)
            }
            guard now < authorization.expiresAt else { throw OAuthLinkError.stateExpired }
            guard try tx.markOAuthAuthorizationUsed(stateHash: stateHash, at: now) else { throw OAuthLinkError.stateUsed }
            return authorization
        }
    }

    /// Links the identity the network proved to the card that started the sign-in.
    public func completeOAuthLink(_ authorization: OAuthAuthorization, identity: SocialIdentity) async throws -> Link {
        precondition(identity.network == authorization.network, "the provider answers for its own network")
        let now = clock.now()
        let link = Link(id: LinkID(ids.next(prefix: "lnk")), cardAccountID: authorization.cardAccountID, identity: identity, createdAt: now)
        try await store.write { tx in
            guard try tx.cardAccount(authorization.cardAccountID) != nil else { throw EngineError.notFound("card account \(authorization.cardAccountID)") }
            try self.refuseIfClosed(authorization.cardAccountID, tx: tx)
            guard try tx.activeLink(network: identity.network, userID: identity.userID) == nil else { throw OAuthLinkError.identityTaken(identity.network) }
            guard try tx.activeLink(cardAccountID: authorization.cardAccountID, network: identity.network) == nil else {
                throw OAuthLinkError.cardAlreadyLinked(identity.network)
            }
            try tx.insertLink(link)
            try self.notifyLinked(link, how: "by signing in at \(identity.network)", tx: tx, now: now)
        }
        return link
    }
}
