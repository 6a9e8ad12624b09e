import AsyncHTTPClient
import Foundation
import HashcartCore
import NIOCore
import NIOHTTP1

/// One HTTP exchange with a network's API: bounded request and response sizes, a timeout, the
/// rate-limit headers recorded in a ``RateLimitGate``, and failures turned into ``ConnectorError``s
/// that say whether a retry can help.
struct ConnectorHTTP: Sendable {
    static let maximumResponseBytes = 1 << 20

    let network: NetworkName
    let client: HTTPClient
    let gate: RateLimitGate
    let clock: any WallClock
    let timeoutSeconds: Int64

    struct Response: Sendable {
        var status: Int
        var body: Data
        var headers: [(String, String)]
    }

    func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], json: Data? = nil,
              form: [(String, String)]? = nil) async throws -> Response {
        try gate.check(now: clock.now())
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "Hashcart")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        } else if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form.map { "\(Wire.percentEncoded($0))=\(Wire.percentEncoded($1))" }.joined(separator: "&")))
        }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(timeoutSeconds))
            body = try await response.body.collect(upTo: Self.maximumResponseBytes)
        } catch {
            throw ConnectorError(network: network, message: "\(method) \(Self.redacted(url)): \(error)", isRetryable: true)
        }
        let headers = response.headers.map { ($0.name, $0.value) }
        gate.record(status: Int(response.status.code), headers: headers, now: clock.now())
        return Response(status: Int(response.status.code), body: Data(body.readableBytesView), headers: headers)
    }

    /// The URL without its query (which may carry tokens), for messages and logs.
    static func redacted(_ url: String) -> String {
        String(url.prefix { $0 != "?" })
    }

    /// A failed response as a ``ConnectorError``: 408, 429 and 5xx can succeed later; other 4xx cannot.
    func failure(_ what: String, _ response: Response) -> ConnectorError {
        let detail = String(decoding: response.body.prefix(300), as: UTF8.self)
        let retryable = response.status == 408 || response.status == 429 || response.status >= 500
        return ConnectorError(network: network, message: "\(what): HTTP \(response.status) \(detail)", isRetryable: retryable)
    }
}
