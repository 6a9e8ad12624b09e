import HashcartConnectors
import HashcartCore
import Testing

@Suite("Hashtag matching at the edge")
struct HashtagMatcherTests {
    func matches(_ text: String, _ tags: [String]) -> Bool {
        let matcher = HashtagMatcher(hashtags: tags)
        return Array(text.utf8).withUnsafeBufferPointer { matcher.matches(text: $0) }
    }

    func tagMatches(_ tag: String, _ tags: [String]) -> Bool {
        let matcher = HashtagMatcher(hashtags: tags)
        return Array(tag.utf8).withUnsafeBufferPointer { matcher.matches(tag: $0) }
    }

    @Test("text: case, whole tags, Unicode, punctuation and prefixes", arguments: [
        ("I want it #BuyKindle", true),
        ("#buykindle", true),
        ("#BUYKINDLE now", true),
        ("want it!#BuyKindle", true),
        ("(#BuyKindle)", true),
        ("#BuyKindle, please", true),
        ("#BuyKindle's the one", true),
        ("line\n#BuyKindle", true),
        ("emoji 🔥#BuyKindle", true),
        ("full-width ＃ＢｕｙＫｉｎｄｌｅ", true),
        ("full-width letters #ＢｕｙＫｉｎｄｌｅ", true),
        ("#BuyKindleFire", false),
        ("#BuyKindle_2", false),
        ("#BuyKindlé", false),
        ("#Buy Kindle", false),
        ("BuyKindle without a hash", false),
        ("a#BuyKindle", false),
        ("&#BuyKindle", false),
        ("https://example.com/#BuyKindle", false),
        ("page?x=#BuyKindle", false),
        ("é#BuyKindle", false),
        ("#BuyKindlе (Cyrillic е)", false),
        ("#", false),
        ("##BuyKindle", true),  // as Hashtag.extract reads it: the second # starts a tag
        ("", false),
    ])
    func text(_ text: String, _ expected: Bool) {
        #expect(matches(text, ["BuyKindle"]) == expected, "\(text)")
    }

    @Test("non-Latin and accented offer tags match by NFKC and case fold")
    func unicodeTags() {
        #expect(matches("je veux #CAFÉ", ["Café"]))
        #expect(matches("je veux #cafe\u{301}", ["Café"]))  // e + combining acute = é
        #expect(!matches("je veux #cafe", ["Café"]))
        #expect(matches("欲しい #買う", ["買う"]))
        #expect(matches("Straße #STRASSE", ["straße"]))
        #expect(!matches("#買うよ", ["買う"]))
    }

    @Test("facet tags match whole, in any case; an empty matcher matches nothing")
    func facetTags() {
        #expect(tagMatches("buykindle", ["#BuyKindle"]))
        #expect(tagMatches("ＢｕｙＫｉｎｄｌｅ", ["BuyKindle"]))
        #expect(!tagMatches("BuyKindleFire", ["BuyKindle"]))
        #expect(!tagMatches("BuyKindle", []))
        #expect(!tagMatches("", ["BuyKindle"]))
    }

    /// The fast byte scan must agree with the core's reference extraction on every text.
    @Test("agrees with Hashtag.extract on 20,000 random texts")
    func agreesWithCore() {
        var random = SplitMix64(seed: 42)
        let alphabet: [String] = ["#", "＃", "a", "B", "k", "_", "1", " ", "é", "e\u{301}", "&", "/", ".", "Ｂ", "ｕ", "🔥", "\n", "買", "е", "!"]
        let offers = ["ab", "Bk", "買", "é_1", "ｂｕ"]
        for _ in 0..<20_000 {
            let length = Int(random.next() % 14)
            var text = ""
            for _ in 0..<length { text += alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let keys = Set(offers.map { try! Hashtag($0).key })
            let expected = Hashtag.extract(from: text, limit: 1_000).contains { keys.contains($0.key) }
            #expect(matches(text, offers) == expected, "\(text.debugDescription)")
        }
    }
}
