import Foundation
import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

/// The unit of work's bulk loads (`prefetch`) on each real store. Ids come from the networks and
/// reach the lists SQL tests them against (`= ANY($1)` on PostgreSQL, a JSON array through
/// `json_each` on SQLite): every id a network may send, quotes and backslashes included, must be
/// found again, or a redelivered event would look new.
@Suite(.onEveryBackend) struct WorkingSetTests {
    /// Printable ASCII ids as NetworkEvent allows them, chosen to break a careless list encoding.
    static let awkwardIDs = [
        #"plain-123"#, #"with"quote"#, #"back\slash"#, #"\""#, #"\\"#, #"end\"#, #"["#, #"]"#, #"a,b"#, #"'single'"#,
        #"{"json":1}"#, #"%_like"#, #"$1"#, #"?1"#, "at://did:plc:abc/app.bsky.feed.post/3m", String(repeating: "x", count: 200),
    ]

    @Test func aRedeliveredEventIsKnownWhateverItsIDHolds() async throws {
        let fixture = try await StoreFixture()
        let first = try await fixture.store.write { tx in
            try Self.awkwardIDs.map { try tx.markEventProcessed(network: .sandbox, eventID: $0, at: StoreFixture.now) }
        }
        #expect(first == Array(repeating: true, count: Self.awkwardIDs.count))
        // The redelivery, after a prefetch that loads them all in one statement.
        let again = try await fixture.store.write { tx in
            var keys = BatchKeys(network: .sandbox)
            keys.eventIDs = Self.awkwardIDs + ["never-seen-\"one\""]
            try tx.prefetch(keys)
            return try (Self.awkwardIDs + ["never-seen-\"one\""]).map { try tx.markEventProcessed(network: .sandbox, eventID: $0, at: StoreFixture.now) }
        }
        #expect(again == Array(repeating: false, count: Self.awkwardIDs.count) + [true])
    }

    @Test func deletedPostsAndReferencesAreFoundWhateverTheirIDsHold() async throws {
        let fixture = try await StoreFixture()
        try await fixture.store.write { tx in
            for (index, id) in Self.awkwardIDs.enumerated() {
                try tx.recordDeletedPost(network: .sandbox, postID: id, at: StoreFixture.now.adding(seconds: Int64(index)))
            }
        }
        let found = try await fixture.store.write { tx in
            var keys = BatchKeys(network: .sandbox)
            keys.eventIDs = Self.awkwardIDs
            keys.references = Self.awkwardIDs
            try tx.prefetch(keys)
            return try Self.awkwardIDs.map { try tx.postDeletedAt(network: .sandbox, postID: $0) }
        }
        #expect(found == Self.awkwardIDs.indices.map { StoreFixture.now.adding(seconds: Int64($0)) })
    }
}
