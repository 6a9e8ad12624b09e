import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// What networks send back, authenticated by the network rather than a Hashcart credential: X's
/// Account Activity webhooks (its signature; live mode only) and the OAuth sign-in callbacks
/// (the state is the credential, and its prefix names the one mode whose store is asked).
struct NetworkCallbackRoutes<Service: HashcartService> {
    let services: ModeServices<Service>
    let throttle: AuthFailureThrottle

    func add(to router: Router<HashcartRequestContext>) {
        let (services, throttle) = (self.services, self.throttle)
        // Networks' webhooks (X's Account Activity API): authenticated by the network's own
        // signature, not by Hashcart credentials. Real networks run in live mode only.
        @Sendable func liveService() throws -> Service {
            guard let live = services.live else { throw APIError.notFound("webhook: this Hashcart runs no real network (test mode only)") }
            return live
        }
        router.get("webhooks/{network}") { request, context in
            let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
            let reply = try await liveService().networkWebhook(network: try context.parameters.require("network"), method: "GET", query: query,
                                                               signature: nil, body: Data())
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        router.post("webhooks/{network}") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 4 << 20)
            let reply = try await liveService().networkWebhook(network: try context.parameters.require("network"), method: "POST", query: [:],
                                                               signature: request.headers[HTTPField.Name("x-twitter-webhooks-signature")!],
                                                               body: Data(body.readableBytesView))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }

        // OAuth sign-ins coming back from a network: no credential, the state is one, and its
        // prefix names the mode whose store alone is asked. A browser (Accept: text/html) gets a page.
        router.get("oauth/{network}/callback") { request, context in
            let query = request.uri.queryParameters
            let wantsPage = request.headers[.accept]?.contains("text/html") == true
            // The state is the credential here: an address that keeps bringing states Hashcart never
            // made is throttled as failed authentication is.
            try throttle.check(address: context.clientAddress)
            do {
                guard let state = query.get("state"), let mode = OAuthState.mode(of: state), let modeService = services[mode] else {
                    throw APIError(status: .notFound, code: OAuthLinkError.unknownState.code, message: OAuthLinkError.unknownState.description,
                                   param: "state")
                }
                let link = try await modeService.finishOAuthLink(network: try context.parameters.require("network"), state: state,
                                                                 code: query.get("code"), error: query.get("error"),
                                                                 browserNonce: request.cookies[OAuthBrowserCookie.name(mode)]?.value)
                if wantsPage {
                    var page = OAuthCallbackPage.linked(link)
                    page.setCookie(OAuthBrowserCookie.cookie(mode: mode, value: "", maxAge: 0, request: request))
                    return page
                }
                var response = try HashcartRouter.json(link, status: .ok, encoder: mode.isLive ? HashcartRouter.liveEncoder : HashcartRouter.encoder)
                for field in OAuthCallbackPage.headers { response.headers.append(field) }
                return response
            } catch let error as APIError {
                if error.code == OAuthLinkError.unknownState.code { throttle.recordFailure(address: context.clientAddress) }
                if wantsPage { return OAuthCallbackPage.failed(error) }
                var response = try error.response(from: request, context: context)
                for field in OAuthCallbackPage.headers { response.headers.append(field) }
                return response
            }
        }

    }
}
