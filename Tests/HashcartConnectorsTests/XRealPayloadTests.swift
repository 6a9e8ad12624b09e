import Foundation
import HashcartConnectors
import HashcartCore
import Testing

/// X payloads captured from X's production API by other projects (Fixtures/x/SOURCE.md): every
/// line reads as the payload says, where "says" is read independently of Hashcart's decoder, with
/// Foundation's JSONSerialization (the id, the author, the handle from `includes.users`, the
/// hashtags X marked, the kind of post, what it refers to, its time).
@Suite("X payloads recorded from production")
struct XRealPayloadTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/x")
    let decoder = XDecoder(officialUserID: "999")

    func lines(_ name: String) throws -> [Data] {
        try Data(contentsOf: Self.fixtures.appendingPathComponent(name)).split(separator: 0x0A).map { Data($0) }
    }

    /// What an API v2 post says, read with JSONSerialization.
    struct Expected {
        var id: String
        var authorID: String
        var handle: String
        var kind: NetworkEventKind
        var referenced: String?
        var hashtags: [String]
        var text: String
        var createdAt: Instant?

        init(v2 post: [String: Any], includes: [String: Any]?) {
            id = post["id"] as! String
            let author = post["author_id"] as! String
            authorID = author
            let users = includes?["users"] as? [[String: Any]] ?? []
            handle = "@" + ((users.first { $0["id"] as? String == author }?["username"] as? String) ?? author)
            let references = post["referenced_tweets"] as? [[String: Any]] ?? []
            func first(_ type: String) -> String? { references.first { $0["type"] as? String == type }?["id"] as? String }
            if let id = first("retweeted") {
                (kind, referenced) = (.repost, id)
            } else if let id = first("replied_to") {
                (kind, referenced) = (.reply, id)
            } else if let id = first("quoted") {
                (kind, referenced) = (.quote, id)
            } else {
                (kind, referenced) = (.post, nil)
            }
            let note = post["note_tweet"] as? [String: Any]
            let entities = (note?["entities"] ?? post["entities"]) as? [String: Any]
            hashtags = (entities?["hashtags"] as? [[String: Any]] ?? []).compactMap { $0["tag"] as? String }
            text = kind == .repost ? "" : ((note?["text"] ?? post["text"]) as? String ?? "")
            createdAt = Timestamp.parse(post["created_at"] as? String ?? "")
        }

        init(v1 tweet: [String: Any]) {
            id = tweet["id_str"] as! String
            let user = tweet["user"] as! [String: Any]
            authorID = user["id_str"] as! String
            handle = "@" + (user["screen_name"] as! String)
            let extended = tweet["extended_tweet"] as? [String: Any]
            if let original = tweet["retweeted_status"] as? [String: Any] {
                (kind, referenced) = (.repost, original["id_str"] as? String)
            } else if let parent = tweet["in_reply_to_status_id_str"] as? String {
                (kind, referenced) = (.reply, parent)
            } else if let quoted = tweet["quoted_status"] as? [String: Any] {
                (kind, referenced) = (.quote, quoted["id_str"] as? String)
            } else {
                (kind, referenced) = (.post, nil)
            }
            let entities = (extended?["entities"] ?? tweet["entities"]) as? [String: Any]
            hashtags = kind == .repost ? [] : (entities?["hashtags"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
            text = kind == .repost ? "" : ((extended?["full_text"] ?? tweet["full_text"] ?? tweet["text"]) as? String ?? "")
            createdAt = (tweet["timestamp_ms"] as? String).flatMap { Int64($0) }.map { Instant(millisecondsSinceEpoch: $0) }
        }

        func check(_ event: NetworkEvent, _ comment: Comment) {
            #expect(event.network == .x, comment)
            #expect(event.eventID == id, comment)
            #expect(event.author.userID == authorID, comment)
            #expect(event.author.handle == handle, comment)
            #expect(event.kind == kind, comment)
            #expect(event.referencedPostID == referenced, comment)
            #expect(event.hashtags == Array(hashtags.prefix(NetworkEvent.maximumHashtags)), comment)
            #expect(event.text == text, comment)
            if let createdAt { #expect(event.createdAt == createdAt, comment) }
        }
    }

    @Test("twarc's filtered-stream capture: numeric rule ids and null tags read; the line cut off by the drop is refused, the rest go on")
    func filteredStream() throws {
        let all = try lines("real-twarc-filtered-stream.jsonl")
        #expect(all.count == 8)
        var read = 0
        for (index, line) in all.enumerated() {
            guard let message = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                // The cut-off line: a clear refusal, nothing else.
                #expect(index == all.count - 1)
                #expect(throws: WireFormatError.self) { _ = try decoder.streamLine(line) }
                continue
            }
            // The capture holds numeric rule ids: the case a strict reading refused whole.
            #expect((message["matching_rules"] as? [[String: Any]])?.first?["id"] is NSNumber)
            let expected = Expected(v2: message["data"] as! [String: Any], includes: message["includes"] as? [String: Any])
            guard case .event(let event) = try decoder.streamLine(line) else {
                Issue.record("line \(index) is not an event")
                continue
            }
            expected.check(event, "line \(index)")
            read += 1
        }
        #expect(read == 7)
    }

    @Test("twarc's API v2 pages: every post, as a stream line, reads as it says (edits, cashtags, mentions, hashtags)",
          arguments: ["real-twarc-cashtags-page.jsonl", "real-twarc-edited-page.jsonl", "real-twarc-mentions-page.jsonl"])
    func responsePages(file: String) throws {
        var posts = 0
        var tagged = 0
        for page in try lines(file) {
            let object = try #require(try JSONSerialization.jsonObject(with: page) as? [String: Any])
            let includes = object["includes"] as? [String: Any]
            let data = object["data"].map { ($0 as? [[String: Any]]) ?? [$0 as! [String: Any]] } ?? []
            for post in data {
                // A stream line carries one post with the page's includes, as X's stream does.
                let line = try JSONSerialization.data(withJSONObject: ["data": post, "includes": includes ?? [:]])
                guard case .event(let event) = try decoder.streamLine(line) else {
                    Issue.record("\(file): post \(post["id"] ?? "?") is not an event")
                    continue
                }
                let expected = Expected(v2: post, includes: includes)
                expected.check(event, "\(file) \(expected.id)")
                posts += 1
                if !expected.hashtags.isEmpty { tagged += 1 }
            }
        }
        #expect(posts > 0)
        if file.contains("cashtags") { #expect(tagged > 0, "the capture has posts with hashtags") }
    }

    @Test("tweet_parser's 25 v1.1 tweets, each in an Account Activity body: retweets, replies, quotes, and truncated tweets read from extended_tweet")
    func legacyTweets() throws {
        let all = try lines("real-tweet-parser-v1.1.jsonl")
        #expect(all.count == 25)
        var truncated = 0
        var kinds: [NetworkEventKind: Int] = [:]
        for (index, line) in all.enumerated() {
            let tweet = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
            var body = Data(#"{"for_user_id":"999","tweet_create_events":["#.utf8)
            body.append(line)
            body.append(contentsOf: "]}".utf8)
            let events = try decoder.activity(body, receivedAt: Instant(millisecondsSinceEpoch: 0))
            try #require(events.count == 1, "tweet \(index)")
            let expected = Expected(v1: tweet)
            expected.check(events[0], "tweet \(index) (\(expected.id))")
            if tweet["truncated"] as? Bool == true {
                truncated += 1
                // The whole text, not the cut one with its "…" and link.
                #expect(events[0].text == (tweet["extended_tweet"] as? [String: Any])?["full_text"] as? String, "tweet \(index)")
            }
            kinds[events[0].kind, default: 0] += 1
        }
        #expect(truncated == 5)
        #expect(kinds[.repost] == 3 && kinds[.reply] == 4 && kinds[.quote] == 7, "\(kinds)")
    }

    @Test("the same captures, each cut short or with a byte flipped, are refused with a reason or read; never a crash")
    func damagedCaptures() throws {
        var refused = 0
        for line in try lines("real-twarc-filtered-stream.jsonl") {
            for cut in stride(from: 1, to: line.count, by: max(1, line.count / 40)) {
                do { _ = try decoder.streamLine(line.prefix(cut)) } catch { refused += 1 }
            }
            var flipped = line
            for position in stride(from: 0, to: flipped.count, by: max(1, flipped.count / 40)) {
                flipped[flipped.startIndex + position] ^= 0x20
                _ = try? decoder.streamLine(flipped)
                flipped[flipped.startIndex + position] ^= 0x20
            }
        }
        #expect(refused > 0)
    }
}
