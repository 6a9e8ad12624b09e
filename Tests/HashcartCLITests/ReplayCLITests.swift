import Foundation
import Testing

/// `hashcart replay` as an operator runs it: a Jetstream capture into a store with live offers.
@Suite struct ReplayCLITests {
    static let capture = """
        {"did":"did:plc:aliceaaaaaaaaaaaaaaaaaaa","time_us":1783175889000000,"kind":"commit","commit":{"rev":"3m","operation":"create","collection":"app.bsky.feed.post","rkey":"3mgood","record":{"text":"I want it #buyamexgiftcard"},"cid":"bafy"}}
        this line is not JSON
        {"did":"did:plc:bobbbbbbbbbbbbbbbbbbbbbb","time_us":1783175889000001,"kind":"commit","commit":{"rev":"3m","operation":"create","collection":"app.bsky.feed.post","rkey":"3mother","record":{"text":"nothing to buy #BuyAmexGiftCardFake"},"cid":"bafy"}}
        {"did":"did:plc:carolcccccccccccccccccccc","time_us":1783175889000002,"kind":"identity","identity":{"did":"did:plc:carolcccccccccccccccccccc","handle":"carol.bsky.social"}}

        """

    func lines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    /// A day into the demo's sale (its clock starts at Black Friday 2026, 15:00 UTC; offers last two days).
    static let duringTheSale = "1795878000"

    @Test("a capture replayed into the demo store: each event's outcome, refused lines named, a second replay changes nothing")
    func replayIntoStore() async throws {
        let folder = TemporaryFolder("replay")
        #expect(try await hashcart(["demo", "--cardholders", "100", "--data", folder.path], timeout: 120).status == 0)
        let captures = TemporaryFolder("capture")
        try FileManager.default.createDirectory(atPath: captures.path, withIntermediateDirectories: true)
        let file = URL(fileURLWithPath: captures.file("capture.jsonl"))
        try Self.capture.write(to: file, atomically: true, encoding: .utf8)
        let before = try await hashcart(["check", "--data", folder.path, "--json"]).json()

        // Dry run: nothing changes, the event the engine would get is listed.
        let dry = try await hashcart(["replay", "--network", "bluesky", "--file", file.path, "--data", folder.path, "--dry-run", "--json", "--at", Self.duringTheSale])
        #expect(dry.status == 0, "\(dry)")
        let dryLines = try lines(dry.stdout)
        #expect(dryLines.compactMap { $0["event_id"] as? String } == ["at://did:plc:aliceaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3mgood"])
        #expect(try await hashcart(["check", "--data", folder.path, "--json"]).json()["checked"] as? NSDictionary == before["checked"] as? NSDictionary)

        let run = try await hashcart(["replay", "--network", "bluesky", "--file", file.path, "--data", folder.path, "--official", "did:plc:shop", "--json", "--at", Self.duringTheSale])
        #expect(run.status == 0, "\(run)")
        let reported = try lines(run.stdout)
        #expect(reported.first { $0["line"] as? Int == 1 }?["outcome"] as? String == "unlinked post for offer_000004 (invited to link)")
        #expect((reported.first { $0["line"] as? Int == 2 }?["error"] as? String)?.contains("malformed Jetstream event") == true)
        let summary = try #require(reported.last?["summary"] as? [String: Any])
        #expect(summary["lines"] as? Int == 4)
        #expect(summary["kept"] as? Int == 1)
        #expect(summary["refused"] as? Int == 1)
        #expect(summary["cursor"] as? String == "1783175889000002")

        let again = try await hashcart(["replay", "--network", "bluesky", "--file", file.path, "--data", folder.path, "--official", "did:plc:shop", "--json", "--at", Self.duringTheSale])
        #expect(try lines(again.stdout).first { $0["line"] as? Int == 1 }?["outcome"] as? String == "duplicate")
        #expect(try await hashcart(["check", "--data", folder.path]).status == 0)
    }
}

/// `hashcart replay --network mastodon`: a real server's streamed messages (Mastodon.py's cassettes).
@Suite struct MastodonReplayCLITests {
    @Test("the messages a real hashtag stream delivered, replayed dry: both statuses listed, a broken line refused")
    func replayMastodonCapture() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HashcartConnectorsTests/Fixtures/mastodon/stream-hashtag-websocket.json")
        let messages = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as! [[String: Any]]
        var lines = try messages.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        lines.insert("{\"event\":\"update\",\"payload\":\"{broken\"}", at: 1)
        let folder = TemporaryFolder("mastodon-capture")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder.file("capture.jsonl"), atomically: true, encoding: .utf8)
        let run = try await hashcart(["replay", "--network", "mastodon", "--file", folder.file("capture.jsonl"), "--dry-run", "--json"])
        #expect(run.status == 0, "\(run)")
        let reported = try run.stdout.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(reported.filter { $0["event_id"] != nil }.count == 2)
        #expect(reported.contains { $0["line"] as? Int == 2 && ($0["error"] as? String)?.contains("malformed status") == true })
        #expect((reported.last?["summary"] as? [String: Any])?["refused"] as? Int == 1)
    }
}

/// `hashcart replay --network x`: filtered-stream lines and an Account Activity body.
@Suite struct XReplayCLITests {
    @Test("stream lines (keep-alive and disconnect skipped) and an Account Activity body, replayed dry")
    func replayXCapture() async throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HashcartConnectorsTests/Fixtures/x")
        let stream = try String(contentsOf: fixtures.appendingPathComponent("stream-purchase.jsonl"), encoding: .utf8)
        let activity = try String(contentsOf: fixtures.appendingPathComponent("activity-retweet.json"), encoding: .utf8)
        let folder = TemporaryFolder("x-capture")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        try (stream + activity + "not json\n").write(toFile: folder.file("capture.jsonl"), atomically: true, encoding: .utf8)
        let run = try await hashcart(["replay", "--network", "x", "--file", folder.file("capture.jsonl"), "--dry-run", "--json", "--official", "999"])
        #expect(run.status == 0, "\(run)")
        let reported = try run.stdout.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let kinds = reported.compactMap { $0["kind"] as? String }
        #expect(kinds == ["post", "repost", "repost", "post"], "\(reported)")
        let summary = try #require(reported.last?["summary"] as? [String: Any])
        #expect(summary["refused"] as? Int == 1)
        #expect(summary["kept"] as? Int == 4)
    }
}
