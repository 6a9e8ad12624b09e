import Testing
import HashcartCore

private let t0 = Instant(secondsSinceEpoch: 1_750_000_000)
private let alice = SocialIdentity(network: .sandbox, userID: "u_alice", handle: "@alice")

// MARK: - Confirmation rule

/// @alice's purchase, waiting for her to repost confirmation post `reply_1` before t0 + 900 s.
private func awaitingPurchase(state: PurchaseState = .awaitingConfirmation) -> Purchase {
    let id = Purchase.id(network: .sandbox, postID: "42")
    var purchase = Purchase(
        id: id, offerID: "off_kindle", merchantID: "mer_books", cardAccountID: "acct_alice", identity: alice,
        purchasePostID: "42", reference: "K7Q2MX", state: state, unitPrice: .usd(14_999), tax: .usd(600),
        total: .usd(15_599), fee: .usd(450), taxRatePartsPerMillion: 40_000, taxTableVersion: "2025-01-01",
        billingState: .NY, confirmationWindowSeconds: 900, requestedAt: t0, expiresAt: t0.adding(seconds: 900))
    purchase.confirmationPostID = "reply_1"
    return purchase
}

private func event(_ kind: NetworkEventKind, by author: SocialIdentity = alice, text: String = "",
                   at time: Instant = t0.adding(seconds: 60)) -> NetworkEvent {
    NetworkEvent(network: author.network, eventID: "ev_\(time.millisecondsSinceEpoch)", kind: kind, author: author,
                 text: text, referencedPostID: "reply_1", referencedAuthorID: "u_hashcart", createdAt: time)
}

@Suite struct ConfirmationRuleTests {
    @Test func buyerRepostingInsideTheWindowConfirms() {
        let purchase = awaitingPurchase()
        #expect(ConfirmationRule.evaluate(event(.repost), for: purchase) == .confirms)
        #expect(ConfirmationRule.evaluate(event(.repost, at: t0.adding(seconds: 900)), for: purchase) == .confirms)
        // A new handle is still the same account: the network's stable id decides.
        let renamed = SocialIdentity(network: .sandbox, userID: "u_alice", handle: "@alice_new")
        #expect(ConfirmationRule.evaluate(event(.repost, by: renamed), for: purchase) == .confirms)
    }

    @Test func repostAfterTheWindowIsLate() {
        let purchase = awaitingPurchase()
        let late = event(.repost, at: t0.adding(seconds: 900).adding(milliseconds: 1))
        #expect(ConfirmationRule.evaluate(late, for: purchase) == .late)
        #expect(ConfirmationRule.evaluate(event(.repost), for: awaitingPurchase(state: .expired)) == .late)
    }

    @Test func someoneElsesRepostNeverConfirms() {
        let purchase = awaitingPurchase()
        let bob = SocialIdentity(network: .sandbox, userID: "u_bob", handle: "@bob")
        #expect(ConfirmationRule.evaluate(event(.repost, by: bob), for: purchase) == .foreignIdentity)
        // Someone who took over the handle @alice is not Alice.
        let impostor = SocialIdentity(network: .sandbox, userID: "u_mallory", handle: "@alice")
        #expect(ConfirmationRule.evaluate(event(.repost, by: impostor), for: purchase) == .foreignIdentity)
        // The same user id on another network is another person.
        let elsewhere = SocialIdentity(network: .mastodon, userID: "u_alice", handle: "@alice")
        #expect(ConfirmationRule.evaluate(event(.repost, by: elsewhere), for: purchase) == .foreignIdentity)
        // Carrying the reference does not help a stranger.
        #expect(ConfirmationRule.evaluate(event(.reply, by: bob, text: "K7Q2MX"), for: purchase) == .foreignIdentity)
    }

    @Test(arguments: [PurchaseState.confirmed, .authorized, .captured, .declined, .cancelled])
    func purchaseNoLongerWaitingIsNotConfirmedAgain(state: PurchaseState) {
        #expect(ConfirmationRule.evaluate(event(.repost), for: awaitingPurchase(state: state)) == .notAwaiting)
    }

