import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import Testing

/// Small read and act helpers shared by the engine tests.
extension TestWorld {
    /// A cardholder with chosen private data, linked at `linkedAt` (a day ago by default).
    func cardholder(handle: String, billing: BillingAddress, last4: String, limit: Int64 = 500_000,
                    linkedAt: Instant? = nil) async throws -> (CardAccount, SandboxAccount) {
        let card = try await engine.createCardAccount(creditLimit: .usd(limit), billing: billing, cardLast4: last4)
        let account = try sandbox.createAccount(handle: handle)
        try await engine.link(cardAccountID: card.id, identity: identity(of: account), at: linkedAt ?? clock.now().adding(seconds: -86_400))
        return (card, account)
    }

    func identity(of account: SandboxAccount) -> SocialIdentity {
        SocialIdentity(network: .sandbox, userID: account.id, handle: "@" + account.handle)
    }

    /// Every event the sandbox has served so far, in feed order.
    func feed() throws -> [NetworkEvent] {
        try sandbox.events(after: 0, limit: 100_000).events
    }

    func purchase(of post: SandboxPost) async throws -> Purchase? {
        try await store.read { try $0.purchase(Purchase.id(network: .sandbox, postID: post.id)) }
    }

    func offerNow(_ id: OfferID) async throws -> Offer {
        try #require(try await store.read { try $0.offers() }.first { $0.id == id })
    }

    func orders() async throws -> [Order] {
        try await store.read { try $0.orders() }
    }

    func purchases() async throws -> [Purchase] {
        try await store.read { try $0.purchases() }
    }

    func creditLine(_ card: CardAccount) async throws -> LedgerAccount {
        try #require(try await store.read { try $0.ledgerAccount(LedgerAccounts.creditLine(card.id).id) })
    }

    func notifications(_ card: CardAccount) async throws -> [CardholderNotification] {
        try await store.read { try $0.notifications(cardAccountID: card.id) }
    }

    func officialPosts() throws -> [SandboxPost] {
        try sandbox.posts(authorID: sandbox.official.id, limit: 1_000)
    }

    /// Official replies to `postID`, oldest first.
    func replies(to postID: String) throws -> [SandboxPost] {
        try sandbox.posts(authorID: sandbox.official.id, inReplyTo: postID)
    }

    /// Posts `text` from `account`, settles, and returns the post with the official reply to it (if any).
    func post(_ account: SandboxAccount, _ text: String = "I want it #BuyKindleFireHD") async throws -> (SandboxPost, SandboxPost?) {
        let post = try sandbox.post(authorID: account.id, text: text)
        try await settle()
        return (post, try reply(to: post.id))
    }

    /// Posts the hashtag, reposts the confirmation request a minute later and settles: a whole purchase.
    @discardableResult
    func buy(_ account: SandboxAccount, _ text: String = "I want it #BuyKindleFireHD") async throws -> Purchase {
        let (post, request) = try await self.post(account, text)
        let confirmation = try #require(request)
        clock.advance(seconds: 60)
        try sandbox.repost(authorID: account.id, postID: confirmation.id)
        try await settle()
        return try #require(try await purchase(of: post))
    }

    /// A snapshot of everything money and stock depend on, to compare before and after.
    func moneySnapshot() async throws -> MoneySnapshot {
        try await store.read { reader in
            MoneySnapshot(purchases: try reader.purchases(), orders: try reader.orders(), ledger: try reader.ledgerAccounts(),
                          offers: try reader.offers(), outbound: try reader.outboundPosts(),
                          merchantEvents: try reader.merchantEventCounts(),
                          notifications: try reader.count("cardholder_notifications"))
        }
    }
}

struct MoneySnapshot: Equatable {
    var purchases: [Purchase]
    var orders: [Order]
    var ledger: [LedgerAccount]
    var offers: [Offer]
    var outbound: [OutboundPost]
    var merchantEvents: [String: Int64]
    var notifications: Int64
}
