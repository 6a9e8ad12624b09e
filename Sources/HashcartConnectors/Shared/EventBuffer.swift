import HashcartCore

/// The bounded queue between a connector's stream reader and the engine's polls.
///
/// The reader ``push(_:)``es; when the buffer holds ``capacity`` events it suspends until the
/// engine drains some, so a slow engine slows the reader, which stops reading the socket, and the
/// network's own flow control does the rest (nothing is dropped, nothing grows without bound).
/// Each entry carries the stream cursor to store once it and everything before it are committed.
public actor EventBuffer {
    public struct Entry: Sendable {
        public var event: NetworkEvent
        public var cursorAfter: String

        public init(event: NetworkEvent, cursorAfter: String) {
            self.event = event
            self.cursorAfter = cursorAfter
        }
    }

    public let capacity: Int
    private var entries: [Entry] = []
    private var head = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// The position of the newest skipped line, when it is newer than every entry pushed (a push
    /// clears it: an entry's own cursor is then the newest).
    private var idleCursor: String?

    public init(capacity: Int = 10_000) {
        precondition(capacity > 0 && capacity <= 1_000_000, "the buffer is bounded")
        self.capacity = capacity
    }

    public var count: Int { entries.count - head }

    /// Adds an event; waits while the buffer is full.
    public func push(_ entry: Entry) async {
        while count >= capacity {
            await withCheckedContinuation { waiting.append($0) }
        }
        entries.append(entry)
        idleCursor = nil
    }

    /// Records progress through events that were all skipped (the cursor still moves on).
    public func advance(to cursor: String) {
        idleCursor = cursor
    }

    /// Takes up to `limit` entries (for connectors whose cursor has a part per stream: each entry's
    /// `cursorAfter` is then that stream's part, and the connector merges them).
    public func drainEntries(limit: Int) -> [Entry] {
        let taken = min(limit, count)
        let slice = Array(entries[head..<(head + taken)])
        head += taken
        compactAndWake()
        return slice
    }

    private func compactAndWake() {
        if count == 0 {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4_096 {
            entries.removeFirst(head)
            head = 0
        }
        let resumed = waiting
        waiting.removeAll()
        for continuation in resumed { continuation.resume() }
    }

    /// Takes up to `limit` events and the cursor to store after them: the last one's, or when the
    /// buffer is then empty, the position of the newest line skipped since.
    public func drain(limit: Int) -> (events: [NetworkEvent], cursor: String?) {
        let taken = drainEntries(limit: limit)
        let cursor = count == 0 ? (idleCursor ?? taken.last?.cursorAfter) : taken.last?.cursorAfter
        if count == 0 { idleCursor = nil }
        return (taken.map(\.event), cursor)
    }
}
