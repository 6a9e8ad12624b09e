import HashcartCore
import HashcartStore

/// The rules checked after every step (safety) and at the end (liveness). The store's own audit
/// covers the money (ledger balanced, credit limits, clearing, stock, captures, refunds, privacy of
/// queued posts); these checks add what only the simulator knows: what really happened on the
/// network and at the merchant.
extension Simulation {
    /// A repost (or a reply with the reference) of the confirmation post by the purchase's own
    /// identity, made inside the window: the one thing that may buy.
    func validConfirmations(of purchase: Purchase, in posts: [SimulatedPost]) -> [SimulatedPost] {
        guard let confirmationPostID = purchase.confirmationPostID else { return [] }
        return posts.filter { post in
            post.referencedPostID == confirmationPostID && post.authorID == purchase.identity.userID && post.createdAt <= purchase.expiresAt
                && (post.kind == .repost || (post.kind == .reply && post.text.uppercased().split(separator: " ").contains(Substring(purchase.reference))))
        }
    }

    /// PRODUCT.md's rules that hold at every moment.
    func checkSafety(at moment: String) async {
        do {
            let (audit, purchases, orders) = try await store.read { reader in
                (try reader.audit(limit: 10, holdsExpiredBefore: nil), try reader.purchases(limit: 100_000), try reader.orders(limit: 100_000))
            }
            for violation in audit { violations.append("\(moment): \(violation.rule) broken for \(violation.subject): \(violation.detail)") }
            let posts = world.allPosts()
            let purchasesByID = Dictionary(uniqueKeysWithValues: purchases.map { ($0.id, $0) })
            for order in orders {
                guard let purchase = purchasesByID[order.purchaseID] else {
                    violations.append("\(moment): order \(order.id) has no purchase")
                    continue
                }
                // No order without its cardholder's own confirmation inside the window.
                if validConfirmations(of: purchase, in: posts).isEmpty {
                    violations.append("\(moment): order \(order.id) exists but \(purchase.identity.handle) never confirmed \(purchase.confirmationPostID ?? "-") in its window")
                }
            }
            // Every new official post: no card digits, address or balance, and never the same reply twice.
            let cards = Dictionary(uniqueKeysWithValues: buyers.map { ($0.accountID, $0.card) })
            for post in posts[checkedPosts...] where post.authorID == SimulatedNetwork.officialID && post.referencedPostID != nil {
                let key = post.referencedPostID! + "\u{0}" + post.text
                if !officialReplies.insert(key).inserted {
                    violations.append("\(moment): the official account posted \"\(post.text)\" twice in reply to \(post.referencedPostID!)")
                }
                if let target = world.post(post.referencedPostID!), let card = cards[target.authorID] {
                    let sensitive = SensitiveData(cardLast4: card.cardLast4, billing: card.billing, creditLimit: card.creditLimit,
                                                  availableCredit: card.creditLimit)
                    let leaks = PrivacyGuard.violations(in: post.text, sensitive: sensitive)
                    if !leaks.isEmpty {
                        violations.append("\(moment): official post \(post.id) reveals \(leaks.map(\.rawValue).joined(separator: ", "))")
                    }
                }
            }
            checkedPosts = posts.count
        } catch {
            violations.append("\(moment): the store could not be read: \(error)")
        }
    }

