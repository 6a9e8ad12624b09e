import HashcartConnectors
import HashcartCore
import Testing

/// The bounded queue between a stream and the engine, and the cursor it hands out.
@Suite("Event buffer")
struct EventBufferTests {
    func event(_ id: String) -> NetworkEvent {
        NetworkEvent(network: .bluesky, eventID: id, kind: .post, author: SocialIdentity(network: .bluesky, userID: "did:plc:a", handle: ""),
                     createdAt: Instant(millisecondsSinceEpoch: 0))
    }

    @Test("the cursor never moves back: skipped lines before an event do not override it, skipped lines after do")
    func cursorNeverRegresses() async {
        let buffer = EventBuffer(capacity: 10)
        await buffer.advance(to: "100")  // skipped lines up to 100
        await buffer.push(.init(event: event("e1"), cursorAfter: "150"))
        var drained = await buffer.drain(limit: 10)
        #expect(drained.events.map(\.eventID) == ["e1"])
        #expect(drained.cursor == "150", "the event's own position, not the older skipped one")
        await buffer.advance(to: "200")  // more skipped lines
        drained = await buffer.drain(limit: 10)
        #expect(drained.events.isEmpty)
        #expect(drained.cursor == "200")
        await buffer.push(.init(event: event("e2"), cursorAfter: "250"))
        await buffer.push(.init(event: event("e3"), cursorAfter: "260"))
        drained = await buffer.drain(limit: 1)
        #expect(drained.cursor == "250", "only what was taken is covered")
        drained = await buffer.drain(limit: 1)
        #expect(drained.cursor == "260")
    }

    @Test("a full buffer makes the reader wait until the engine drains")
    func backpressure() async throws {
        let buffer = EventBuffer(capacity: 2)
        await buffer.push(.init(event: event("a"), cursorAfter: "1"))
        await buffer.push(.init(event: event("b"), cursorAfter: "2"))
        let third = Task { await buffer.push(.init(event: event("c"), cursorAfter: "3")) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await buffer.count == 2, "the third push waits")
        _ = await buffer.drain(limit: 1)
        await third.value
        #expect(await buffer.drain(limit: 10).events.map(\.eventID) == ["b", "c"])
    }
}
