import Foundation
import HashcartConnectors
import HashcartCore
import Testing

/// X's documented payloads (Fixtures/x), stream rules and the Account Activity proofs.
@Suite("X wire format")
struct XWireTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/x")
    let decoder = XDecoder(officialUserID: "999")

    func lines(_ name: String) throws -> [[UInt8]] {
        try Data(contentsOf: Self.fixtures.appendingPathComponent(name)).split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
    }

    @Test("the docs' stream line: a post by the stable author id, handle from includes.users")
    func docExample() throws {
        let line = try Data(contentsOf: Self.fixtures.appendingPathComponent("stream-doc-example.json"))
        guard case .event(let event) = try decoder.streamLine(line.prefix { $0 != 0x0A }) else { Issue.record("not an event"); return }
        #expect(event.kind == .post)
        #expect(event.eventID == "1234567890")
        #expect(event.author == SocialIdentity(network: .x, userID: "9876543210", handle: "@catperson"))
        #expect(event.text == "Look at this cute cat! 🐱")
        #expect(event.createdAt == Timestamp.parse("2024-01-15T10:35:00.000Z"))
    }

    @Test("a purchase post, a keep-alive, a retweet of the official reply, a disconnect")
    func purchaseStream() throws {
        let all = try lines("stream-purchase.jsonl").filter { !$0.isEmpty }
        #expect(all.count == 4)
        guard case .event(let post) = try decoder.streamLine(all[0]) else { Issue.record("not an event"); return }
        #expect(post.kind == .post)
        #expect(post.hashtags == ["BuyAmexTee"])
        guard case .keepAlive = try decoder.streamLine(all[1]) else { Issue.record("not a keep-alive"); return }
        guard case .event(let retweet) = try decoder.streamLine(all[2]) else { Issue.record("not an event"); return }
        #expect(retweet.kind == .repost)
        #expect(retweet.referencedPostID == "1830000000000000005")
        #expect(retweet.referencedAuthorID == "999")
        #expect(retweet.text == "")
        guard case .disconnect(let reason) = try decoder.streamLine(all[3]) else { Issue.record("not a disconnect"); return }
        #expect(reason.contains("UpstreamOperationalDisconnect"))
    }

    @Test("garbage stream lines are refused with a reason", arguments: [
        "{", "[]", "{}", "{\"data\":{\"id\":\"12a\",\"text\":\"x\",\"author_id\":\"1\",\"created_at\":\"2024-01-15T10:35:00.000Z\"}}",
        "{\"data\":{\"id\":\"12\",\"text\":\"x\",\"created_at\":\"2024-01-15T10:35:00.000Z\"}}",
        "{\"data\":{\"id\":\"12\",\"text\":\"x\",\"author_id\":\"1\"}}",
        "{\"data\":{\"id\":\"12\",\"text\":\"x\",\"author_id\":\"1\",\"created_at\":\"2024-01-15T10:35:00.000Z\",\"referenced_tweets\":[{\"type\":\"retweeted\",\"id\":\"../x\"}]}}",
        "{\"data\":{\"id\":\"12\",\"text\":5,\"author_id\":\"1\",\"created_at\":\"2024-01-15T10:35:00.000Z\"}}",
    ])
    func garbage(_ line: String) {
        #expect(throws: WireFormatError.self) { try decoder.streamLine(Array(line.utf8)) }
    }

    @Test("an Account Activity body: a v1.1 retweet of the official reply and a mention with a link code")
    func activity() throws {
        let body = try Data(contentsOf: Self.fixtures.appendingPathComponent("activity-retweet.json"))
        let events = try decoder.activity(body, receivedAt: Instant(millisecondsSinceEpoch: 0))
        #expect(events.count == 2)
        #expect(events[0].kind == .repost)
        #expect(events[0].referencedPostID == "1830000000000000005")
        #expect(events[0].referencedAuthorID == "999")
        #expect(events[0].author.handle == "@alice")
        #expect(events[0].createdAt == Instant(millisecondsSinceEpoch: 1_787_918_580_000))
        #expect(events[1].kind == .post)
        #expect(events[1].hashtags == ["BuyAmexTee"])
        #expect(events[1].text.contains("HC-ABCD2345"))
        #expect(throws: WireFormatError.self) { try decoder.activity(Data("{\"tweet_create_events\":[{\"id_str\":\"x\"}]}".utf8), receivedAt: Instant(millisecondsSinceEpoch: 0)) }
    }

    @Test("CRC and signatures: HMAC-SHA256 with the consumer secret (vectors from Python's hmac)")
    func webhookSecurity() {
        #expect(XWebhookSecurity.crcResponseToken(crcToken: "crc-token-abc", consumerSecret: "consumer-secret-123")
                == "sha256=8q4gbHSwr+NvXrzFaOG7EoZ8pRQRk2eTIMIbbVxALFY=")
        let body = Data("{\"for_user_id\":\"2244994945\",\"tweet_create_events\":[]}".utf8)
        let good = "sha256=XOkTpMQkRTq8awUtYYLM6pXIax8YRgVKVZKYwr619bY="
        #expect(XWebhookSecurity.isValidSignature(good, body: body, consumerSecret: "consumer-secret-123"))
        #expect(!XWebhookSecurity.isValidSignature(good, body: body + Data(" ".utf8), consumerSecret: "consumer-secret-123"))
        #expect(!XWebhookSecurity.isValidSignature(good, body: body, consumerSecret: "other"))
        for bad in [nil, "", "sha256=", "sha1=XOkTpMQkRTq8awUtYYLM6pXIax8YRgVKVZKYwr619bY=", "sha256=!!!", "sha256=" + String(repeating: "A", count: 200)] {
            #expect(!XWebhookSecurity.isValidSignature(bad, body: body, consumerSecret: "consumer-secret-123"), "\(bad ?? "nil")")
        }
    }

    @Test("stream rules: Hashcart's rules follow the interest; rules it did not make are left alone")
    func rules() {
        let desired = XRules.desired(hashtagKeys: ["buyamextee", "買う"], officialUsername: "ShopBot", limit: 10)
        #expect(desired.map(\.value) == ["retweets_of:ShopBot", "@ShopBot -is:retweet", "#buyamextee -is:retweet", "#買う -is:retweet"])
        let current = [
            XAPI.Rule(id: "1", value: "retweets_of:ShopBot", tag: "hashcart:confirmations"),
            XAPI.Rule(id: "2", value: "#oldoffer -is:retweet", tag: "hashcart:tag:oldoffer"),
            XAPI.Rule(id: "3", value: "cat has:images", tag: "someone else's"),
        ]
        let (add, delete) = XRules.diff(current: current, desired: desired)
        #expect(add.map(\.value) == ["@ShopBot -is:retweet", "#buyamextee -is:retweet", "#買う -is:retweet"])
        #expect(delete == ["2"])
        let many = XRules.desired(hashtagKeys: Set((0..<2_000).map { "tag\($0)" }), officialUsername: "ShopBot", limit: 900)
        #expect(many.count == 902)
        // After a reconnect: the two fixed rules as they are, 900 hashtags in a few OR-ed queries.
        let recovery = XRules.recoveryQueries(for: many)
        #expect(recovery.count < 30, "\(recovery.count) searches")
        #expect(recovery.allSatisfy { $0.value.count <= XRules.maximumQueryLength })
        #expect(recovery.prefix(2).map(\.value) == ["retweets_of:ShopBot", "@ShopBot -is:retweet"])
        let covered = recovery.dropFirst(2).flatMap { $0.value.split(separator: " ").filter { $0.contains("#") } }
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "(#)")) }
        #expect(Set(covered) == Set(many.dropFirst(2).map { String($0.value.dropFirst().prefix { $0 != " " }) }))
        #expect(XRules.recoveryQueries(for: desired).map(\.value) == ["retweets_of:ShopBot", "@ShopBot -is:retweet", "(#buyamextee OR #買う) -is:retweet"])
    }

    @Test("configuration: each wrong setting is named")
    func configuration() {
        func field(_ change: (inout XConfiguration) -> Void) -> String? {
            var configuration = XConfiguration(officialUserID: "999", officialUsername: "ShopBot", bearerToken: "app", userToken: "user")
            change(&configuration)
            do { _ = try configuration.validated(); return nil } catch { return error.field }
        }
        #expect(field { _ in } == nil)
        #expect(field { $0.apiURL = "api.x.com" } == "x.api")
        #expect(field { $0.officialUserID = "ShopBot" } == "x.official_user_id")
        #expect(field { $0.officialUsername = "@ShopBot" } == "x.official_username")
        #expect(field { $0.bearerToken = "" } == "HASHCART_X_BEARER_TOKEN")
        #expect(field { $0.userToken = "has space" } == "HASHCART_X_USER_TOKEN")
        #expect(field { $0.backfillMinutes = 9 } == "x")
    }
}

