import Crypto
import Foundation
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartServer
import HashcartStore

/// The HTTP API's ``HashcartService``, backed by the engine, the SQLite store and the sandbox.
/// It turns every domain error into the API's error shape.
public struct EngineService: HashcartService {
    let engine: Engine
    let store: SQLiteStore
    let sandbox: SandboxNetwork
    /// SHA-256 of the admin token: the token itself is never kept.
    let adminTokenHash: [UInt8]

    public init(engine: Engine, store: SQLiteStore, sandbox: SandboxNetwork, adminTokenHash: [UInt8]) {
        self.engine = engine
        self.store = store
        self.sandbox = sandbox
        self.adminTokenHash = adminTokenHash
    }

    /// SHA-256 of a token, as ``EngineService`` keeps it.
    public static func hash(token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    public func isAdminToken(_ token: String) async -> Bool {
        let presented = Array(SHA256.hash(data: Data(token.utf8)))
        // Constant time: every byte is compared whatever the first difference.
        return presented.count == adminTokenHash.count && zip(presented, adminTokenHash).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    public func isReady() async -> Bool {
        (try? store.read { try $0.count("merchants") }) != nil
    }

    public func createMerchant(_ body: CreateMerchantBody) async throws -> MerchantView {
        try mapped {
            let merchant = try engine.createMerchant(name: body.name, discountRateBasisPoints: body.discountRateBps ?? 250)
            return MerchantView(id: merchant.id.rawValue, name: merchant.name, discountRateBps: merchant.discountRateBasisPoints,
                                created: merchant.createdAt.millisecondsSinceEpoch / 1000)
        }
    }

    public func createCardholder(_ body: CreateCardholderBody) async throws -> CardholderView {
        try mapped {
            guard body.currency == nil || body.currency?.uppercased() == Currency.usd.rawValue else {
                throw APIError.invalid("Only USD credit lines are supported.", param: "currency")
            }
            guard let state = USState(code: body.address.state) else {
                throw APIError.invalid("`address.state` must be a two-letter US state code (50 states and DC).", param: "address.state")
            }
            let address = BillingAddress(name: body.billingName, line1: body.address.line1, line2: body.address.line2,
                                         city: body.address.city, state: state, postalCode: body.address.postalCode)
            let card = try engine.createCardAccount(creditLimit: .usd(body.creditLimit), billing: address, cardLast4: body.cardLast4)
            return CardholderView(id: card.id.rawValue, creditLimit: card.creditLimit.minorUnits, currency: card.creditLimit.currency.rawValue,
                                  billingState: card.billing.state.rawValue, created: card.createdAt.millisecondsSinceEpoch / 1000)
        }
    }

    public func ledgerCheck() async throws -> LedgerCheckView {
        try mapped {
            LedgerCheckView(violations: try store.read { try $0.audit() }.map {
                ViolationView(rule: $0.rule, subject: $0.subject, detail: $0.detail)
            })
        }
    }

    public func createSandboxAccount(_ body: CreateSandboxAccountBody) async throws -> SandboxAccountView {
        try mapped {
            let account = try sandbox.createAccount(handle: body.handle)
            return SandboxAccountView(id: account.id, handle: account.handle)
        }
    }

    public func createSandboxPost(_ body: CreateSandboxPostBody) async throws -> SandboxPostView {
        try mapped {
            guard body.inReplyTo == nil || body.quoteOf == nil else {
                throw APIError.invalid("A post is a reply or a quote, not both.", param: "quote_of")
            }
            return Self.view(try sandbox.post(authorID: body.authorId, text: body.text, inReplyTo: body.inReplyTo, quoting: body.quoteOf))
        }
    }

    public func repost(postID: String, _ body: CreateRepostBody) async throws -> SandboxPostView {
        try mapped { Self.view(try sandbox.repost(authorID: body.authorId, postID: postID)) }
    }

    public func deleteSandboxPost(postID: String, authorID: String) async throws -> SandboxPostView {
        try mapped {
            try sandbox.delete(authorID: authorID, postID: postID)
            guard let post = try sandbox.post(id: postID) else { throw APIError.notFound("sandbox post \(postID)") }
            return Self.view(post)
        }
    }

    public func sandboxPosts(authorID: String?, inReplyTo: String?, afterPostID: String?, limit: Int) async throws -> ListView<SandboxPostView> {
        try mapped {
            let posts = try sandbox.posts(authorID: authorID, inReplyTo: inReplyTo, afterPostID: afterPostID, limit: limit + 1)
            return ListView(data: posts.prefix(limit).map(Self.view), hasMore: posts.count > limit)
        }
    }

    static func view(_ post: SandboxPost) -> SandboxPostView {
        SandboxPostView(id: post.id, authorId: post.authorID, authorHandle: post.authorHandle, kind: post.kind.rawValue, text: post.text,
                        referencedPostId: post.referencedPostID, deleted: post.deleted, created: post.createdAt.millisecondsSinceEpoch / 1000)
    }

    /// Runs `body`, turning domain errors into ``APIError``s a caller can act on.
    func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as APIError {
            throw error
        } catch let error as EngineError {
            switch error {
            case .invalid(let validation): throw APIError.invalid(validation.message, param: validation.field)
            case .notFound(let what): throw APIError.notFound(what)
            case .conflict(let detail): throw APIError.conflict(detail)
            case .refused(let detail): throw APIError.refused(detail)
            }
        } catch let error as ValidationError {
            throw APIError.invalid(error.message, param: error.field)
        } catch let error as StoreError {
            switch error {
            case .conflict(let detail): throw APIError.conflict(detail)
            case .notFound(let detail): throw APIError(status: .notFound, code: "resource_missing", message: detail)
            default: throw error
            }
        } catch let error as SandboxError {
            switch error {
            case .unknownAccount, .unknownPost: throw APIError(status: .notFound, code: "resource_missing", message: error.description)
            case .handleTaken: throw APIError.conflict(error.description)
            case .notAuthor: throw APIError(status: .forbidden, code: "not_author", message: error.description)
            case .postDeleted: throw APIError.refused(error.description)
            case .invalidHandle: throw APIError.invalid(error.description, param: "handle")
            case .textTooLong: throw APIError.invalid(error.description, param: "text")
            }
        }
    }
}
