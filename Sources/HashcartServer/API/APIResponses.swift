import Foundation
import HTTPTypes
import Hummingbird

// The answers every route collection gives, in the API's shapes (see ``HashcartRouter``).

/// A JSON response of an authenticated request: its objects say the request's mode.
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, _ context: some ModeRequestContext) throws -> Response {
    try HashcartRouter.json(value, status: status, context)
}

/// A JSON response outside any mode (`/healthz`, `/readyz`).
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    try HashcartRouter.json(value, status: status)
}

/// A text response (YAML, CSV, Prometheus).
func text(_ body: String, contentType: String) -> Response {
    HashcartRouter.text(body, contentType: contentType)
}

/// `limit` must be 1…100 (default 20).
func pageLimit(_ text: String?) throws -> Int {
    try HashcartRouter.pageLimit(text)
}