/// Fields Hashcart does not use never refuse a line; long posts keep their hashtags.
@Suite("X payloads as recorded")
struct XRecordedPayloadTests {
    let decoder = XDecoder(officialUserID: "999")

    @Test("matching_rules ids as numbers, strings, null or objects: the line is read all the same", arguments: [
        #"[{"id":1273026480692322304,"tag":"offer-42"}]"#, #"[{"id":"1273026480692322304","tag":"offer-42"}]"#,
        #"[{"id":null,"tag":null}]"#, #"[{"id":{"x":1},"tag":7}]"#, #"[{}]"#, #"[]"#,
    ])
    func matchingRulesOfAnyShape(rules: String) throws {
        let line = #"{"data":{"id":"1830000000000000001","text":"I want it #BuyAmexTee","author_id":"111","created_at":"2024-01-15T10:35:00.000Z","#
            + #""entities":{"hashtags":[{"start":10,"end":21,"tag":"BuyAmexTee"}]}},"includes":{"users":[{"id":"111","username":"alice"}]},"#
            + #""matching_rules":\#(rules)}"#
        guard case .event(let post) = try decoder.streamLine(Array(line.utf8)) else { Issue.record("not an event"); return }
        #expect(post.hashtags == ["BuyAmexTee"] && post.author.userID == "111")
    }

