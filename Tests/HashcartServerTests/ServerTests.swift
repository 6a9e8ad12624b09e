import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartServer
import HashcartStore
import HashcartTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// The HTTP API on a real store of the current test's backend, over real HTTP on loopback
/// (HummingbirdTesting's `.live`).
final class ServerWorld: @unchecked Sendable {
    let database: TestDatabase
    var directory: String { database.directory }
    let clock = ManualClock(Instant(secondsSinceEpoch: 1_790_000_000))
    let store: any HashcartDatabase
    let sandbox: SandboxNetwork
    let engine: Engine
    let service: EngineService
    static let adminToken = "test-admin-token-0123456789"
    let key = AddressCipher.generateEncodedKey()

    init() async throws {
        database = try TestDatabase()
        store = try await database.open(key: key)
        sandbox = try SandboxNetwork(directory: database.directory, clock: clock)
        engine = try await Engine(store: store, connector: SandboxConnector(sandbox: sandbox), clock: clock, ids: SequentialIDGenerator(),
                            taxTable: try BundledTaxTable.load(), configuration: EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: 0)))
        service = EngineService(engine: engine, store: store, sandbox: sandbox, adminTokenHash: EngineService.hash(token: Self.adminToken),
                                allowPrivateWebhookHosts: true, bcryptCost: 4)  // loopback receivers; quick bcrypt
    }

    deinit { store.closeLater() }

    /// A new process on the same data folder, as after a crash or restart: its own store, sandbox,
    /// engine and service (the old ones are closed).
    func restarted() async throws -> EngineService {
        try await store.close()
        let store = try await database.open(key: key)
        let sandbox = try SandboxNetwork(directory: directory, clock: clock)
        let engine = try await Engine(store: store, connector: SandboxConnector(sandbox: sandbox), clock: clock, ids: SequentialIDGenerator(namespace: "r"),
                                taxTable: try BundledTaxTable.load())
        return EngineService(engine: engine, store: store, sandbox: sandbox, adminTokenHash: EngineService.hash(token: Self.adminToken),
                             allowPrivateWebhookHosts: true)
    }

    var app: some ApplicationProtocol { Application(router: HashcartRouter.build(service: service)) }

    func settle() async throws {
        for _ in 0..<10 where !(try await engine.runRound().isQuiet) {}
    }

    /// A NY card account (limit $5,000) linked a day ago to a new sandbox account `handle`, which
    /// posts `text` (an offer's hashtag); the engine has handled the post.
    func linkedBuyerPosts(_ text: String, handle: String = "buyer") async throws -> (CardAccount, SandboxAccount, SandboxPost) {
        let card = try await engine.createCardAccount(creditLimit: .usd(500_000),
                                                      billing: BillingAddress(name: "Ada", line1: "1 Main St", line2: nil, city: "Albany",
                                                                              state: .NY, postalCode: "12207"), cardLast4: "4242")
        let buyer = try sandbox.createAccount(handle: handle)
        try await engine.link(cardAccountID: card.id, identity: SocialIdentity(network: .sandbox, userID: buyer.id, handle: "@" + handle),
                              at: clock.now().adding(seconds: -86_400))
        let post = try sandbox.post(authorID: buyer.id, text: text)
        try await settle()
        return (card, buyer, post)
    }

    /// As ``linkedBuyerPosts(_:handle:)``, then the buyer reposts the confirmation reply and the
    /// engine has handled it: a purchase confirmed, its order made.
    func linkedBuyerBuys(_ text: String, handle: String = "buyer") async throws -> (CardAccount, SandboxAccount, SandboxPost) {
        let (card, buyer, post) = try await linkedBuyerPosts(text, handle: handle)
        let reply = try #require(try sandbox.posts(authorID: sandbox.official.id, inReplyTo: post.id).first, "no confirmation reply to \(text)")
        try sandbox.repost(authorID: buyer.id, postID: reply.id)
        try await settle()
        return (card, buyer, post)
    }

    func counts() async throws -> [Int64] {
        try await store.read { reader in [try reader.count("merchants"), try reader.count("card_accounts"), try reader.count("purchases")] }
            + [Int64(try sandbox.posts(limit: 1000).count)]
    }
}

