import Foundation
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartTestSupport
import Testing

/// The `atproto` SDK from PyPI (a peer nobody here wrote) builds the records Hashcart must read
/// and checks the record Hashcart writes: proof of wire compatibility beyond our own fixtures.
@Suite("Bluesky wire format against the atproto SDK",
       .enabled(if: AtprotoSDK.available, Comment(rawValue: "python3 with the atproto package is not installed (.ci/run installs it): skipped")))
struct AtprotoPeerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = root.appendingPathComponent("scripts/atproto_peer.py").path
    static let shop = "did:plc:shopbotbbbbbbbbbbbbbbbbb"

    static func canImport(_ module: String) -> Bool { ChildProcess.pythonCanImport(module) }

    @Test("records the SDK builds (tag facets after emoji, tags, reply refs, reposts) are read as the SDK meant them")
    func readsSDKRecords() async throws {
        let run = try await ChildProcess.python([Self.script, "records"])
        try #require(run.status == 0, "\(run)")
        let output = run.stdout
        let filter = JetstreamFilter(officialDID: Self.shop, interest: ConnectorInterest(hashtagKeys: ["buyamextee"]))
        var kept: [String: NetworkEvent] = [:]
        for line in output.split(separator: "\n") {
            let bytes = Array(line.utf8)
            if try filter.scan(bytes).isRelevant, let event = try JetstreamDecoder.decode(bytes) {
                kept[String(event.eventID.split(separator: "/").last!)] = event
            }
        }
        #expect(Set(kept.keys) == ["3msdkfacet22a", "3msdktags222a", "3msdkreply22a", "3msdkrepost2a"])
        #expect(kept["3msdkfacet22a"]?.hashtags == ["BuyAmexTee"])
        #expect(kept["3msdkfacet22a"]?.text == "Ich will es 🔥 #BuyAmexTee jetzt")
        #expect(kept["3msdktags222a"]?.hashtags == ["buyamextee"])
        #expect(kept["3msdkreply22a"]?.kind == .reply)
        #expect(kept["3msdkreply22a"]?.referencedAuthorID == Self.shop)
        #expect(kept["3msdkrepost2a"]?.kind == .repost)
        #expect(kept["3msdkrepost2a"]?.referencedPostID == "at://\(Self.shop)/app.bsky.feed.post/3mconfirm22aa")
    }

    @Test("the createRecord call Hashcart sends passes the SDK's own models")
    func createRecordPassesSDK() async throws {
        let fake = FakeBluesky()
        let server = try await fake.start()
        defer { server.cancel() }
        let connector = try BlueskyConnector(
            configuration: BlueskyConfiguration(jetstreamURL: fake.jetstreamURL, serviceURL: fake.serviceURL, officialDID: FakeBluesky.officialDID,
                                                identifier: FakeBluesky.handle, appPassword: FakeBluesky.appPassword),
            clock: SystemWallClock())
        let post = fake.appendPost(did: "did:plc:aliceaaaaaaaaaaaaaaaaaaa", rkey: "3mparentsdk22", text: "#BuyAmexTee")
        _ = try await connector.reply(to: post.uri, text: "Amex Tee, $27.19 total with tax. Repost this within 15 minutes to buy. Ref K7Q2MX",
                                      idempotencyKey: "confirm:pur_sdk")
        let body = try #require(fake.createBodies.withLock { $0.first })
        let file = NSTemporaryDirectory() + "hashcart-create-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try body.write(to: URL(fileURLWithPath: file))
        let run = try await ChildProcess.python([Self.script, "validate-create", file])
        #expect(run.status == 0, "the atproto SDK refused our createRecord: \(run)")
    }
}

enum AtprotoSDK {
    static let available: Bool = AtprotoPeerTests.canImport("atproto")
}
