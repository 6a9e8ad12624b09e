import HashcartStore
import Logging
import ServiceLifecycle

/// The threads the loopback fakes (Bluesky, Mastodon, X, the merchant's webhook receiver) answer
/// on. Their handlers must not wait for Swift's cooperative pool: tests running beside them (CPU-
/// bound property runs, fixture sweeps) can hold both of its threads on a 2-core machine for
/// longer than a client's 10 s deadline, and a fake that answers late fails a test that has
/// nothing wrong with it.
public enum FakeServerThreads {
    public static let shared = StoreThreads(count: 8, name: "fake-net")

    /// Runs a fake's server on ``shared``. Cancelling the returned task shuts the server down
    /// gracefully first (it stops accepting, then serves what it accepted) and cancels it 2 s later:
    /// cancelling a Hummingbird server outright can drop a connection it accepted but had not yet
    /// taken up, and NIO traps on that ("Deinited NIOAsyncWriter without calling finish()",
    /// apple/swift-nio#3481), which once crashed a whole CI test run.
    public static func serve(_ service: some Service) -> Task<Void, any Error> {
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "hashcart.fake-server")))
        let running = Task(executorPreference: shared) { try await group.run() }
        return Task(executorPreference: shared) {
            try await withTaskCancellationHandler {
                try await running.value
            } onCancel: {
                Task(executorPreference: shared) {
                    await group.triggerGracefulShutdown()
                    try? await Task.sleep(for: .seconds(2))
                    running.cancel()
                }
            }
        }
    }
}
