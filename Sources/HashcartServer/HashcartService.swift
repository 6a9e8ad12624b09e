/// What the HTTP API asks of Hashcart. The server depends only on this protocol (and the core);
/// the `hashcart` executable hands it an implementation backed by the engine, the store and the
/// sandbox network. Implementations throw ``APIError`` for anything the caller should see.
public protocol HashcartService: Sendable {
    /// Whether `token` is the operator's admin token (compared in constant time).
    func isAdminToken(_ token: String) async -> Bool
    /// Whether the store answers (for `/readyz`).
    func isReady() async -> Bool

    func createMerchant(_ body: CreateMerchantBody) async throws -> MerchantView
    func createCardholder(_ body: CreateCardholderBody) async throws -> CardholderView
    func ledgerCheck() async throws -> LedgerCheckView

    func createSandboxAccount(_ body: CreateSandboxAccountBody) async throws -> SandboxAccountView
    func createSandboxPost(_ body: CreateSandboxPostBody) async throws -> SandboxPostView
    func repost(postID: String, _ body: CreateRepostBody) async throws -> SandboxPostView
    func deleteSandboxPost(postID: String, authorID: String) async throws -> SandboxPostView
    func sandboxPosts(authorID: String?, inReplyTo: String?, afterPostID: String?, limit: Int) async throws -> ListView<SandboxPostView>
}
