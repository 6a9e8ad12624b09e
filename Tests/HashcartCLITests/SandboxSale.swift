import Foundation
import HashcartTestSupport
import Testing

/// A flash sale on the sandbox network driven over the HTTP API, for the tests that crash or
/// multiply the server under it (`CrashTests`, `MultiInstanceTests`): the shop, linked buyers,
/// each buyer's progress from post to settled purchase, and the merchant's webhooks.
struct SandboxSale {
    /// One request to whatever server(s) the test runs (it retries as the test sees fit).
    typealias API = (_ method: String, _ path: String, _ token: String?, _ body: [String: Any]?) async throws -> [String: Any]

    let api: API
    let adminToken: String
    let stock: Int
    let buyers: Int
    var apiKey = ""
    var offer = ""
    var tokens: [String] = []
    var accounts: [String] = []
    /// Each buyer's sandbox account token (the account acts only with it).
    var accountTokens: [String] = []
    var posts: [Int: String] = [:]
    var reposted = Set<Int>()
    var settled: [Int: String] = [:]

    init(api: @escaping API, adminToken: String, stock: Int, buyers: Int) {
        self.api = api
        self.adminToken = adminToken
        self.stock = stock
        self.buyers = buyers
    }

    /// The merchant (its webhooks to `receiver`), the offer, and `buyers` cardholders whose sandbox
    /// accounts are linked by posting a code.
    mutating func open(receiver: WebhookReceiver) async throws {
        let merchant = try await api("POST", "/v1/merchants", adminToken, ["name": "Gadgets Inc"])["id"] as! String
        apiKey = try await api("POST", "/v1/merchants/\(merchant)/api_keys", adminToken, nil)["secret"] as! String
        _ = try await api("POST", "/v1/webhook_endpoints", apiKey, ["url": receiver.url])
        offer = try await api("POST", "/v1/offers", apiKey, [
            "title": "Kindle Fire HD", "sku": "KFHD-7", "price": 14999, "hashtag": "#BuyKindleFireHD", "quantity": stock,
        ])["id"] as! String
        for index in 0..<buyers {
            let card = try await api("POST", "/v1/cardholders", adminToken, [
                "credit_limit": 500_000, "billing_name": "Buyer \(index)", "card_last4": "4242",
                "address": ["line1": "\(index) Main St", "city": "Albany", "state": "NY", "postal_code": "12207"],
            ])["id"] as! String
            let token = try await api("POST", "/v1/cardholders/\(card)/tokens", adminToken, nil)["secret"] as! String
            let code = try await api("POST", "/v1/links", token, ["network": "sandbox"])["code"] as! String
            let account = try await api("POST", "/sandbox/accounts", adminToken, ["handle": "buyer\(index)"])
            let accountToken = account["token"] as! String
            _ = try await api("POST", "/sandbox/posts", accountToken, ["author_id": account["id"] as! String, "text": "Linking my card \(code)"])
            tokens.append(token)
            accounts.append(account["id"] as! String)
            accountTokens.append(accountToken)
        }
        for index in 0..<buyers {
            var linked = false
            for _ in 0..<600 where !linked {
                linked = !((try await api("GET", "/v1/links", tokens[index], nil)["data"] as? [Any]) ?? []).isEmpty
                if !linked { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(linked, "buyer \(index) was never linked")
        }
    }

    /// Buyer `index` posts the offer's hashtag (the network acknowledges it with the post's id).
    mutating func post(_ index: Int) async throws {
        posts[index] = try await api("POST", "/sandbox/posts", accountTokens[index], ["author_id": accounts[index], "text": "I want it #BuyKindleFireHD"])["id"] as? String
    }

    /// Looks at buyer `index`'s purchase: reposts the confirmation request once it has arrived,
    /// and records the state once it is final.
    mutating func observe(_ index: Int) async throws {
        guard settled[index] == nil, let post = posts[index] else { return }
        let purchases = (try await api("GET", "/v1/purchases", tokens[index], nil)["data"] as? [[String: Any]]) ?? []
        guard let purchase = purchases.first, let state = purchase["state"] as? String else { return }
        switch state {
        case "awaiting_confirmation" where !reposted.contains(index):
            let replies = (try await api("GET", "/sandbox/posts?in_reply_to=\(post)", accountTokens[index], nil)["data"] as? [[String: Any]]) ?? []
            if let reply = replies.first?["id"] as? String {
                _ = try await api("POST", "/sandbox/posts/\(reply)/reposts", accountTokens[index], ["author_id": accounts[index]])
                reposted.insert(index)
            }
        // A buyer who found it sold out waits in the offer's waitlist: in a sale where everyone
        // confirms, no unit comes back, so that is where the purchase stays.
        case "authorized", "captured", "declined", "cancelled", "expired", "waitlisted":
            settled[index] = state
        default:
            break
        }
    }

    var sold: Int { settled.values.filter { $0 == "authorized" || $0 == "captured" }.count }

    /// What the rules demand once every purchase has settled: sold = min(stock, confirmations),
    /// nothing left reserved, one order per confirmed purchase.
    func expectSettledSale(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(sold == min(stock, reposted.count), "sold \(sold), stock \(stock), confirmations \(reposted.count)", sourceLocation: sourceLocation)
        let offerView = try await api("GET", "/v1/offers/\(offer)", apiKey, nil)
        #expect(offerView["units_sold"] as? Int == sold && offerView["units_reserved"] as? Int == 0, "\(offerView)", sourceLocation: sourceLocation)
        let orders = (try await api("GET", "/v1/orders?limit=100", apiKey, nil)["data"] as? [[String: Any]]) ?? []
        #expect(orders.count == sold, "one order per confirmed purchase, never two", sourceLocation: sourceLocation)
    }

    /// The distinct `order.created` events the merchant received, waiting up to a minute for `expected`.
    static func deliveredOrderCreated(_ receiver: WebhookReceiver, expected: Int) async throws -> Set<String> {
        var delivered = Set<String>()
        for _ in 0..<600 {
            delivered = Set(receiver.received.withLock { $0 }.compactMap { delivery -> String? in
                let body = try? JSONSerialization.jsonObject(with: delivery.body) as? [String: Any]
                return body?["type"] as? String == "order.created" ? delivery.eventID : nil
            })
            if delivered.count >= expected { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return delivered
    }
}
