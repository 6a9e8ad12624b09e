import ArgumentParser
import Foundation
import HashcartCore
import HashcartEngine

/// `hashcart bench flash-sale`: how long a flash sale takes to sell out.
///
/// Setup (not timed): one offer of `--units` units and `--cardholders` linked cardholders. Timed:
/// every cardholder posts the hashtag within `--window-ms` (post i arrives at i × window / N, open
/// loop); the engine takes what has arrived (at most `--batch` events a transaction), posts its
/// replies (confirmation requests, and "sold out" declines once the units are reserved), and each
/// cardholder whose request was posted reposts it at once. `seconds` runs from the first post to
/// the commit of the last order. Exactly `--units` must sell, with no invariant broken.
struct BenchFlashSaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash-sale",
        abstract: "Seconds from the first post to the last order when N cardholders post an offer's hashtag within a second.")

    @Option(help: "Linked cardholders who post the hashtag (1000…1000000).")
    var cardholders = 100_000

    @Option(help: "Units of the offer (1…the number of cardholders).")
    var units = 1_000

    @Option(name: .customLong("window-ms"), help: "Milliseconds over which the posts arrive (0…60000).")
    var windowMilliseconds = 1_000

    @OptionGroup var options: BenchRunOptions

    func validate() throws {
        guard (1_000...1_000_000).contains(cardholders) else { throw ValidationError("--cardholders must be between 1000 and 1000000") }
        guard (1...cardholders).contains(units) else { throw ValidationError("--units must be between 1 and --cardholders") }
        guard (0...60_000).contains(windowMilliseconds) else { throw ValidationError("--window-ms must be between 0 and 60000") }
    }

    func run() async throws {
        let sale = try await BenchSale(count: cardholders, units: units, batch: options.batch, captureOnConfirmation: false, data: nil, database: options.database)
        try await sale.run(measure)
    }

    /// The benchmark proper, on a sale that ``run()`` closes whatever happens.
    func measure(_ sale: BenchSale) async throws {
        let posts = sale.purchasePosts()
        let interval = Double(windowMilliseconds) / 1_000 / Double(cardholders)
        let wall = ContinuousClock()
        let start = wall.now
        var nextPost = 0
        var awaitingReply: [PurchaseID] = []
        var reposted: Set<PurchaseID> = []
        var reposts: [NetworkEvent] = []
        var requested = 0, confirmed = 0, resolved = 0, transactions = 0
        var lastOrder = 0.0, allPostsIngested = 0.0
        while nextPost < posts.count || resolved < requested {
            let elapsed = (wall.now - start).seconds
            // A bound on the run: a sale that never settles is a failure, not a hang.
            guard elapsed < 600 else { fail("the sale did not settle in 600 s: \(resolved) of \(requested) requests resolved") }
            let arrived = interval == 0 ? posts.count : min(posts.count, Int(elapsed / interval) + 1)
            // Reposts first (they hold units), then the posts that have arrived.
            var events = Array(reposts.prefix(options.batch))
            reposts.removeFirst(events.count)
            let takePosts = min(arrived - nextPost, options.batch - events.count)
            if takePosts > 0 {
                events += posts[nextPost..<nextPost + takePosts]
                nextPost += takePosts
            }
            if !events.isEmpty {
                for outcome in try await sale.engine.ingest(events) {
                    switch outcome {
                    case .purchaseRequested(let id):
                        requested += 1
                        awaitingReply.append(id)
                    case .confirmed:
                        confirmed += 1
                        resolved += 1
                        lastOrder = (wall.now - start).seconds
                    case .declined(let id, _) where reposted.contains(id):
                        resolved += 1
                    default:
                        break
                    }
                }
                transactions += 1
                if nextPost == posts.count && allPostsIngested == 0 { allPostsIngested = (wall.now - start).seconds }
            }
            // The replies go out; each cardholder whose request is now on the network reposts it.
            if try await sale.engine.dispatchOutbox().sent > 0, !awaitingReply.isEmpty {
                let purchases = try await sale.store.read { [awaitingReply] reader in try awaitingReply.compactMap { try reader.purchase($0) } }
                var still: [PurchaseID] = []
                for purchase in purchases {
                    if purchase.confirmationPostID == nil {
                        still.append(purchase.id)
                    } else {
                        reposts.append(sale.repost(of: purchase, index: reposted.count))
                        reposted.insert(purchase.id)
                    }
                }
                awaitingReply = still
            }
            if events.isEmpty && reposts.isEmpty && nextPost < posts.count {
                let wait = Double(nextPost) * interval - (wall.now - start).seconds
                if wait > 0 { try await Task.sleep(for: .microseconds(Int64(min(wait, 0.01) * 1_000_000))) }
            }
        }
        let sold = try await sale.store.read { try $0.offers() }.first?.soldUnits ?? 0
        let violations = try await sale.store.read { try $0.audit() }.count
        let result: [String: Any] = [
            "benchmark": "flash_sale", "store": sale.storeName, "posts": cardholders, "units": units, "sold": sold,
            "confirmed": confirmed, "seconds": (lastOrder * 1000).rounded() / 1000, "window_ms": windowMilliseconds,
            "all_posts_answered_seconds": (allPostsIngested * 1000).rounded() / 1000,
            "transactions": transactions, "invariant_violations": violations,
        ]
        if options.json {
            printJSON(result)
        } else {
            print("store: \(sale.storeName); \(cardholders) posts within \(windowMilliseconds) ms for \(units) units")
            print("sold \(sold) of \(units) in \(result["seconds"]!) s from the first post to the last order (\(transactions) transactions); \(violations) invariant violations")
            print("every post taken up (a purchase request or a sold-out decline) after \(result["all_posts_answered_seconds"]!) s")
        }
        if sold != Int64(units) || violations > 0 { throw ExitCode(1) }
    }
}
