import HashcartCore

/// What one round of the engine did.
public struct RoundSummary: Sendable {
    /// Events read from the network, and parked events that went through.
    public var outcomes: [EventOutcome]
    public var dispatch: DispatchSummary
    public var timers: TimerSummary
    /// Offers whose announcement was queued this round.
    public var announced: Int = 0

    /// Whether the round found nothing to do (the caller may sleep or stop).
    public var isQuiet: Bool {
        outcomes.isEmpty && dispatch.sent == 0 && dispatch.retried == 0 && timers.expiredPurchases == 0 && timers.cancelledForDeletedPosts == 0 && timers.lapsedHolds == 0
            && timers.closedWaitlistEntries == 0 && timers.waitlistTurns == 0 && announced == 0
    }
}

extension Engine {
    /// One round of everything the engine does on its own: read the network, queue announcements
    /// of offers gone live, send due posts, fire due timers. `hashcart serve`'s loop, the demo and the tests all drive the engine this way.
    public func runRound(pageLimit: Int = 1_000) async throws -> RoundSummary {
        let polled = try await pollNetwork(limit: pageLimit)
        let announced = try await announceLiveOffers()
        let dispatched = try await dispatchOutbox()
        let timers = try await runTimers()
        return RoundSummary(outcomes: polled + dispatched.unparked, dispatch: dispatched, timers: timers, announced: announced)
    }
}
