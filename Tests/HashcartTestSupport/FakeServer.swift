import Logging
import ServiceLifecycle

/// How the loopback fakes (Bluesky, Mastodon, X, the merchant's webhook receiver) run.
public enum FakeServer {
    /// Runs a fake's server. Cancelling the returned task shuts the server down gracefully first
    /// (it stops accepting, then serves what it accepted) and cancels it 2 s later: cancelling a
    /// Hummingbird server outright can drop a connection it accepted but had not yet taken up, and
    /// NIO traps on that ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#3481),
    /// which once crashed a whole CI test run.
    public static func serve(_ service: some Service) -> Task<Void, any Error> {
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "hashcart.fake-server")))
        let running = Task { try await group.run() }
        return Task {
            try await withTaskCancellationHandler {
                try await running.value
            } onCancel: {
                Task {
                    await group.triggerGracefulShutdown()
                    try? await Task.sleep(for: .seconds(2))
                    running.cancel()
                }
            }
        }
    }
}