    @Test("a long v2 post: text and hashtags from note_tweet")
    func noteTweet() throws {
        let line = #"{"data":{"id":"1830000000000000002","text":"A long story about why I want … https://t.co/x","author_id":"111","#
            + #""created_at":"2024-01-15T10:35:00.000Z","entities":{"urls":[]},"#
            + #""note_tweet":{"text":"A long story about why I want it, ending with #BuyAmexTee","entities":{"hashtags":[{"start":46,"end":57,"tag":"BuyAmexTee"}]}}},"#
            + #""includes":{"users":[{"id":"111","username":"alice"}]}}"#
        guard case .event(let post) = try decoder.streamLine(Array(line.utf8)) else { Issue.record("not an event"); return }
        #expect(post.hashtags == ["BuyAmexTee"])
        #expect(post.text.hasSuffix("#BuyAmexTee"))
    }

    @Test("a truncated v1.1 tweet from Account Activity: hashtags only in extended_tweet")
    func truncatedLegacyTweet() throws {
        let body = #"{"for_user_id":"999","tweet_create_events":[{"id":1830000000000000003,"id_str":"1830000000000000003","#
            + #""text":"A long story about why I want … https://t.co/x","truncated":true,"timestamp_ms":"1705314900000","#
            + #""user":{"id":111,"id_str":"111","screen_name":"alice"},"entities":{"hashtags":[],"urls":[]},"#
            + #""extended_tweet":{"full_text":"A long story about why I want it #BuyAmexTee","display_text_range":[0,44],"#
            + #""entities":{"hashtags":[{"text":"BuyAmexTee","indices":[33,44]}]}}}]}"#
        let events = try decoder.activity(Data(body.utf8), receivedAt: Instant(secondsSinceEpoch: 1_705_314_900))
        #expect(events.count == 1 && events[0].hashtags == ["BuyAmexTee"] && events[0].text.hasSuffix("#BuyAmexTee"))
    }

    @Test("garbage is still refused with a reason", arguments: [
        #"{"data":{"id":"x","text":1}}"#, #"{"data":"#, #"[1,2]"#,
    ])
    func garbage(line: String) {
        #expect(throws: WireFormatError.self) { _ = try decoder.streamLine(Array(line.utf8)) }
    }
}