    @Test(arguments: ["K7Q2MX", "k7q2mx", "yes K7Q2MX please", "@HashcartOffers k7Q2mX!", "ref:K7Q2MX.", "(K7Q2MX)", "#K7Q2MX", "K7Q2MX\nthanks"])
    func replyCarryingTheReferenceConfirms(text: String) {
        #expect(ConfirmationRule.evaluate(event(.reply, text: text), for: awaitingPurchase()) == .confirms)
    }

    @Test(arguments: ["", "yes please", "K7Q2M", "K7Q2MXX", "AK7Q2MX", "refK7Q2MX", "K7Q2MX2", "K7Q2_MX"])
    func replyWithoutTheReferenceAsAWholeWordDoesNotConfirm(text: String) {
        #expect(ConfirmationRule.evaluate(event(.reply, text: text), for: awaitingPurchase()) == .missingReference)
    }

    @Test func lateReplyWithTheReferenceIsLate() {
        let late = event(.reply, text: "K7Q2MX", at: t0.adding(seconds: 901))
        #expect(ConfirmationRule.evaluate(late, for: awaitingPurchase()) == .late)
    }
}

// MARK: - Order reference

@Suite struct OrderReferenceTests {
    static let crockford = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    static let ids = (0..<2_000).map { PurchaseID("pur_sandbox_\($0)") }

    @Test func referenceIsSixCrockfordCharacters() {
        for id in Self.ids {
            let reference = OrderReference.make(for: id)
            #expect(reference.count == OrderReference.length && OrderReference.length == 6)
            #expect(reference.allSatisfy(Self.crockford.contains), "\(reference) for \(id)")
            #expect(!reference.contains(where: "ILOU".contains), "no letters that read as digits")
        }
    }

    @Test func referenceIsDerivedFromThePurchaseOnly() {
        let id: PurchaseID = "pur_sandbox_42"
        #expect(OrderReference.make(for: id) == OrderReference.make(for: id, attempt: 0))
        #expect(OrderReference.make(for: id) == OrderReference.make(for: PurchaseID("pur_sandbox_" + "42")))
        // Stable across processes and releases (FNV-1a 64, computed independently): a redelivered
        // post after a restart must get the same reference.
        #expect(OrderReference.make(for: id) == "HNEVG7")
        #expect(OrderReference.make(for: id, attempt: 1) == "Y7EVG7")
        #expect(OrderReference.make(for: "pur_x_1789") == "9FGJDE")
    }

    @Test func nextAttemptGivesAnotherReference() {
        for id in Self.ids {
            #expect(OrderReference.make(for: id, attempt: 1) != OrderReference.make(for: id, attempt: 0), "\(id)")
        }
    }

    @Test func differentPurchasesRarelyShareAReference() {
        #expect(Set(Self.ids.map { OrderReference.make(for: $0) }).count == Self.ids.count)
    }
}

// MARK: - Offer

private func makeOffer(lifecycle: OfferLifecycle = .published, quantity: Int64? = 100, sold: Int64 = 0) throws -> Offer {
    try Offer(id: "off_kindle", merchantID: "mer_books", title: "Kindle Fire HD", sku: "KFHD-7", price: .usd(14_999),
              quantity: quantity, startsAt: t0, endsAt: t0.adding(seconds: 86_400), hashtag: Hashtag("BuyKindleFireHD"),
              lifecycle: lifecycle, soldUnits: sold, createdAt: t0.adding(seconds: -3600))
}

@Suite struct OfferStateTests {
    private let before = t0.adding(milliseconds: -1)
    private let during = t0.adding(seconds: 3600)
    private let end = t0.adding(seconds: 86_400)

    @Test func publishedOfferFollowsItsWindow() throws {
        let offer = try makeOffer()
        #expect(offer.state(at: before) == .scheduled)
        #expect(offer.state(at: t0) == .live, "live from its start")
        #expect(offer.state(at: during) == .live)
        #expect(offer.state(at: end.adding(milliseconds: -1)) == .live)
        #expect(offer.state(at: end) == .ended, "ended at its end")
    }

