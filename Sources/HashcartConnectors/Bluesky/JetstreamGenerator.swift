import HashcartCore

/// A seeded generator of Jetstream v1 lines (`wantedCollections=app.bsky.feed.post,app.bsky.feed.repost`)
/// shaped like the real firehose (see the fixtures from production Jetstream): posts in several
/// languages with emoji, links, mentions and unrelated hashtags, replies, quotes, reposts,
/// deletions, identity and account events. A fraction (`offerRate`, default 0.1 %) of the posts
/// carry a live offer's hashtag, spelled in varied case, as a facet, in `tags` or in plain text.
///
/// The same seed gives the same bytes. Used by `hashcart bench ingest --generate` and the tests.
public struct JetstreamGenerator {
    public let offerTags: [String]
    public let officialDID: String
    public let offerRate: Double
    private var random: SplitMix64
    private var time: Int64
    /// How many lines carried an offer's hashtag, and how many reposted the official account.
    public private(set) var offerPosts = 0
    public private(set) var officialReposts = 0

    public init(seed: UInt64, offerTags: [String], officialDID: String, offerRate: Double = 0.001,
                startMicroseconds: Int64 = 1_783_175_888_000_000) {
        precondition(!offerTags.isEmpty && offerRate >= 0 && offerRate <= 1)
        self.offerTags = offerTags
        self.officialDID = officialDID
        self.offerRate = offerRate
        self.random = SplitMix64(seed: seed)
        self.time = startMicroseconds
    }

