import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartServer
import HashcartStore

/// The sandbox network over the API (test mode only): accounts, posts, reposts and deletes, each
/// acted as by the rules of who may speak for which account.
extension EngineService {
    /// The sandbox network, or 404 in live mode (which has none; the router never sends it there).
    func sandboxNetwork() throws -> SandboxNetwork {
        guard let sandbox else { throw APIError.notFound("sandbox network (live mode has none)") }
        return sandbox
    }

    public func sandboxAccount(forToken token: String) async -> String? {
        guard token.hasPrefix(Mode.sandboxTokenPrefix), let sandbox else { return nil }
        return try? sandbox.account(tokenHash: Self.hash(token: token))?.id
    }

    public func createSandboxAccount(_ body: CreateSandboxAccountBody, createdBy principal: Principal) async throws -> SandboxAccountView {
        try await mapped {
            let sandbox = try sandboxNetwork()
            switch principal {
            case .operator, .merchant: break
            case .cardholder, .sandboxAccount:
                throw APIError(status: .forbidden, type: .invalidRequest, code: "forbidden",
                               message: "Sandbox accounts are created by the operator or a merchant (test mode).")
            }
            let token = Self.secret(prefix: Mode.sandboxTokenPrefix)
            let account = try sandbox.createAccount(handle: body.handle, tokenHash: Self.hash(token: token), creator: principal.scope)
            return SandboxAccountView(id: account.id, handle: account.handle, token: token)
        }
    }

    /// The sandbox account `principal` acts as for a post, a repost or a delete, as `author_id`
    /// names it: a sandbox token acts as its own account only; the operator as any account but the
    /// official one; a merchant as an account it created. Everything else is refused.
    func sandboxActor(_ principal: Principal, named authorID: String, sandbox: SandboxNetwork) throws -> String {
        let forbidden = { (message: String) in APIError(status: .forbidden, type: .invalidRequest, code: "forbidden", message: message) }
        guard !authorID.isEmpty, authorID.count <= 64 else {
            throw APIError.invalid("`author_id` must be the id of the account to act as (1 to 64 characters).", param: "author_id")
        }
        switch principal {
        case .sandboxAccount(let own):
            guard authorID == own else { throw forbidden("A sandbox token acts only as its own account.") }
            return own
        case .operator, .merchant:
            guard authorID != sandbox.official.id else {
                throw forbidden("The official account posts only through Hashcart.")
            }
            guard try sandbox.account(id: authorID) != nil else { throw SandboxError.unknownAccount(authorID) }
            if case .merchant = principal, try sandbox.creator(ofAccount: authorID) != principal.scope {
                throw forbidden("A merchant acts only as the sandbox accounts it created.")
            }
            return authorID
        case .cardholder:
            throw forbidden("A cardholder token reads the sandbox; posting needs the account's own token.")
        }
    }

    public func createSandboxPost(_ body: CreateSandboxPostBody, by principal: Principal) async throws -> SandboxPostView {
        try await mapped {
            let sandbox = try sandboxNetwork()
            guard body.inReplyTo == nil || body.quoteOf == nil else {
                throw APIError.invalid("A post is a reply or a quote, not both.", param: "quote_of")
            }
            let author = try sandboxActor(principal, named: body.authorId, sandbox: sandbox)
            return Self.view(try sandbox.post(authorID: author, text: body.text, inReplyTo: body.inReplyTo, quoting: body.quoteOf))
        }
    }

    public func repost(postID: String, _ body: CreateRepostBody, by principal: Principal) async throws -> SandboxPostView {
        try await mapped {
            let sandbox = try sandboxNetwork()
            let author = try sandboxActor(principal, named: body.authorId, sandbox: sandbox)
            return Self.view(try sandbox.repost(authorID: author, postID: postID))
        }
    }

    public func deleteSandboxPost(postID: String, authorID: String, by principal: Principal) async throws -> SandboxPostView {
        try await mapped {
            let sandbox = try sandboxNetwork()
            let author = try sandboxActor(principal, named: authorID, sandbox: sandbox)
            try sandbox.delete(authorID: author, postID: postID)
            guard let post = try sandbox.post(id: postID) else { throw APIError.notFound("sandbox post \(postID)") }
            return Self.view(post)
        }
    }

    public func sandboxPosts(authorID: String?, inReplyTo: String?, afterPostID: String?, limit: Int) async throws -> ListView<SandboxPostView> {
        try await mapped {
            let posts = try sandboxNetwork().posts(authorID: authorID, inReplyTo: inReplyTo, afterPostID: afterPostID, limit: limit + 1)
            return ListView(data: posts.prefix(limit).map(Self.view), hasMore: posts.count > limit)
        }
    }

    static func view(_ post: SandboxPost) -> SandboxPostView {
        SandboxPostView(id: post.id, authorId: post.authorID, authorHandle: post.authorHandle, kind: post.kind.rawValue, text: post.text,
                        referencedPostId: post.referencedPostID, deleted: post.deleted, created: post.createdAt.millisecondsSinceEpoch / 1000)
    }
}