    /// At the end, after the calm phase: nothing is left hanging and every valid confirmation bought.
    func checkLiveness() async {
        do {
            let (purchases, orders, offers) = try await store.read { reader in
                (try reader.purchases(limit: 100_000), try reader.orders(limit: 100_000), try reader.offers())
            }
            let posts = world.allPosts()
            let grace = configuration.expiryGraceSeconds * 1_000
            var ordersByPurchase: [PurchaseID: Order] = [:]
            for order in orders { ordersByPurchase[order.purchaseID] = order }
            for purchase in purchases {
                if purchase.state.holdsReservation {
                    violations.append("end: purchase \(purchase.id) still \(purchase.state.rawValue) after every window closed")
                }
                let confirmations = validConfirmations(of: purchase, in: posts)
                let deletedAt = world.post(purchase.purchasePostID)?.deletedAt
                // Confirmations that reached the engine before its expiry timer could fire, made
                // before any delete of the purchase post: each of these must have bought.
                let timely = confirmations.filter { confirmation in
                    guard let delivered = world.firstDelivered(confirmation.id) else { return false }
                    return delivered.millisecondsSinceEpoch <= purchase.expiresAt.millisecondsSinceEpoch + grace
                        && (deletedAt.map { confirmation.createdAt < $0 } ?? true)
                }
                let order = ordersByPurchase[purchase.id]
                if !timely.isEmpty, order == nil || order?.status == .cancelled {
                    violations.append("end: \(purchase.identity.handle) confirmed purchase \(purchase.id) in time (\(timely.map(\.id).joined(separator: ", "))) but it is \(purchase.state.rawValue)\(purchase.declineReason.map { " (\($0.rawValue))" } ?? "")\(purchase.cancellationReason.map { " (\($0.rawValue))" } ?? "")")
                }
                if let order, order.status != .cancelled, let deletedAt,
                    let first = confirmations.map(\.createdAt).min(), deletedAt < first
                {
                    violations.append("end: order \(order.id) stands although its post was deleted before the confirmation")
                }
            }
            for offer in offers {
                let live = orders.filter { $0.offerID == offer.id && $0.status != .cancelled }.reduce(0) { $0 + $1.units }
                if offer.reservedUnits != 0 { violations.append("end: offer \(offer.id) still reserves \(offer.reservedUnits) units") }
                if offer.soldUnits != live {
                    violations.append("end: offer \(offer.id) counts \(offer.soldUnits) sold, but the standing orders hold \(live) units")
                }
            }
            // A waitlist never sits beside units it could take: whatever freed them gave turns.
            for offer in offers where offer.state(at: clock.now()) == .live && !offer.killSwitch {
                let free = offer.availableUnits ?? 0
                for waiting in purchases where waiting.offerID == offer.id && waiting.state == .waitlisted && waiting.units <= free {
                    violations.append("end: purchase \(waiting.id) still waits for \(waiting.units) units of \(offer.id) with \(free) free")
                }
            }
            await checkFunnel(offers: offers, purchases: purchases, orders: orders, posts: posts)
            // Every merchant event delivered; the merchant holds each order.created at least once.
            let events = try await store.merchantEvents(merchantID: merchant.id, limit: 1_000, startingAfter: nil)
            let received = merchantEndpoint.received
            for status in events {
                if status.delivery != "delivered" { violations.append("end: webhook \(status.event.id) is \(status.delivery)") }
                if received[status.event.id] == nil { violations.append("end: the merchant never received \(status.event.id) (\(status.event.type.rawValue))") }
            }
            // What the merchant read in each event is the event and its object as the store holds them.
            for refusal in merchantEndpoint.refused { violations.append("end: the merchant could not verify or read a delivery: \(refusal)") }
            let ordersByID = Dictionary(uniqueKeysWithValues: orders.map { ($0.id.rawValue, $0) })
            for status in events {
                guard let payload = merchantEndpoint.payload(status.event.id) else { continue }
                let event = status.event
                if payload.type != event.type.rawValue || payload.livemode || payload.object["id"] != event.objectID {
                    violations.append("end: the merchant read \(event.id) as \(payload.type) of \(payload.object["id"] ?? "-") (livemode \(payload.livemode)), but it is \(event.type.rawValue) of \(event.objectID) in test mode")
                }
                if event.type == .orderCreated, let order = ordersByID[event.objectID] {
                    let expected = ["amount": String(order.amount.minorUnits), "quantity": String(order.units), "tax": String(order.tax.minorUnits),
                                    "total": String(order.total.minorUnits), "reference": order.reference, "offer": order.offerID.rawValue]
                    for (field, value) in expected.sorted(by: { $0.key < $1.key }) where payload.object[field] != value {
                        violations.append("end: order.created \(event.id) told the merchant \(field) = \(payload.object[field] ?? "nothing"), but the order says \(value)")
                    }
                }
            }
            let created = Set(events.filter { $0.event.type == .orderCreated }.map(\.event.objectID))
            for order in orders where !created.contains(order.id.rawValue) {
                violations.append("end: order \(order.id) has no order.created event")
            }
            let known = Set(events.map(\.event.id))
            for eventID in received.keys.sorted() where !known.contains(eventID) {
                violations.append("end: the merchant received \(eventID), which Hashcart never recorded")
            }
            let cursor = try await store.write { tx in try tx.cursor(network: .sandbox) }
            if cursor != String(world.logLength) {
                violations.append("end: the engine's cursor is \(cursor ?? "none") but the network delivered \(world.logLength) events")
            }
            let expiredBefore = engineClock.now()
            let holds = try await store.read { try $0.audit(limit: 10, holdsExpiredBefore: expiredBefore) }
            for violation in holds { violations.append("end: \(violation.rule) broken for \(violation.subject): \(violation.detail)") }
            stats.orders = orders.count
            stats.expired = purchases.count { $0.state == .expired }
            log("end: \(orders.count) orders, \(stats.expired) expired, \(purchases.count) purchases, \(events.count) merchant events, \(received.values.reduce(0, +)) webhook receipts")
        } catch {
            violations.append("end: the store could not be read: \(error)")
        }
    }

