import Foundation
import HashcartCore

/// What the fuzz targets (Fuzz/, `scripts/fuzz.sh`) and their regression tests feed arbitrary
/// bytes into: every parser of a network's payloads, exactly as the connectors call them. Any
/// input may be refused (a thrown ``WireFormatError``); none may crash, hang or be accepted
/// while breaking the event's own rules.
public enum FuzzHarness {
    public static let targets = ["bluesky", "mastodon", "x"]

    /// Runs the named target on `bytes`.
    public static func run(_ target: String, _ bytes: UnsafeBufferPointer<UInt8>) {
        switch target {
        case "bluesky": bluesky(bytes)
        case "mastodon": mastodon(bytes)
        case "x": x(bytes)
        default: preconditionFailure("no fuzz target \(target)")
        }
    }

    /// Jetstream: the edge filter (with a live tag and watched authors) and the strict decoder.
    public static func bluesky(_ bytes: UnsafeBufferPointer<UInt8>) {
        let filter = JetstreamFilter(officialDID: "did:plc:shopbotbbbbbbbbbbbbbbbbb",
                                     interest: ConnectorInterest(hashtagKeys: ["buyamextee", "買う"], watchedAuthorIDs: ["did:plc:alice"]))
        _ = try? filter.scan(bytes)
        if let event = try? JetstreamDecoder.decode(Array(bytes)) { check(event) }
        _ = HashtagMatcher(hashtags: ["BuyAmexTee", "Café"]).matches(text: bytes)
    }

    /// Mastodon: statuses, notifications, the SSE framing and HTML content.
    public static func mastodon(_ bytes: UnsafeBufferPointer<UInt8>) {
        let decoder = MastodonDecoder(officialAccountURI: "https://m.example/users/shop", officialLocalID: "100")
        let text = String(decoding: bytes, as: UTF8.self)
        if let event = try? decoder.status(text) { check(event) }
        if let event = (try? decoder.notification(text)) ?? nil { check(event) }
        var parser = ServerSentEventParser(maximumEventBytes: 4_096)
        for event in parser.feed(bytes) { _ = try? decoder.status(event.data) }
        _ = MastodonHTML.text(text)
    }

    /// X: filtered-stream lines and Account Activity bodies.
    public static func x(_ bytes: UnsafeBufferPointer<UInt8>) {
        let decoder = XDecoder(officialUserID: "999")
        if case .event(let event)? = try? decoder.streamLine(Array(bytes)) { check(event) }
        for event in (try? decoder.activity(Array(bytes), receivedAt: Instant(millisecondsSinceEpoch: 0))) ?? [] { check(event) }
        _ = Timestamp.parse(String(decoding: bytes.prefix(64), as: UTF8.self))
    }

    /// An event a parser accepted must pass the engine's own validation.
    static func check(_ event: NetworkEvent) {
        precondition((try? event.validated()) != nil, "a parser accepted an event the engine refuses: \(event)")
    }
}
