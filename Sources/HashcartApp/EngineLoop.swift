import HashcartCore
import HashcartEngine
import Logging
import Metrics
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
                let round = try await engine.runRound()
                Self.record(round.outcomes)
                Counter(label: "hashcart_replies_sent_total").increment(by: round.dispatch.sent)
                Counter(label: "hashcart_replies_failed_total").increment(by: round.dispatch.failed)
                Counter(label: "hashcart_purchases_expired_total").increment(by: round.timers.expiredPurchases)
                Counter(label: "hashcart_holds_lapsed_total").increment(by: round.timers.lapsedHolds)
                failures = 0
                if round.isQuiet { try? await Task.sleep(for: .milliseconds(50)) }
            } catch {
                failures += 1
                logger.error("engine round failed; retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
                try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 6))))
            }
        }
    }

    /// Counts events by what they did, and declines by reason.
    static func record(_ outcomes: [EventOutcome]) {
        guard !outcomes.isEmpty else { return }
        var counts: [String: Int] = [:]
        var declines: [String: Int] = [:]
        for outcome in outcomes {
            let kind: String
            switch outcome {
            case .duplicate: kind = "duplicate"
            case .rejected: kind = "rejected"
            case .ignored: kind = "ignored"
            case .unlinkedPost: kind = "unlinked_post"
            case .quoteCounted: kind = "quote"
            case .purchaseRequested: kind = "purchase_requested"
            case .waitlisted: kind = "waitlisted"
            case .declined(_, let reason):
                kind = "declined"
                declines[reason.rawValue, default: 0] += 1
            case .confirmed: kind = "confirmed"
            case .foreignRepost: kind = "foreign_repost"
            case .lateRepost: kind = "late_repost"
            case .confirmationIgnored: kind = "confirmation_ignored"
            case .purchaseCancelled: kind = "purchase_cancelled"
            case .postDeleted: kind = "post_deleted"
            case .parked: kind = "parked"
            case .linked: kind = "linked"
            case .linkCodeRefused: kind = "link_code_refused"
            case .creditLoaded: kind = "credit_loaded"
            case .creditAlreadyLoaded: kind = "credit_already_loaded"
            case .loadRefused: kind = "load_refused"
            }
            counts[kind, default: 0] += 1
        }
        for (kind, count) in counts { Counter(label: "hashcart_events_total", dimensions: [("outcome", kind)]).increment(by: count) }
        for (reason, count) in declines { Counter(label: "hashcart_declines_total", dimensions: [("reason", reason)]).increment(by: count) }
    }
}