    private static let words = [
        "the", "and", "today", "really", "love", "this", "new", "just", "finished", "reading", "coffee", "weather",
        "morning", "thread", "art", "music", "game", "photo", "tonight", "friends", "work", "cat", "dog", "book",
        "待って", "今日", "ありがとう", "写真", "본", "오늘", "hoy", "que", "muito", "bom", "día", "café", "très", "schön",
        "Straße", "🔥", "😂", "❤️", "✨", "🎉", "🐱", "👀", "…", "—", "&", "<3", "\"quoted\"", "line\nbreak",
    ]
    private static let otherTags = ["art", "photography", "bookclub", "Caturday", "NowPlaying", "IndieDev", "日本", "gamedev", "BuyNothing", "BuyKindleFireHD2"]
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    private mutating func chance(_ p: Double) -> Bool { Double(random.next() >> 11) / Double(1 << 53) < p }
    private mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    private mutating func base32(_ count: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for _ in 0..<count { bytes.append(Self.alphabet[Int(random.next() % 32)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func did() -> String { "did:plc:" + base32(24) }
    private mutating func rkey() -> String { "3m" + base32(11) }
    private mutating func cid() -> String { "bafyrei" + base32(52) }

    private mutating func sentence(words count: Int) -> String {
        var parts: [String] = []
        for _ in 0..<count { parts.append(pick(Self.words)) }
        return parts.joined(separator: " ")
    }

    /// The next line, without its newline.
    public mutating func nextLine() -> String {
        time += Int64(random.next() % 900) + 50
        let roll = random.next() % 1_000
        if roll < 8 { return identityOrAccount() }
        if roll < 60 { return delete() }
        if roll < 210 { return repost() }
        return post()
    }

    private mutating func envelope(did: String, commit: String) -> String {
        "{\"did\":\"\(did)\",\"time_us\":\(time),\"kind\":\"commit\",\"commit\":\(commit)}"
    }

    private mutating func identityOrAccount() -> String {
        let author = did()
        if chance(0.5) {
            return "{\"did\":\"\(author)\",\"time_us\":\(time),\"kind\":\"identity\",\"identity\":{\"did\":\"\(author)\",\"handle\":\"user\(random.next() % 100_000).bsky.social\",\"seq\":\(random.next() % 10_000_000_000),\"time\":\"2026-07-04T14:38:08.000Z\"}}"
        }
        return "{\"did\":\"\(author)\",\"time_us\":\(time),\"kind\":\"account\",\"account\":{\"active\":true,\"did\":\"\(author)\",\"seq\":\(random.next() % 10_000_000_000),\"time\":\"2026-07-04T14:38:08.000Z\"}}"
    }

    private mutating func delete() -> String {
        envelope(did: did(), commit: "{\"rev\":\"\(rkey())\",\"operation\":\"delete\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"\(rkey())\"}")
    }

    private mutating func repost() -> String {
        let official = chance(offerRate)
        if official { officialReposts += 1 }
        let subject = "at://\(official ? officialDID : did())/app.bsky.feed.post/\(rkey())"
        let record = "{\"$type\":\"app.bsky.feed.repost\",\"createdAt\":\"2026-07-04T14:38:07.705Z\",\"subject\":{\"cid\":\"\(cid())\",\"uri\":\"\(subject)\"}}"
        return envelope(did: did(), commit: "{\"rev\":\"\(rkey())\",\"operation\":\"create\",\"collection\":\"app.bsky.feed.repost\",\"rkey\":\"\(rkey())\",\"record\":\(record),\"cid\":\"\(cid())\"}")
    }

    private mutating func post() -> String {
        var text = sentence(words: Int(random.next() % 24) + 1)
        var facets: [String] = []
        var tags: [String] = []
        func byteLength(_ s: String) -> Int { s.utf8.count }
        if chance(offerRate) {
            offerPosts += 1
            var tag = pick(offerTags)
            switch random.next() % 3 {
            case 0: tag = tag.lowercased()
            case 1: tag = tag.uppercased()
            default: break
            }
            switch random.next() % 3 {
            case 0:  // In the text with a tag facet, as the official app writes it.
                let start = byteLength(text) + 1
                text += " #" + tag
                facets.append(Self.tagFacet(start: start, end: start + 1 + byteLength(tag), tag: tag))
            case 1:  // In the text only (clients that skip facets).
                text = "#\(tag) " + text
            default:  // In record.tags only.
                tags.append(tag)
            }
        }
        if chance(0.12) {  // An unrelated hashtag, usually with its facet.
            let tag = pick(Self.otherTags)
            let start = byteLength(text) + 1
            text += " #" + tag
            if chance(0.8) { facets.append(Self.tagFacet(start: start, end: start + 1 + byteLength(tag), tag: tag)) }
        }
        if chance(0.02) { tags.append(pick(Self.otherTags)) }
        var embed: String?
        if chance(0.2) {
            let url = "https://www.example.com/watch?v=\(base32(11))"
            facets.append("{\"features\":[{\"$type\":\"app.bsky.richtext.facet#link\",\"uri\":\"\(url)\"}],\"index\":{\"byteEnd\":\(byteLength(text)),\"byteStart\":0}}")
            embed = "{\"$type\":\"app.bsky.embed.external\",\"external\":{\"description\":\"\(Self.escaped(sentence(words: 8)))\",\"thumb\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkrei\(base32(52))\"},\"mimeType\":\"image/jpeg\",\"size\":\(random.next() % 300_000)},\"title\":\"\(Self.escaped(sentence(words: 6)))\",\"uri\":\"\(url)\"}}"
        } else if chance(0.08) {
            embed = "{\"$type\":\"app.bsky.embed.record\",\"record\":{\"cid\":\"\(cid())\",\"uri\":\"at://\(did())/app.bsky.feed.post/\(rkey())\"}}"
        } else if chance(0.15) {
            embed = "{\"$type\":\"app.bsky.embed.images\",\"images\":[{\"alt\":\"\(Self.escaped(sentence(words: 5)))\",\"aspectRatio\":{\"height\":1080,\"width\":1920},\"image\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkrei\(base32(52))\"},\"mimeType\":\"image/jpeg\",\"size\":\(random.next() % 900_000)}}]}"
        }
        var record = "{\"$type\":\"app.bsky.feed.post\",\"createdAt\":\"2026-07-04T14:38:06.240Z\""
        if let embed { record += ",\"embed\":\(embed)" }
        if !facets.isEmpty { record += ",\"facets\":[\(facets.joined(separator: ","))]" }
        record += ",\"langs\":[\"\(pick(["en", "ja", "pt", "es", "de", "ko"]))\"]"
        if chance(0.25) {
            let parent = "{\"cid\":\"\(cid())\",\"uri\":\"at://\(did())/app.bsky.feed.post/\(rkey())\"}"
            record += ",\"reply\":{\"parent\":\(parent),\"root\":\(parent)}"
        }
        if !tags.isEmpty { record += ",\"tags\":[\(tags.map { "\"\(Self.escaped($0))\"" }.joined(separator: ","))]" }
        record += ",\"text\":\"\(Self.escaped(text))\"}"
        return envelope(did: did(), commit: "{\"rev\":\"\(rkey())\",\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"\(rkey())\",\"record\":\(record),\"cid\":\"\(cid())\"}")
    }

    private static func tagFacet(start: Int, end: Int, tag: String) -> String {
        "{\"features\":[{\"$type\":\"app.bsky.richtext.facet#tag\",\"tag\":\"\(escaped(tag))\"}],\"index\":{\"byteEnd\":\(end),\"byteStart\":\(start)}}"
    }

    /// JSON string contents as Go's encoder writes them (Jetstream is written in Go): `"`, `\`
    /// and control characters escaped, `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026`.
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