    @Test func draftStaysDraftWhateverTheTime() throws {
        let offer = try makeOffer(lifecycle: .draft)
        for time in [before, during, end] { #expect(offer.state(at: time) == .draft) }
    }

    @Test func pausedOfferIsPausedUntilItsEnd() throws {
        let offer = try makeOffer(lifecycle: .paused)
        #expect(offer.state(at: during) == .paused)
        #expect(offer.state(at: end) == .ended)
    }

    @Test func endedByTheMerchantIsEndedAtOnce() throws {
        let offer = try makeOffer(lifecycle: .ended)
        for time in [before, during] { #expect(offer.state(at: time) == .ended) }
    }

    @Test func soldOutWhenEveryUnitIsSold() throws {
        #expect(try makeOffer(quantity: 100, sold: 99).state(at: during) == .live)
        #expect(try makeOffer(quantity: 100, sold: 100).state(at: during) == .soldOut)
        #expect(try makeOffer(quantity: 100, sold: 100).state(at: end) == .ended, "the end outranks sold out")
        #expect(try makeOffer(quantity: nil, sold: 1_000_000).state(at: during) == .live, "unlimited never sells out")
    }

    @Test func availableUnitsSubtractSoldAndReserved() throws {
        var offer = try makeOffer(quantity: 100, sold: 60)
        offer.reservedUnits = 15
        #expect(offer.availableUnits == 25)
        #expect(try makeOffer(quantity: nil).availableUnits == nil)
    }
}

/// One field a merchant could get wrong, and the field the refusal must name.
struct BadOfferField: Sendable, CustomTestStringConvertible {
    var label: String
    var field: String
    var change: @Sendable (inout Offer) -> Void
    var testDescription: String { label }
}

@Suite struct OfferValidationTests {
    @Test func wellFormedOfferPassesIncludingBoundaryValues() throws {
        let offer = try makeOffer()
        #expect(try offer.validated() == offer)
        var edges = offer
        edges.title = String(repeating: "T", count: 200)
        edges.sku = String(repeating: "S", count: 64)
        edges.price = Offer.maximumPrice
        edges.quantity = Offer.maximumQuantity
        edges.perCardholderLimit = 100
        edges.confirmationWindowSeconds = 60
        edges.eligibleStates = [.DC]
        #expect(throws: Never.self) { try edges.validated() }
        edges.quantity = nil
        edges.perCardholderLimit = 1
        edges.confirmationWindowSeconds = 86_400
        edges.price = .usd(1)
        #expect(throws: Never.self) { try edges.validated() }
    }

    static let badFields: [BadOfferField] = [
        .init(label: "empty title", field: "title") { $0.title = "" },
        .init(label: "title over 200", field: "title") { $0.title = String(repeating: "T", count: 201) },
        .init(label: "title with a newline", field: "title") { $0.title = "Kindle\nFire" },
        .init(label: "empty sku", field: "sku") { $0.sku = "" },
        .init(label: "sku over 64", field: "sku") { $0.sku = String(repeating: "S", count: 65) },
        .init(label: "sku with NUL", field: "sku") { $0.sku = "KF\u{0}HD" },
        .init(label: "zero price", field: "price") { $0.price = .zero },
        .init(label: "negative price", field: "price") { $0.price = .usd(-1) },
        .init(label: "price over maximum", field: "price") { $0.price = .usd(Offer.maximumPrice.minorUnits + 1) },
        .init(label: "zero quantity", field: "quantity") { $0.quantity = 0 },
        .init(label: "negative quantity", field: "quantity") { $0.quantity = -5 },
        .init(label: "quantity over maximum", field: "quantity") { $0.quantity = Offer.maximumQuantity + 1 },
        .init(label: "zero per-cardholder limit", field: "per_cardholder_limit") { $0.perCardholderLimit = 0 },
        .init(label: "per-cardholder limit over 100", field: "per_cardholder_limit") { $0.perCardholderLimit = 101 },
        .init(label: "ends when it starts", field: "ends_at") { $0.endsAt = $0.startsAt },
        .init(label: "ends before it starts", field: "ends_at") { $0.endsAt = $0.startsAt.adding(seconds: -1) },
        .init(label: "no eligible state", field: "eligible_states") { $0.eligibleStates = [] },
        .init(label: "window under 60 s", field: "confirmation_window_seconds") { $0.confirmationWindowSeconds = 59 },
        .init(label: "window over a day", field: "confirmation_window_seconds") { $0.confirmationWindowSeconds = 86_401 },
        .init(label: "negative reserved units", field: "quantity") { $0.reservedUnits = -1 },
        .init(label: "negative sold units", field: "quantity") { $0.soldUnits = -1 },
    ]

    @Test(arguments: badFields)
    func badFieldIsRefusedByName(_ bad: BadOfferField) throws {
        var offer = try makeOffer()
        bad.change(&offer)
        let error = #expect(throws: ValidationError.self) { try offer.validated() }
        #expect(error?.field == bad.field)
    }
}

// MARK: - Network events

private func post(eventID: String = "1790000000000000001", text: String = "#BuyKindleFireHD", hashtags: [String] = []) -> NetworkEvent {
    NetworkEvent(network: .x, eventID: eventID, kind: .post, author: SocialIdentity(network: .x, userID: "2244994945", handle: "@alice"),
                 text: text, hashtags: hashtags, createdAt: t0)
}

/// One thing a connector could get wrong, and the field the refusal must name.
struct BadNetworkEvent: Sendable, CustomTestStringConvertible {
    var label: String
    var field: String
    var change: @Sendable (inout NetworkEvent) -> Void
    var testDescription: String { label }
}

@Suite struct NetworkEventValidationTests {
    @Test func wellFormedEventsPass() throws {
        #expect(try post().validated() == post())
        var edges = post(eventID: String(repeating: "9", count: NetworkEvent.maximumIDLength),
                         text: String(repeating: "é", count: NetworkEvent.maximumTextLength),
                         hashtags: Array(repeating: "Tag", count: NetworkEvent.maximumHashtags))
        edges.author.handle = ""
        #expect(throws: Never.self) { try edges.validated() }
        for kind in [NetworkEventKind.reply, .repost, .quote, .delete] {
            var referencing = post()
            referencing.kind = kind
            referencing.referencedPostID = "1790000000000000000"
            #expect(throws: Never.self) { try referencing.validated() }
        }
    }

    static let badEvents: [BadNetworkEvent] = [
        .init(label: "empty event id", field: "event_id") { $0.eventID = "" },
        .init(label: "event id with a space", field: "event_id") { $0.eventID = "179 000" },
        .init(label: "event id with a tab", field: "event_id") { $0.eventID = "179\t000" },
        .init(label: "event id with a newline", field: "event_id") { $0.eventID = "179\n000" },
        .init(label: "event id with NUL", field: "event_id") { $0.eventID = "179\u{0}" },
        .init(label: "event id over 512 bytes", field: "event_id") { $0.eventID = String(repeating: "9", count: 513) },
        .init(label: "event id over 512 bytes in UTF-8", field: "event_id") { $0.eventID = String(repeating: "é", count: 257) },
        .init(label: "empty network", field: "network") { $0.network = "" },
        .init(label: "network with a space", field: "network") { $0.network = "my net" },
        .init(label: "empty author id", field: "author.user_id") { $0.author.userID = "" },
        .init(label: "author id with DEL", field: "author.user_id") { $0.author.userID = "22\u{7F}" },
        .init(label: "handle with a newline", field: "author.handle") { $0.author.handle = "@alice\n@bob" },
        .init(label: "handle over 256", field: "author.handle") { $0.author.handle = String(repeating: "a", count: 257) },
        .init(label: "text over 5000 characters", field: "text") {
            $0.text = String(repeating: "a", count: NetworkEvent.maximumTextLength + 1)
        },
        .init(label: "text of huge grapheme clusters", field: "text") {
            $0.text = String(repeating: "👨‍👩‍👧‍👦", count: 1_000)  // 1,000 characters, 25,000 bytes
        },
        .init(label: "51 hashtags", field: "hashtags") { $0.hashtags = Array(repeating: "Tag", count: 51) },
        .init(label: "repost without a referenced post", field: "referenced_post_id") { $0.kind = .repost },
        .init(label: "reply without a referenced post", field: "referenced_post_id") { $0.kind = .reply },
        .init(label: "quote without a referenced post", field: "referenced_post_id") { $0.kind = .quote },
        .init(label: "delete without a referenced post", field: "referenced_post_id") { $0.kind = .delete },
        .init(label: "repost of an empty post id", field: "referenced_post_id") {
            $0.kind = .repost
            $0.referencedPostID = ""
        },
        .init(label: "repost of a post id with a space", field: "referenced_post_id") {
            $0.kind = .repost
            $0.referencedPostID = "1 2"
        },
        .init(label: "empty referenced author", field: "referenced_author_id") { $0.referencedAuthorID = "" },
    ]

    @Test(arguments: badEvents)
    func badEventIsRefusedByName(_ bad: BadNetworkEvent) {
        var event = post()
        bad.change(&event)
        let error = #expect(throws: ValidationError.self) { try event.validated() }
        #expect(error?.field == bad.field)
    }

    /// BUG (NetworkEvent.validated): ids are checked for control characters and the ASCII space
    /// only, so ids holding a no-break space, a line or paragraph separator, or an ideographic space
    /// pass, although the refusal message promises "without spaces or control characters".
    @Test(arguments: ["179\u{00A0}000", "179\u{2028}000", "179\u{2029}000", "179\u{3000}000"])
    func eventIDWithAUnicodeSpaceIsRefused(eventID: String) {
        let error = #expect(throws: ValidationError.self) { try post(eventID: eventID).validated() }
        #expect(error?.field == "event_id")
    }
}

@Suite struct NormalizedHashtagTests {
    @Test func networkTagsAndTextTagsMergeWithoutDuplicates() {
        let event = post(text: "Want it! #buykindlefirehd #Deal and #DEAL again", hashtags: ["BuyKindleFireHD"])
        #expect(event.normalizedHashtags.map(\.display) == ["BuyKindleFireHD", "Deal"])
        #expect(event.normalizedHashtags.map(\.key) == ["buykindlefirehd", "deal"])
    }

    @Test func fullWidthSpellingIsTheSameTag() {
        let event = post(text: "#ＢｕｙＫｉｎｄｌｅＦｉｒｅＨＤ", hashtags: ["BuyKindleFireHD", "#buyKINDLEfirehd"])
        #expect(event.normalizedHashtags.map(\.key) == ["buykindlefirehd"])
    }

    @Test func textTagsComeWhenTheNetworkMarksNone() {
        let event = post(text: "#BuyKindleFireHD now, not a#tag or https://x.com/#frag", hashtags: [])
        #expect(event.normalizedHashtags.map(\.display) == ["BuyKindleFireHD"])
    }

    @Test func malformedNetworkTagsAreSkipped() {
        let event = post(text: "", hashtags: ["", "#", "2024", "has space", "Real"])
        #expect(event.normalizedHashtags.map(\.display) == ["Real"])
    }

    @Test func lookAlikeLettersAreAnotherTag() {
        // Cyrillic "е" (U+0435) in place of the Latin "e" of "Fire".
        let event = post(text: "#BuyKindleFireHD #BuyKindleFir\u{0435}HD", hashtags: ["BuyKindleFireHD"])
        #expect(event.normalizedHashtags.map(\.key) == ["buykindlefirehd", "buykindlefir\u{0435}hd"])
    }
}
