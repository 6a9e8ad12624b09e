import HashcartCore

/// What one dispatch round did.
public struct DispatchSummary: Sendable, Hashable {
    public var sent = 0
    public var retried = 0
    public var failed = 0
    /// Parked reposts/replies that the newly recorded posts let through.
    public var unparked: [EventOutcome] = []
}

extension Engine {
    /// Sends due outbox posts through the connector, each with its idempotency key, then records
    /// the network's post ids in one transaction. A confirmation request's window starts when the
    /// network says the reply was posted. Failures back off exponentially (with jitter) and give
    /// up after ``OutboundPost/maximumAttempts``.
    @discardableResult
    public func dispatchOutbox() async throws -> DispatchSummary {
        let now = clock.now()
        var due = try await store.claimDueOutbound(network: network, now: now, limit: configuration.maximumOutboundPerRound,
                                             leaseMilliseconds: configuration.outboundLeaseMilliseconds)
        guard !due.isEmpty else { return DispatchSummary() }
        // A confirmation request whose purchase ended (expired, cancelled) while the post waited
        // must not go out: nobody could confirm it.
        let obsolete = try await store.write { [due] tx -> Set<String> in
            var keys = Set<String>()
            for post in due where post.purpose == .confirmationRequest {
                guard let id = post.purchaseID, let purchase = try tx.purchase(id), purchase.state == .requested, now < purchase.expiresAt
                else {
                    var dropped = post
                    dropped.state = .failed
                    dropped.lastError = "not sent: the purchase is no longer waiting for a confirmation request"
                    try tx.updateOutbound(dropped)
                    keys.insert(post.key)
                    continue
                }
            }
            return keys
        }
        due.removeAll { obsolete.contains($0.key) }
        var results: [(OutboundPost, Result<PostedReply, any Error>)] = []
        results.reserveCapacity(due.count)
        for post in due {
            do {
                let posted = post.purpose == .announcement
                    ? try await connector.announce(text: post.text, idempotencyKey: post.key)
                    : try await connector.reply(to: post.inReplyTo, text: post.text, idempotencyKey: post.key)
                results.append((post, .success(posted)))
            } catch {
                results.append((post, .failure(error)))
            }
        }
        let recordedAt = clock.now()
        return try await store.write { [self, results] tx in
            var summary = DispatchSummary()
            summary.failed = obsolete.count
            for (queued, result) in results {
                guard var post = try tx.outbound(key: queued.key), post.state == .pending else { continue }
                post.attempts += 1
                switch result {
                case .success(let reply):
                    post.state = .sent
                    post.postID = reply.postID
                    post.sentAt = reply.createdAt
                    post.lastError = nil
                    try tx.updateOutbound(post)
                    summary.sent += 1
                    if post.purpose == .confirmationRequest, let purchaseID = post.purchaseID,
                        let purchase = try tx.purchase(purchaseID), purchase.state == .requested
                    {
                        try tx.updatePurchase(try purchase.applying(.confirmationPosted(postID: reply.postID), now: reply.createdAt))
                        try tx.incrementFunnel(offer: purchase.offerID, metric: FunnelMetric.confirmationsSent.rawValue, by: 1, at: recordedAt)
                        for parked in try tx.takeParkedEvents(network: post.network, postID: reply.postID) {
                            summary.unparked.append(try handle(parked, tx: tx, now: recordedAt))
                        }
                    }
                case .failure(let error):
                    let retryable = (error as? ConnectorError)?.isRetryable ?? true
                    post.lastError = String("\(error)".prefix(500))
                    if retryable && post.attempts < OutboundPost.maximumAttempts {
                        post.nextAttemptAt = recordedAt.adding(milliseconds: OutboundPost.retryDelayMilliseconds(afterAttempt: post.attempts, key: post.key))
                        summary.retried += 1
                    } else {
                        post.state = .failed
                        summary.failed += 1
                    }
                    try tx.updateOutbound(post)
                }
            }
            return summary
        }
    }
}
