import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartStore
import HashcartTestSupport
import Synchronization
import Testing

/// A network in memory: the events a test pushes, and the replies the engine posts.
final class ScriptedConnector: NetworkConnector {
    let network: NetworkName
    let clock: any WallClock
    var officialAccountID: String { "official" }
    let state = Mutex<(events: [NetworkEvent], replies: [(inReplyTo: String, text: String)], announcements: [String])>(([], [], []))

    init(network: NetworkName, clock: any WallClock) {
        self.network = network
        self.clock = clock
    }

    func push(_ event: NetworkEvent) { state.withLock { $0.events.append(event) } }

    var replies: [(inReplyTo: String, text: String)] { state.withLock { $0.replies } }

    func events(after cursor: String?, limit: Int) async throws -> EventPage {
        let start = cursor.flatMap(Int.init) ?? 0
        let events = state.withLock { Array($0.events.dropFirst(start).prefix(limit)) }
        return EventPage(events: events, nextCursor: String(start + events.count))
    }

    func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        let id = state.withLock { state in
            state.replies.append((postID, text))
            return "\(network)-reply-\(state.replies.count)"
        }
        return PostedReply(postID: id, createdAt: clock.now())
    }

    func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        let id = state.withLock { state in
            state.announcements.append(text)
            return "\(network)-post-\(state.announcements.count)"
        }
        return PostedReply(postID: id, createdAt: clock.now())
    }
}

/// Two networks in one process, on one store: each network's engine fires its own purchases'
/// timers and replies on its own network, never the other's.
@Suite(.onEveryBackend) struct TwoNetworksTests {
    @Test func eachPurchaseExpiresAndIsAnsweredOnItsOwnNetwork() async throws {
        let world = try await TestWorld()
        let mastodon = ScriptedConnector(network: .mastodon, clock: world.clock)
        let other = try await Engine(store: world.store, connector: mastodon, clock: world.clock, ids: SequentialIDGenerator(namespace: "m"),
                               taxTable: try BundledTaxTable.load(), configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0)))
        let merchant = try await world.engine.createMerchant(name: "Gadgets Inc")
        let offer = try await world.offer(merchant: merchant, quantity: 5)
        let (_, alice) = try await world.cardholder(handle: "alice")  // on the sandbox
        let bobCard = try await world.engine.createCardAccount(creditLimit: .usd(500_000), billing: world.address(), cardLast4: "4242")
        let bob = SocialIdentity(network: .mastodon, userID: "https://social.example/users/bob", handle: "@bob")
        _ = try await other.link(cardAccountID: bobCard.id, identity: bob, at: world.clock.now().adding(seconds: -7_200))

        let (alicePost, _) = try await world.post(alice)
        mastodon.push(NetworkEvent(network: .mastodon, eventID: "m-post-1", kind: .post, author: bob, text: "I want it #BuyKindleFireHD",
                                   hashtags: ["BuyKindleFireHD"], createdAt: world.clock.now()))
        for _ in 0..<5 {
            _ = try await world.engine.runRound()
            _ = try await other.runRound()
        }
        #expect(try await world.offerNow(offer.id).reservedUnits == 2)
        #expect(mastodon.replies.count == 1 && mastodon.replies[0].inReplyTo == "m-post-1")

        // Nobody confirms: both windows close. Each engine runs its timers; the sandbox's first.
        world.clock.advance(seconds: 1_000)
        for _ in 0..<5 {
            _ = try await world.engine.runRound()
            _ = try await other.runRound()
        }
        #expect(try await world.offerNow(offer.id).reservedUnits == 0)
        #expect(try await world.purchases().allSatisfy { $0.state == .expired })
        // Bob hears of it on Mastodon, Alice on the sandbox; neither network got the other's reply.
        #expect(mastodon.replies.count == 2 && mastodon.replies.allSatisfy { $0.inReplyTo == "m-post-1" }, "\(mastodon.replies)")
        let aliceReplies = try world.replies(to: alicePost.id)
        #expect(aliceReplies.count == 2, "\(aliceReplies.map(\.text))")
        #expect(try await world.store.read { try $0.outboundPosts(limit: 100) }.allSatisfy { $0.state == .sent }, "every reply was sent")
        #expect(try await world.audit() == [])
    }
}
