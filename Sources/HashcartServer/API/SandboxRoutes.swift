import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// The sandbox network under `/sandbox` (test mode only): accounts, posts, reposts, deletes, the feed.
struct SandboxRoutes<Service: HashcartService> {
    let services: ModeServices<Service>

    var collection: RouteCollection<SandboxContext> {
        let routes = RouteCollection(context: SandboxContext.self)
        routes.post("accounts") { request, context in
            var request = request
            return try json(try await services.of(context).createSandboxAccount(request.decodeStrict(CreateSandboxAccountBody.self),
                                                                            createdBy: context.principal),
                            status: .created, context)
        }
        routes.post("posts") { request, context in
            var request = request
            return try json(try await services.of(context).createSandboxPost(request.decodeStrict(CreateSandboxPostBody.self), by: context.principal),
                            status: .created, context)
        }
        routes.post("posts/{id}/reposts") { request, context in
            var request = request
            let id = try context.parameters.require("id")
            return try json(try await services.of(context).repost(postID: id, request.decodeStrict(CreateRepostBody.self), by: context.principal),
                            status: .created, context)
        }
        routes.delete("posts/{id}") { request, context in
            let id = try context.parameters.require("id")
            guard let author = request.uri.queryParameters.get("author_id"), !author.isEmpty else {
                throw APIError.invalid("Query parameter `author_id` is required: only the author can delete a post.",
                                       param: "author_id", code: "parameter_missing")
            }
            return try json(try await services.of(context).deleteSandboxPost(postID: id, authorID: author, by: context.principal), context)
        }
        routes.get("posts") { request, context in
            let query = request.uri.queryParameters
            let limit = try pageLimit(query.get("limit"))
            return try json(try await services.of(context).sandboxPosts(authorID: query.get("author_id"), inReplyTo: query.get("in_reply_to"),
                                                                    afterPostID: query.get("since"), limit: limit), context)
        }
        return routes
    }
}
