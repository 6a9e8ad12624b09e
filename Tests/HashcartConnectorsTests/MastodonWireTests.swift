import Foundation
import HashcartConnectors
import HashcartCore
import Testing

/// Mastodon's payloads as a real server sends them (Fixtures/mastodon, from Mastodon.py's recorded
/// cassettes), its HTML, and the Server-Sent Events framing.
@Suite("Mastodon wire format")
struct MastodonWireTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mastodon")
    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    let decoder = MastodonDecoder(officialAccountURI: "http://localhost:3000/ap/users/117440810673731823", officialLocalID: "117440810673731823")

    @Test("a real tagged status: a post, identity = account URI, tags and text from its HTML")
    func taggedStatus() throws {
        let event = try decoder.status(try Self.fixture("status-hashtag-tl.json"))
        #expect(event.kind == .post)
        #expect(event.eventID == "117440841601474392")
        #expect(event.author.userID == "http://localhost:3000/ap/users/117440810673731823")
        #expect(event.author.handle == "@mastodonpy_test_2")
        #expect(event.hashtags == ["hoot"])
        #expect(event.text == "#hoot (hashtag toot)")
        #expect(event.normalizedHashtags.map(\.key) == ["hoot"])
        #expect(event.createdAt == Timestamp.parse("2026-10-14T19:10:29.321Z"))
    }

    @Test("a real boost is a repost of the original; a real reply names its parent")
    func reblogAndReply() throws {
        let boost = try decoder.status(try Self.fixture("status-reblog.json"))
        #expect(boost.kind == .repost)
        let original = try JSONSerialization.jsonObject(with: Data(try Self.fixture("status-reblog.json").utf8)) as! [String: Any]
        #expect(boost.referencedPostID == (original["reblog"] as! [String: Any])["id"] as? String)
        let reply = try decoder.status(try Self.fixture("status-reply.json"))
        #expect(reply.kind == .reply)
        #expect(reply.referencedPostID != nil)
    }

    @Test("a real mention notification yields its status; a reblog notification of the official account's post is a confirmation")
    func notifications() throws {
        let mention = try #require(try decoder.notification(try Self.fixture("notification-mention.json")))
        #expect(mention.kind == .post || mention.kind == .reply)
        // The cassettes hold no reblog notification: the same real one, with the documented type.
        var object = try JSONSerialization.jsonObject(with: Data(try Self.fixture("notification-mention.json").utf8)) as! [String: Any]
        object["type"] = "reblog"
        let reblog = try #require(try decoder.notification(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)))
        #expect(reblog.kind == .repost)
        #expect(reblog.eventID == "notification:20")
        #expect(reblog.referencedPostID == (object["status"] as! [String: Any])["id"] as? String)
        object["type"] = "favourite"
        #expect(try decoder.notification(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)) == nil)
    }

    @Test("the payloads a real hashtag stream delivered decode")
    func streamPayloads() throws {
        let messages = try JSONSerialization.jsonObject(with: Data(try Self.fixture("stream-hashtag-websocket.json").utf8)) as! [[String: Any]]
        #expect(messages.count == 2)
        for message in messages {
            let event = try decoder.status(message["payload"] as! String)
            #expect(event.kind == .post)
            #expect(!event.hashtags.isEmpty)
            #expect(event.text.contains("hashtag stream test"))
        }
    }

    @Test("garbage and wrong shapes are refused with a reason", arguments: [
        "", "null", "[]", "{\"id\":1}", "{\"id\":\"1\",\"created_at\":\"yesterday\",\"content\":\"\",\"account\":{\"id\":\"1\",\"acct\":\"a\",\"uri\":\"https://x/users/a\"}}",
        "{\"id\":\"1\",\"created_at\":\"2026-10-14T19:10:29.321Z\",\"content\":\"\",\"account\":{\"id\":\"1\",\"acct\":\"a\"}}",
        "{\"id\":\"1\",\"created_at\":\"2026-10-14T19:10:29.321Z\",\"content\":\"\",\"account\":{\"id\":\"1\",\"acct\":\"a\",\"uri\":\"javascript:alert(1)\"}}",
        "{\"id\":\"1 2\",\"created_at\":\"2026-10-14T19:10:29.321Z\",\"content\":\"\",\"account\":{\"id\":\"1\",\"acct\":\"a\",\"uri\":\"https://x/users/a\"}}",
        String(repeating: "x", count: 300_000),
    ])
    func garbage(_ payload: String) {
        #expect(throws: WireFormatError.self) { try decoder.status(payload) }
    }

    @Test("HTML content becomes the text a person wrote, safely", arguments: [
        ("<p>I want it <a href=\"https://m.example/tags/BuyAmexTee\" class=\"mention hashtag\" rel=\"tag\">#<span>BuyAmexTee</span></a></p>", "I want it #BuyAmexTee"),
        ("<p>line one<br />line two</p><p>second paragraph</p>", "line one\nline two\nsecond paragraph"),
        ("<p>Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#39;single&#39; &#x1F525; &#128512;</p>", "Tom & Jerry <3 \"quoted\" 'single' 🔥 😀"),
        ("<p><span class=\"h-card\"><a href=\"https://m.example/@shop\" class=\"u-url mention\">@<span>shop</span></a></span> HC-ABCD1234</p>", "@shop HC-ABCD1234"),
        ("<script>alert(\"x\")</script>", "alert(\"x\")"),
        ("a < b and c > d", "a < b and c > d"),
        ("&bogus; &#0; &#xZZ; &", "&bogus; &#0; &#xZZ; &"),
        ("<a title=\"x > y\">link</a>", "link"),
        ("", ""),
    ])
    func html(_ html: String, _ text: String) {
        #expect(MastodonHTML.text(html) == text)
    }

    @Test("Server-Sent Events: any chunking, CRLF, heartbeats, multi-line data, oversize dropped")
    func serverSentEvents() {
        let stream = ":)\r\nevent: update\r\ndata: {\"a\":1}\r\n\r\n:thump\nevent: delete\ndata: 123\n\nevent: update\ndata: line1\ndata: line2\n\ndata: plain\n\n"
        let bytes = Array(stream.utf8)
        for chunkSize in [1, 2, 3, 7, 64, bytes.count] {
            var parser = ServerSentEventParser()
            var events: [ServerSentEvent] = []
            for start in stride(from: 0, to: bytes.count, by: chunkSize) {
                events += parser.feed(bytes[start..<min(start + chunkSize, bytes.count)])
            }
            #expect(events.map(\.event) == ["update", "delete", "update", "message"], "chunk \(chunkSize)")
            #expect(events.map(\.data) == ["{\"a\":1}", "123", "line1\nline2", "plain"], "chunk \(chunkSize)")
            #expect(parser.heartbeats == 2)
        }
        var small = ServerSentEventParser(maximumEventBytes: 16)
        let events = small.feed(Array("event: update\ndata: \(String(repeating: "x", count: 100))\n\nevent: delete\ndata: 7\n\n".utf8))
        #expect(events.map(\.data) == ["7"])
        #expect(small.oversize == 1)
    }
}
