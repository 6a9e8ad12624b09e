import Foundation
import HashcartConnectors
import HashcartCore
import Testing

/// Real Jetstream v1 events (see Fixtures/bluesky/SOURCE.md) and generated streams through the
/// edge filter and the strict decoder.
@Suite("Bluesky Jetstream: filter and decoder")
struct JetstreamFilterTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bluesky")

    static func lines(_ name: String) throws -> [[UInt8]] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(name))
        return data.split(separator: UInt8(ascii: "\n")).map { Array($0) }
    }

    /// What the engine would act on, worked out the slow way from the strictly decoded event.
    static func referenceRelevance(_ line: [UInt8], official: String, interest: ConnectorInterest) throws -> Bool {
        guard let event = try JetstreamDecoder.decode(line), event.author.userID != official else { return false }
        switch event.kind {
        case .post, .reply, .quote:
            if event.text.contains("HC-") { return true }
            if event.kind == .reply, event.referencedAuthorID == official { return true }
            return event.normalizedHashtags.contains { interest.hashtagKeys.contains($0.key) }
        case .repost: return event.referencedAuthorID == official
        case .delete: return interest.watchedAuthorIDs.contains(event.author.userID)
        }
    }

    @Test("every real event scans and decodes; the filter keeps exactly what the engine would use")
    func realEvents() throws {
        let lines = try Self.lines("jetstream-v1-real-152.jsonl") + Self.lines("jetstream-v1-golden-10.jsonl")
        #expect(lines.count == 162)
        // The official account is one whose post is reposted in the capture; two live tags appear in facets.
        let official = "did:plc:hjloomm2tkve3pmfgbxegl3v"
        let interest = ConnectorInterest(hashtagKeys: ["indierebellion", "talesatwonderworld"],
                                         watchedAuthorIDs: ["did:plc:6smi3gnsm2ebhaqnmpuhuh7v"])
        let filter = JetstreamFilter(officialDID: official, interest: interest)
        var kept: [NetworkEvent] = []
        for line in lines {
            let scan = try filter.scan(line)
            #expect(scan.timeMicroseconds > 1_700_000_000_000_000)
            #expect(scan.isRelevant == (try Self.referenceRelevance(line, official: official, interest: interest)),
                    "\(String(decoding: line.prefix(160), as: UTF8.self))")
            if scan.isRelevant, let event = try JetstreamDecoder.decode(line) { kept.append(event) }
        }
        let posts = kept.filter { $0.kind == .post || $0.kind == .reply }
        #expect(posts.count == 2)
        #expect(posts.allSatisfy { $0.eventID.hasPrefix("at://did:plc:") && $0.eventID.contains("/app.bsky.feed.post/") })
        let wonder = try #require(posts.first { $0.author.userID == "did:plc:ynfp6wddjqpl44gordpsqkuw" })
        #expect(wonder.hashtags == ["talesatwonderworld", "balanwonderworldoc"])
        #expect(wonder.eventID == "at://did:plc:ynfp6wddjqpl44gordpsqkuw/app.bsky.feed.post/3mptbyo7tas2u")
        let reposts = kept.filter { $0.kind == .repost }
        #expect(reposts.count == 1)
        #expect(reposts.first?.referencedPostID == "at://did:plc:hjloomm2tkve3pmfgbxegl3v/app.bsky.feed.post/3mmood3a6hc25")
        #expect(reposts.first?.referencedAuthorID == official)
    }

    @Test("a post's delete, a reply, a quote and an identity event decode to what they mean")
    func decodesKinds() throws {
        let delete = ##"{"did":"did:plc:abc","time_us":1783175888000123,"kind":"commit","commit":{"rev":"3m","operation":"delete","collection":"app.bsky.feed.post","rkey":"3mpost"}}"##
        let event = try #require(try JetstreamDecoder.decode(Array(delete.utf8)))
        #expect(event.kind == .delete)
        #expect(event.referencedPostID == "at://did:plc:abc/app.bsky.feed.post/3mpost")
        #expect(event.eventID == "at://did:plc:abc/app.bsky.feed.post/3mpost#delete")
        #expect(event.createdAt == Instant(millisecondsSinceEpoch: 1_783_175_888_000))

        let reply = ##"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"rev":"3m","operation":"create","collection":"app.bsky.feed.post","rkey":"3mr","record":{"$type":"app.bsky.feed.post","text":"yes","reply":{"root":{"uri":"at://did:plc:shop/app.bsky.feed.post/1","cid":"x"},"parent":{"uri":"at://did:plc:shop/app.bsky.feed.post/2","cid":"y"}}},"cid":"z"}}"##
        let replyEvent = try #require(try JetstreamDecoder.decode(Array(reply.utf8)))
        #expect(replyEvent.kind == .reply)
        #expect(replyEvent.referencedPostID == "at://did:plc:shop/app.bsky.feed.post/2")
        #expect(replyEvent.referencedAuthorID == "did:plc:shop")
        #expect(try JetstreamFilter(officialDID: "did:plc:shop").scan(Array(reply.utf8)).isRelevant)

        let quote = ##"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"3mq","record":{"text":"#BuyTee look","embed":{"$type":"app.bsky.embed.recordWithMedia","record":{"record":{"uri":"at://did:plc:x/app.bsky.feed.post/9","cid":"c"}},"media":{}}}}}"##
        let quoteEvent = try #require(try JetstreamDecoder.decode(Array(quote.utf8)))
        #expect(quoteEvent.kind == .quote)
        #expect(quoteEvent.referencedPostID == "at://did:plc:x/app.bsky.feed.post/9")

        let identity = ##"{"did":"did:plc:abc","time_us":5,"kind":"identity","identity":{"did":"did:plc:abc","handle":"a.bsky.social"}}"##
        #expect(try JetstreamDecoder.decode(Array(identity.utf8)) == nil)
        #expect(try JetstreamFilter(officialDID: "did:plc:shop").scan(Array(identity.utf8)) == JetstreamScan(timeMicroseconds: 5, isRelevant: false))
    }

    @Test("the record may come before its collection")
    func recordBeforeCollection() throws {
        let line = ##"{"kind":"commit","commit":{"record":{"text":"#BuyTee"},"operation":"create","rkey":"3mx","collection":"app.bsky.feed.post"},"time_us":9,"did":"did:plc:abc"}"##
        let filter = JetstreamFilter(officialDID: "did:plc:shop", interest: ConnectorInterest(hashtagKeys: ["buytee"]))
        #expect(try filter.scan(Array(line.utf8)) == JetstreamScan(timeMicroseconds: 9, isRelevant: true))
    }

    @Test("the official account's own posts are never kept")
    func officialPostsDropped() throws {
        let line = ##"{"did":"did:plc:shop","time_us":9,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"3mx","record":{"text":"#BuyTee is live"}}}"##
        let filter = JetstreamFilter(officialDID: "did:plc:shop", interest: ConnectorInterest(hashtagKeys: ["buytee"]))
        #expect(try filter.scan(Array(line.utf8)).isRelevant == false)
    }

    @Test("a generated stream: the filter keeps every offer post and official repost, and agrees with the decoder")
    func generatedStream() throws {
        let official = "did:plc:shopbotbbbbbbbbbbbbbbbbb"
        var generator = JetstreamGenerator(seed: 7, offerTags: ["BuyAmexTee", "Café"], officialDID: official, offerRate: 0.01)
        let interest = ConnectorInterest(hashtagKeys: [try Hashtag("BuyAmexTee").key, try Hashtag("Café").key])
        let filter = JetstreamFilter(officialDID: official, interest: interest)
        var kept = 0
        for _ in 0..<5_000 {
            let line = Array(generator.nextLine().utf8)
            let scan = try filter.scan(line)
            #expect(scan.isRelevant == (try Self.referenceRelevance(line, official: official, interest: interest)),
                    "\(String(decoding: line, as: UTF8.self))")
            if scan.isRelevant { kept += 1 }
        }
        #expect(generator.offerPosts > 10)
        #expect(kept == generator.offerPosts + generator.officialReposts)
    }

    @Test("every truncation of a real event is refused with a clear error")
    func truncated() throws {
        let filter = JetstreamFilter(officialDID: "did:plc:shop", interest: ConnectorInterest(hashtagKeys: ["x"]))
        for line in try Self.lines("jetstream-v1-golden-10.jsonl") {
            for cut in stride(from: 0, to: line.count - 1, by: 7) {
                let prefix = Array(line[..<cut])
                #expect(throws: WireFormatError.self) { try filter.scan(prefix) }
                #expect(throws: WireFormatError.self) { try JetstreamDecoder.decode(prefix) }
            }
        }
    }

    @Test("garbage is refused: clear message, no crash", arguments: [
        "", "null", "[]", "{}", "not json", "{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"commit\"}}",
        "{\"did\":\"did:plc:a\",\"time_us\":\"1\",\"kind\":\"commit\"}",
        "{\"did\":\"did:plc:a\",\"time_us\":1.5,\"kind\":\"commit\"}",
        "{\"did\":\"did:plc:a\",\"time_us\":99999999999999999999,\"kind\":\"commit\"}",
        "{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"record\":{\"text\":\"a\"]}}",
        "{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"record\":{\"text\":tru}}}",
        "{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"commit\"} trailing",
        String(repeating: "[", count: 100_000),
    ])
    func garbage(_ text: String) {
        let filter = JetstreamFilter(officialDID: "did:plc:shop")
        #expect(throws: WireFormatError.self) { try filter.scan(Array(text.utf8)) }
        #expect(throws: WireFormatError.self) { try JetstreamDecoder.decode(Array(text.utf8)) }
    }

    @Test("events that are well formed but wrong are refused by the decoder", arguments: [
        ##"{"did":"alice","time_us":1,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":"3m"}}"##,
        ##"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":"a b"}}"##,
        ##"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.repost","rkey":"3m","record":{"subject":{"uri":"https://evil.example/x"}}}}"##,
        ##"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"3m"}}"##,
        ##"{"did":"did:plc:a","time_us":-5,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":"3m"}}"##,
    ])
    func wrongShapes(_ text: String) {
        #expect(throws: WireFormatError.self) { try JetstreamDecoder.decode(Array(text.utf8)) }
    }

    @Test("an oversize event is refused before it is read")
    func oversize() {
        let text = "{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"commit\",\"pad\":\"" + String(repeating: "x", count: JetstreamFilter.maximumLineBytes) + "\"}"
        #expect(throws: WireFormatError.self) { try JetstreamFilter(officialDID: "did:plc:shop").scan(Array(text.utf8)) }
        #expect(throws: WireFormatError.self) { try JetstreamDecoder.decode(Array(text.utf8)) }
    }
}
