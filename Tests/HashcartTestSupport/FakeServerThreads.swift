import HashcartStore

/// The threads the loopback fakes (Bluesky, Mastodon, X, the merchant's webhook receiver) answer
/// on. Their handlers must not wait for Swift's cooperative pool: tests running beside them (CPU-
/// bound property runs, fixture sweeps) can hold both of its threads on a 2-core machine for
/// longer than a client's 10 s deadline, and a fake that answers late fails a test that has
/// nothing wrong with it.
public enum FakeServerThreads {
    public static let shared = StoreThreads(count: 8, name: "fake-net")

    /// Runs `app.runService()`-style work on ``shared``.
    public static func start(_ operation: @escaping @Sendable () async throws -> Void) -> Task<Void, any Error> {
        Task(executorPreference: shared) { try await operation() }
    }
}
