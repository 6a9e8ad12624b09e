import HashcartCore
import Synchronization

/// The engine's connector to the ``SimulatedNetwork``, with the network's failures: a post that
/// fails (retryable), and a post that succeeds but whose answer is lost (the engine retries with
/// the same idempotency key and must get the same post, not a second one). A dead process can
/// neither read nor post.
final class SimulatedConnector: NetworkConnector {
    let world: SimulatedNetwork
    let crash: CrashSwitch
    let faults: Mutex<SplitMix64>
    let failurePercent: Int
    let lostAnswerPercent: Int
    /// A bug planted on purpose, to show the checks catch it (tests only).
    let sabotage: Sabotage?

    init(world: SimulatedNetwork, crash: CrashSwitch, seed: UInt64, failurePercent: Int, lostAnswerPercent: Int, sabotage: Sabotage? = nil) {
        self.sabotage = sabotage
        self.world = world
        self.crash = crash
        self.faults = Mutex(SplitMix64(seed: seed))
        self.failurePercent = failurePercent
        self.lostAnswerPercent = lostAnswerPercent
    }

    var network: NetworkName { .sandbox }
    var officialAccountID: String { SimulatedNetwork.officialID }

    func events(after cursor: String?, limit: Int) async throws -> EventPage {
        try crash.checkAlive()
        let position: Int
        if let cursor {
            guard let value = Int(cursor), value >= 0 else {
                throw ConnectorError(network: .sandbox, message: "cursor \"\(cursor.prefix(40))\" is not a log position", isRetryable: false)
            }
            position = value
        } else {
            position = 0
        }
        let page = world.page(after: position, limit: limit)
        if sabotage == .loseEvents {
            // The bug: every third event of a page is skipped, yet the cursor moves past it.
            return EventPage(events: page.events.enumerated().filter { $0.offset % 3 != 1 }.map(\.element), nextCursor: String(page.next))
        }
        return EventPage(events: page.events, nextCursor: String(page.next))
    }

    func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        try await post(inReplyTo: postID, text: text, idempotencyKey: idempotencyKey)
    }

    func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        try await post(inReplyTo: nil, text: text, idempotencyKey: idempotencyKey)
    }

    /// Replies and announcements meet the same faults: a 503, or an answer lost after posting.
    private func post(inReplyTo postID: String?, text: String, idempotencyKey: String) async throws -> PostedReply {
        try crash.checkAlive()
        let roll = faults.withLock { Int.random(in: 0..<100, using: &$0) }
        if roll < failurePercent {
            throw ConnectorError(network: .sandbox, message: "simulated: 503 from the network", isRetryable: true)
        }
        // The bug: a fresh key per attempt, so a retry after a lost answer posts the reply again.
        let key = sabotage == .ignoreIdempotencyKeys ? idempotencyKey + "#\(faults.withLock { $0.next() })" : idempotencyKey
        guard let post = world.officialPost(inReplyTo: postID, text: text, idempotencyKey: key) else {
            throw ConnectorError(network: .sandbox, message: "simulated: post \(postID ?? "of its own") was refused or is gone", isRetryable: false)
        }
        if roll < failurePercent + lostAnswerPercent {
            throw ConnectorError(network: .sandbox, message: "simulated: posted, but the answer was lost", isRetryable: true)
        }
        return PostedReply(postID: post.id, createdAt: post.createdAt)
    }
}

/// Bugs planted in the simulated connector, to prove the simulator's checks catch them (the
/// simulator's own tests run with each one and expect a broken rule). Never used by `hashcart sim`.
public enum Sabotage: Sendable {
    /// Events are lost between the network and the engine although the cursor moves on.
    case loseEvents
    /// Replies are posted without their idempotency key: a retry posts a second reply.
    case ignoreIdempotencyKeys
    /// The store forgets which events it processed (the engine's redelivery check, removed): a
    /// duplicate delivery is handled again. Purchases stay unique by post, so only what the
    /// merchant is told (the funnel) shows it.
    case forgetProcessedEvents
    /// Webhooks carry a stub (the event's id and type, no object): the merchant cannot read them.
    case stubWebhookPayloads
}
