import Foundation
import HashcartCore
import HashcartSandbox
import HashcartTestSupport
import Testing

/// The sandbox network takes input from people (and, with the Server issue, from HTTP): every
/// malformed request gets a clear error and changes nothing.
@Suite(.onEveryBackend) struct SandboxInputTests {
    @Test func refusesMalformedActionsAndChangesNothing() async throws {
        let world = try await TestWorld()
        let alice = try world.sandbox.createAccount(handle: "alice")
        let post = try world.sandbox.post(authorID: alice.id, text: "hello")
        let before = try world.sandbox.posts(limit: 1000)

        for handle in ["", "has space", "émile", String(repeating: "a", count: 31), "semi;colon", "@"] {
            #expect(throws: SandboxError.invalidHandle(handle)) { try world.sandbox.createAccount(handle: handle) }
        }
        #expect(throws: SandboxError.handleTaken("ALICE")) { try world.sandbox.createAccount(handle: "ALICE") }
        #expect(throws: SandboxError.unknownAccount("u999")) { try world.sandbox.post(authorID: "u999", text: "x") }
        #expect(throws: SandboxError.textTooLong(SandboxNetwork.maximumTextLength)) {
            try world.sandbox.post(authorID: alice.id, text: String(repeating: "x", count: SandboxNetwork.maximumTextLength + 1))
        }
        #expect(throws: SandboxError.unknownPost("p999")) { try world.sandbox.repost(authorID: alice.id, postID: "p999") }
        #expect(throws: SandboxError.unknownPost("p999")) { try world.sandbox.post(authorID: alice.id, text: "re", inReplyTo: "p999") }
        let bob = try world.sandbox.createAccount(handle: "bob")
        #expect(throws: SandboxError.notAuthor(post.id)) { try world.sandbox.delete(authorID: bob.id, postID: post.id) }
        try world.sandbox.delete(authorID: alice.id, postID: post.id)
        #expect(throws: SandboxError.postDeleted(post.id)) { try world.sandbox.repost(authorID: bob.id, postID: post.id) }

        let after = try world.sandbox.posts(limit: 1000)
        #expect(after.count == before.count)
        #expect(after.first?.deleted == true)
    }

    @Test func connectorRefusesAGarbageCursor() async throws {
        let world = try await TestWorld()
        let connector = SandboxConnector(sandbox: world.sandbox)
        for cursor in ["abc", "-1", "", "9999999999999999999999"] {
            await #expect(throws: ConnectorError.self) { try await connector.events(after: cursor, limit: 10) }
        }
        let page = try await connector.events(after: "0", limit: 10)
        #expect(page.nextCursor == "0")
    }

    @Test func officialRepliesAreIdempotentByKey() async throws {
        let world = try await TestWorld()
        let alice = try world.sandbox.createAccount(handle: "alice")
        let post = try world.sandbox.post(authorID: alice.id, text: "#BuyThing")
        let connector = SandboxConnector(sandbox: world.sandbox)
        let first = try await connector.reply(to: post.id, text: "one", idempotencyKey: "k1")
        let again = try await connector.reply(to: post.id, text: "one", idempotencyKey: "k1")
        #expect(first == again)
        #expect(try world.sandbox.posts(authorID: world.sandbox.official.id).count == 1)
        await #expect(throws: ConnectorError.self) { try await connector.reply(to: "p404", text: "x", idempotencyKey: "k2") }
    }
}
