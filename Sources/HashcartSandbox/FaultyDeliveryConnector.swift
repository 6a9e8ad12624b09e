import HashcartCore
import Synchronization

/// Wraps a connector and delivers its events the way real networks do: some twice, some out of
/// order, some again on a later page. Deterministic for a seed. Used by the demo and tests to
/// show that at-least-once, reordered delivery changes nothing twice.
public final class FaultyDeliveryConnector: NetworkConnector {
    public let inner: any NetworkConnector
    private let state: Mutex<State>

    struct State {
        var random: SplitMix64
        var previousPage: [NetworkEvent] = []
    }

    public let duplicatePercent: Int
    public let reorderPercent: Int

    public init(wrapping inner: any NetworkConnector, seed: UInt64, duplicatePercent: Int = 10, reorderPercent: Int = 10) {
        precondition((0...100).contains(duplicatePercent) && (0...100).contains(reorderPercent), "percentages")
        self.inner = inner
        self.duplicatePercent = duplicatePercent
        self.reorderPercent = reorderPercent
        state = Mutex(State(random: SplitMix64(seed: seed)))
    }

    public var network: NetworkName { inner.network }
    public var officialAccountID: String { inner.officialAccountID }

    public func events(after cursor: String?, limit: Int) async throws -> EventPage {
        let page = try await inner.events(after: cursor, limit: limit)
        let duplicatePercent = duplicatePercent
        let reorderPercent = reorderPercent
        let events = state.withLock { state -> [NetworkEvent] in
            var delivered: [NetworkEvent] = []
            // Redeliver some of the previous page (a reconnect replays a little).
            for event in state.previousPage where state.random.chance(duplicatePercent / 2) { delivered.append(event) }
            for event in page.events {
                delivered.append(event)
                if state.random.chance(duplicatePercent) { delivered.append(event) }
            }
            // Swap neighbours: events arrive out of order.
            if delivered.count > 1 {
                for index in 0..<(delivered.count - 1) where state.random.chance(reorderPercent) {
                    delivered.swapAt(index, index + 1)
                }
            }
            state.previousPage = page.events
            return delivered
        }
        return EventPage(events: events, nextCursor: page.nextCursor)
    }

    public func reply(to postID: String, text: String, idempotencyKey: String) async throws -> PostedReply {
        try await inner.reply(to: postID, text: text, idempotencyKey: idempotencyKey)
    }

    public func announce(text: String, idempotencyKey: String) async throws -> PostedReply {
        try await inner.announce(text: text, idempotencyKey: idempotencyKey)
    }
}
