/// The sandbox network (test mode): accounts, posts, reposts, deletes, and reading posts.
public protocol SandboxService: Sendable {
    /// The sandbox account a sandbox token (`hc_sbx_…`) acts as, or nil (test mode only).
    func sandboxAccount(forToken token: String) async -> String?
    /// A sandbox account and its token, shown once. Only the operator or a merchant may create
    /// one; it remembers who did.
    func createSandboxAccount(_ body: CreateSandboxAccountBody, createdBy principal: Principal) async throws -> SandboxAccountView
    /// A post as the account `author_id` names: a sandbox token names its own account; the
    /// operator any account but the official one; a merchant an account it created.
    func createSandboxPost(_ body: CreateSandboxPostBody, by principal: Principal) async throws -> SandboxPostView
    func repost(postID: String, _ body: CreateRepostBody, by principal: Principal) async throws -> SandboxPostView
    /// Deletes a post; only its author (acted as by the same rules as posting) can.
    func deleteSandboxPost(postID: String, authorID: String, by principal: Principal) async throws -> SandboxPostView
    func sandboxPosts(authorID: String?, inReplyTo: String?, afterPostID: String?, limit: Int) async throws -> ListView<SandboxPostView>
}
