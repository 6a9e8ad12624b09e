import Foundation
import HashcartApp
import HashcartServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import Yams

/// The API's contract: `openapi.yaml`, the route table behind 405 and the router agree.
@Suite struct ContractTests {
    /// `paths:` of the OpenAPI document: each path and its methods.
    static func documentedRoutes() -> [String: Set<String>] {
        var routes: [String: Set<String>] = [:]
        var current: String?
        var inPaths = false
        for line in HashcartRouter.openAPIDocument.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if !line.hasPrefix(" "), !line.isEmpty { break }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                current = String(line.dropFirst(2).dropLast())
                routes[current!] = []
            } else if let path = current, line.hasPrefix("    "), !line.hasPrefix("     "),
                let method = ["get", "post", "put", "patch", "delete"].first(where: { line == "    \($0):" })
            {
                routes[path]!.insert(method.uppercased())
            }
        }
        return routes
    }

    /// The document is YAML a client can load (a colon and a space in a plain scalar is not),
    /// and its paths are the ones the line scan below reads.
    @Test func theDocumentIsValidYAMLWithEveryPath() throws {
        let document = try #require(try Yams.load(yaml: HashcartRouter.openAPIDocument) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        #expect(Set(paths.keys) == Set(Self.documentedRoutes().keys))
    }

    @Test func theDocumentDeclaresExactlyTheRoutesTheServerAnswers() {
        let documented = Self.documentedRoutes()
        let table = Dictionary(uniqueKeysWithValues: APIRoutes.table.map { ($0.path, Set($0.methods.map(\.rawValue))) })
        #expect(!documented.isEmpty)
        #expect(documented == table, "openapi.yaml and APIRoutes.table differ")
    }

    @Test func theDocumentStatesTheWebhookURLFormTheServerEnforces() {
        #expect(HashcartRouter.openAPIDocument.contains(WebhookAddressPolicy.urlPattern.replacingOccurrences(of: "\\", with: "\\\\")))
    }

    @Test func undeclaredMethodsOnKnownPathsAre405WithAllow() async throws {
        let world = try await ServerWorld()
        try await world.app.test(.live) { client in
            for route in APIRoutes.table {
                let path = route.path.replacingOccurrences(of: "{id}", with: "x1").replacingOccurrences(of: "{key}", with: "k1")
                    .replacingOccurrences(of: "{network}", with: "x")
                for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .options] where !route.methods.contains(method) {
                    try await client.execute(uri: path, method: method, headers: admin) { response in
                        #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                        let allow = Set((response.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                        #expect(allow == Set(APIRoutes.methods(forPath: path)!.map(\.rawValue)), "\(method) \(path): Allow \(allow)")
                        try expectError(response, .methodNotAllowed, code: "method_not_allowed")
                    }
                }
                // Each declared method is routed (whatever it answers, it is not 404 or 405).
                for method in route.methods {
                    try await client.execute(uri: path, method: method, headers: admin, body: ByteBuffer(string: "{}")) { response in
                        #expect(response.status != .methodNotAllowed, "\(method) \(path)")
                        // A 404 of a routed path names what is missing (`resource_missing`, `oauth_state_unknown`), never the route.
                        #expect(response.status != .notFound || (try? object(response)["error"] as? [String: Any])?["code"] as? String != "route_missing",
                                "\(method) \(path) is not routed")
                    }
                }
            }
            // Unknown paths stay 404.
            try await client.execute(uri: "/v1/nothing", method: .get, headers: admin) { #expect($0.status == .notFound) }
        }
    }
}
