import HashcartEngine
import Logging
import ServiceLifecycle

/// The engine's loop: poll the network, send replies, fire timers; sleep briefly when idle.
/// Stops at graceful shutdown (SIGTERM, SIGINT) after finishing the round in hand.
public struct EngineLoop: Service {
    let engine: Engine
    let logger: Logger

    public init(engine: Engine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    public func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let polled = try await engine.pollNetwork(limit: 1_000)
                let dispatched = try await engine.dispatchOutbox()
                let timers = try engine.runTimers()
                failures = 0
                if polled.isEmpty && dispatched.sent == 0 && timers.expiredPurchases == 0 && timers.lapsedHolds == 0 {
                    try? await Task.sleep(for: .milliseconds(50))
                }
            } catch {
                failures += 1
                logger.error("engine round failed; retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
                try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 6))))
            }
        }
    }
}