let admin: HTTPFields = [.authorization: "Bearer \(ServerWorld.adminToken)", .contentType: "application/json"]
let json: HTTPFields = [.contentType: "application/json"]

func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

func object(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
}

/// Asserts the one error shape and returns its `error` object.
@discardableResult
func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, code: String, param: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    #expect(response.status == status, sourceLocation: sourceLocation)
    let error = try #require(try object(response)["error"] as? [String: Any], sourceLocation: sourceLocation)
    #expect(error["code"] as? String == code, "\(error)", sourceLocation: sourceLocation)
    #expect((error["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(error["type"] is String, sourceLocation: sourceLocation)
    if let param { #expect(error["param"] as? String == param, "\(error)", sourceLocation: sourceLocation) }
    return error
}

@Suite(.onEveryBackend) struct ServerTests {
    @Test func healthAndUnknownRoutes() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v2/nothing", method: .get) { try expectError($0, .notFound, code: "route_missing") }
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                let document = String(buffer: response.body)
                #expect(document.hasPrefix("openapi: 3.0.3"))
                for path in ["/v1/merchants:", "/v1/offers/{id}/analytics:", "/v1/orders/{id}/refunds:", "/sandbox/posts/{id}/reposts:"] {
                    #expect(document.contains(path), "\(path) is not documented")
                }
            }
        }
    }

    @Test func operatorRoutesNeedTheAdminToken() async throws {
        let world = try await ServerWorld()
        let before = try await world.counts()
        try await world.app.test(.live) { client in
            for headers: HTTPFields in [json, [.authorization: "Bearer wrong-token-xxxxxxxxxxxx"], [.authorization: ServerWorld.adminToken],
                                        [.authorization: "Basic \(ServerWorld.adminToken)"]] {
                try await client.execute(uri: "/v1/merchants", method: .post, headers: headers, body: body(#"{"name":"Shop"}"#)) {
                    try expectError($0, .unauthorized, code: "unauthorized")
                }
                try await client.execute(uri: "/v1/ledger/check", method: .get, headers: headers) {
                    try expectError($0, .unauthorized, code: "unauthorized")
                }
            }
        }
        #expect(try await world.counts() == before)
    }

    @Test func garbageBodiesGetClearErrorsAndChangeNothing() async throws {
        let world = try await ServerWorld()
        let before = try await world.counts()
        let cardholder = #"{"credit_limit":500000,"billing_name":"Ada","address":{"line1":"65 Broadway","city":"New York","state":"NY","postal_code":"10006"},"card_last4":"4242"}"#
        let cases: [(String, String, HTTPResponse.Status, String, String?)] = [
            ("/v1/merchants", "", .badRequest, "body_missing", nil),
            ("/v1/merchants", "{not json", .badRequest, "body_not_json", nil),
            ("/v1/merchants", "[1,2]", .badRequest, "body_not_object", nil),
            ("/v1/merchants", #"{"name":"Shop","colour":"red"}"#, .badRequest, "parameter_unknown", "colour"),
            ("/v1/merchants", #"{"name":42}"#, .badRequest, "parameter_invalid", "name"),
            ("/v1/merchants", #"{}"#, .badRequest, "parameter_missing", "name"),
            ("/v1/merchants", #"{"name":""}"#, .badRequest, "parameter_invalid", "name"),
            ("/v1/merchants", #"{"name":"Shop","discount_rate_bps":99999}"#, .badRequest, "parameter_invalid", "discount_rate_bps"),
            ("/v1/merchants", #"{"name":"Shop","discount_rate_bps":1.5}"#, .badRequest, "parameter_invalid", nil),  // integers only
            ("/v1/cardholders", cardholder.replacingOccurrences(of: "500000", with: "\"lots\""), .badRequest, "parameter_invalid", "credit_limit"),
            ("/v1/cardholders", cardholder.replacingOccurrences(of: "500000", with: "-1"), .badRequest, "parameter_invalid", "credit_limit"),
            ("/v1/cardholders", cardholder.replacingOccurrences(of: "\"NY\"", with: "\"XX\""), .badRequest, "parameter_invalid", "address.state"),
            ("/v1/cardholders", cardholder.replacingOccurrences(of: "10006", with: "1006"), .badRequest, "parameter_invalid", "address.postal_code"),
            ("/v1/cardholders", cardholder.replacingOccurrences(of: "\"city\"", with: "\"town\""), .badRequest, "parameter_unknown", "address.town"),
            ("/v1/cardholders", cardholder.replacingOccurrences(of: "\"4242\"", with: "\"42\""), .badRequest, "parameter_invalid", "card_last4"),
            ("/v1/cardholders", #"{"credit_limit":1,"billing_name":"A","address":"65 Broadway","card_last4":"4242"}"#, .badRequest, "parameter_invalid", "address"),
            ("/v1/merchants", String(repeating: " ", count: 70_000), .contentTooLarge, "body_too_large", nil),
            ("/sandbox/accounts", #"{"handle":"has space"}"#, .badRequest, "parameter_invalid", "handle"),
            ("/sandbox/accounts", #"{"handle":"ok","extra":true}"#, .badRequest, "parameter_unknown", "extra"),
            ("/sandbox/posts", #"{"author_id":"u999","text":"hi"}"#, .notFound, "resource_missing", nil),
            ("/sandbox/posts", #"{"author_id":"u2","text":null}"#, .badRequest, "parameter_invalid", "text"),
            ("/sandbox/posts", #"{"author_id":"u2","text":"x","in_reply_to":"p1","quote_of":"p1"}"#, .badRequest, "parameter_invalid", "quote_of"),
            ("/sandbox/posts", #"{"text":"as whom?"}"#, .badRequest, "parameter_missing", "author_id"),
            ("/sandbox/posts", #"{"author_id":null,"text":"as whom?"}"#, .badRequest, "parameter_invalid", "author_id"),
            ("/v1/merchants", #"{"name":"Shop","discount_rate_bps":null}"#, .badRequest, "parameter_invalid", "discount_rate_bps"),
            ("/sandbox/posts", #"{"author_id":"u1","text":"I am the shop"}"#, .forbidden, "forbidden", nil),  // the official account
            ("/sandbox/posts/p404/reposts", #"{"author_id":"u2"}"#, .notFound, "resource_missing", nil),
        ]
        _ = try world.sandbox.createAccount(handle: "bob")  // u2
        try await world.app.test(.live) { client in
            for (uri, text, status, code, param) in cases {
                try await client.execute(uri: uri, method: .post, headers: admin, body: body(text)) {
                    try expectError($0, status, code: code, param: param)
                }
            }
            try await client.execute(uri: "/sandbox/posts?limit=0", method: .get, headers: admin) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "limit")
            }
            try await client.execute(uri: "/sandbox/posts?limit=abc", method: .get, headers: admin) {
                try expectError($0, .badRequest, code: "parameter_invalid", param: "limit")
            }
            try await client.execute(uri: "/sandbox/posts/p1", method: .delete, headers: admin) {
                try expectError($0, .badRequest, code: "parameter_missing", param: "author_id")
            }
        }
        #expect(try await world.counts() == before)
    }

    /// A person plays the whole purchase over HTTP: merchant and cardholder by the operator, the
    /// post and the repost on the sandbox network, then the ledger check.
    @Test func aPurchaseOverHTTP() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            let merchantID = try await client.execute(uri: "/v1/merchants", method: .post, headers: admin, body: body(#"{"name":"Gadgets"}"#)) {
                #expect($0.status == .created)
                return try #require(try object($0)["id"] as? String)
            }
            let cardID = try await client.execute(
                uri: "/v1/cardholders", method: .post, headers: admin,
                body: body(#"{"credit_limit":500000,"billing_name":"Ada Lovelace","address":{"line1":"65 Broadway","city":"New York","state":"NY","postal_code":"10006"},"card_last4":"4242"}"#)
            ) {
                #expect($0.status == .created)
                let card = try object($0)
                #expect(card["billing_state"] as? String == "NY" && card["credit_limit"] as? Int == 500000)
                #expect(card["card_last4"] == nil && card["address"] == nil)  // private data is not echoed
                return try #require(card["id"] as? String)
            }
            _ = try await world.engine.createOffer(OfferDraft(merchantID: MerchantID(merchantID), title: "Kindle Fire HD", sku: "KFHD",
                                                        price: .usd(14999), hashtag: "#BuyKindleFireHD", quantity: 10))
            // The operator makes alice's sandbox account; alice acts with its token, shown once.
            let (aliceID, alice) = try await client.execute(uri: "/sandbox/accounts", method: .post, headers: admin, body: body(#"{"handle":"alice"}"#)) {
                #expect($0.status == .created)
                let account = try object($0)
                #expect(account["livemode"] as? Bool == false)
                let token = try #require(account["token"] as? String)
                #expect(token.hasPrefix("hc_sbx_"))
                return (try #require(account["id"] as? String), token)
            }
            try await world.engine.link(cardAccountID: CardAccountID(cardID), identity: SocialIdentity(network: .sandbox, userID: aliceID, handle: "@alice"))
            let postID = try await client.execute(uri: "/sandbox/posts", method: .post, headers: bearer(alice),
                                                  body: body(#"{"author_id":"\#(aliceID)","text":"I want it #BuyKindleFireHD"}"#)) {
                #expect(try object($0)["author_id"] as? String == aliceID)
                return try #require(try object($0)["id"] as? String)
            }
            try await world.settle()
            let replyID = try await client.execute(uri: "/sandbox/posts?in_reply_to=\(postID)", method: .get, headers: bearer(alice)) { response in
                let list = try object(response)
                let data = try #require(list["data"] as? [[String: Any]])
                let reply = try #require(data.first)
                #expect((reply["text"] as? String)?.contains("$155.99 total with tax") == true)
                #expect((reply["text"] as? String)?.contains("4242") == false)
                return try #require(reply["id"] as? String)
            }
            // Alice's token acts only as alice.
            try await client.execute(uri: "/sandbox/posts/\(replyID)/reposts", method: .post, headers: bearer(alice), body: body(#"{"author_id":"u1"}"#)) {
                try expectError($0, .forbidden, code: "forbidden")
            }
            try await client.execute(uri: "/sandbox/posts/\(replyID)/reposts", method: .post, headers: bearer(alice), body: body(#"{"author_id":"\#(aliceID)"}"#)) {
                #expect($0.status == .created)
            }
            try await world.settle()
            try await client.execute(uri: "/v1/ledger/check", method: .get, headers: admin) { response in
                let check = try object(response)
                #expect(check["ok"] as? Bool == true)
            }
            // Only the author deletes; a stranger gets 403, and nobody deletes the official reply.
            let (strangerID, stranger) = try await client.execute(uri: "/sandbox/accounts", method: .post, headers: admin, body: body(#"{"handle":"mallory"}"#)) {
                (try #require(try object($0)["id"] as? String), try #require(try object($0)["token"] as? String))
            }
            try await client.execute(uri: "/sandbox/posts/\(postID)?author_id=\(aliceID)", method: .delete, headers: bearer(stranger)) {
                try expectError($0, .forbidden, code: "forbidden")  // a token acts only as its own account
            }
            try await client.execute(uri: "/sandbox/posts/\(postID)?author_id=\(strangerID)", method: .delete, headers: bearer(stranger)) {
                try expectError($0, .forbidden, code: "not_author")
            }
            try await client.execute(uri: "/sandbox/posts/\(replyID)?author_id=u1", method: .delete, headers: admin) {
                try expectError($0, .forbidden, code: "forbidden")
            }
            try await client.execute(uri: "/sandbox/posts/\(replyID)?author_id=u1", method: .delete) { try expectError($0, .unauthorized, code: "unauthorized") }
        }
        let orders = try await world.store.read { try $0.orders() }
        #expect(orders.count == 1 && orders[0].total == .usd(15599))
    }
}