    /// What the merchant is told equals what happened: every funnel counter of every offer, from
    /// what the simulated network carried (posts with the hashtag, their authors, the unlinked
    /// fans' posts) and from the purchases and orders the store holds. A duplicate delivery counted
    /// twice, a lost count or a count on the wrong offer breaks it.
    func checkFunnel(offers: [Offer], purchases: [Purchase], orders: [Order], posts: [SimulatedPost]) async {
        let linkedAccounts = Set(buyers.map(\.accountID))
        // Which purchases joined a waitlist, and which of those got a turn: told by their replies.
        let replyKeys: Set<String>
        do {
            replyKeys = Set(try await store.read { try $0.outboundPosts(limit: 100_000) }.map(\.key))
        } catch {
            violations.append("end: the outbox could not be read: \(error)")
            return
        }
        for offer in offers {
            let tag = offer.hashtag.description
            // Posts (and quotes) carrying the offer's hashtag that reached the engine at least once.
            let tagged = posts.filter { post in
                (post.kind == .post || post.kind == .quote) && post.authorID != SimulatedNetwork.officialID
                    && post.text.split(separator: " ").contains(Substring(tag)) && world.firstDelivered(post.id) != nil
            }
            let mine = purchases.filter { $0.offerID == offer.id }
            let myOrders = orders.filter { $0.offerID == offer.id }
            var expected: [String: Int64] = [
                FunnelMetric.posts.rawValue: Int64(tagged.count),
                FunnelMetric.uniqueAuthors.rawValue: Int64(Set(tagged.map(\.authorID)).count),
                FunnelMetric.quotes.rawValue: Int64(tagged.count { $0.kind == .quote }),
                // Fans never link and never delete: each of their posts is an unlinked post.
                FunnelMetric.unlinkedPosts.rawValue: Int64(tagged.count { $0.kind == .post && !linkedAccounts.contains($0.authorID) }),
                // Each linked post the engine took up became exactly one purchase (requested or declined).
                FunnelMetric.linkedPosts.rawValue: Int64(mine.count),
                FunnelMetric.confirmationsSent.rawValue: Int64(mine.count { $0.confirmationPostID != nil }),
                FunnelMetric.confirmed.rawValue: Int64(mine.count { $0.confirmedAt != nil }),
                FunnelMetric.expired.rawValue: Int64(mine.count { $0.state == .expired }),
                // Cancelled before any confirmation (the post deleted first), but not by the end of a waitlist.
                FunnelMetric.cancelled.rawValue: Int64(mine.count { $0.state == .cancelled && $0.confirmedAt == nil && $0.cancellationReason != .waitlistClosed }),
                FunnelMetric.waitlisted.rawValue: Int64(mine.count { replyKeys.contains("waitlisted:\($0.id)") }),
                FunnelMetric.waitlistTurns.rawValue: Int64(mine.count { replyKeys.contains("waitlisted:\($0.id)") && replyKeys.contains("confirm-request:\($0.id)") }),
                FunnelMetric.waitlistClosed.rawValue: Int64(mine.count { $0.cancellationReason == .waitlistClosed }),
                FunnelMetric.orders.rawValue: Int64(myOrders.count),
                FunnelMetric.unitsSold.rawValue: myOrders.filter { $0.status != .cancelled }.reduce(0) { $0 + $1.units },
                FunnelMetric.revenue.rawValue: myOrders.reduce(0) { $0 + $1.amount.minorUnits },
                FunnelMetric.tax.rawValue: myOrders.reduce(0) { $0 + $1.tax.minorUnits },
                // Net sales: an order cancelled before capture voids its total; every refund (partial,
                // or on cancelling a captured order) is counted once, as the order records it.
                FunnelMetric.ordersCancelled.rawValue: Int64(myOrders.count { $0.status == .cancelled }),
                FunnelMetric.salesVoided.rawValue: myOrders.filter { $0.status == .cancelled && !$0.capturedAmount.isPositive }
                    .reduce(0) { $0 + $1.total.minorUnits },
                FunnelMetric.salesRefunded.rawValue: myOrders.reduce(0) { $0 + $1.refundedAmount.minorUnits },
            ]
            for purchase in mine {
                if let reason = purchase.declineReason { expected["\(FunnelMetric.declined.rawValue).\(reason.rawValue)", default: 0] += 1 }
                // How long each confirmation took, counted in its bucket.
                if let confirmedAt = purchase.confirmedAt {
                    expected[ConfirmationTime.metric(milliseconds: confirmedAt.millisecondsSinceEpoch - purchase.requestedAt.millisecondsSinceEpoch),
                             default: 0] += 1
                }
            }
            let told: [String: Int64]
            do {
                told = try await store.read { try $0.funnel(offer: offer.id) }
            } catch {
                violations.append("end: the funnel of \(offer.id) could not be read: \(error)")
                continue
            }
            for (metric, value) in expected.sorted(by: { $0.key < $1.key }) where (told[metric] ?? 0) != value {
                violations.append("end: the merchant is told \(metric) = \(told[metric] ?? 0) for \(offer.id), but \(value) happened")
            }
            // Counters the check does not derive (late and foreign reposts) are never negative;
            // any other counter (a decline reason that never happened) is 0.
            let underived: Set<String> = [FunnelMetric.lateReposts.rawValue, FunnelMetric.foreignReposts.rawValue]
            for (metric, value) in told.sorted(by: { $0.key < $1.key }) where expected[metric] == nil {
                if underived.contains(metric) ? value < 0 : value != 0 {
                    violations.append("end: the merchant is told \(metric) = \(value) for \(offer.id), which did not happen")
                }
            }
        }
    }
}
