import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A merchant's webhook receiver on loopback: records what arrives, answers with a chosen status.
public final class WebhookReceiver: Sendable {
    public init() {}

    public struct Delivery: Sendable {
        public var eventID: String
        public var signature: String
        public var body: Data
    }

    public let received = Mutex<[Delivery]>([])
    public let status = Mutex<HTTPResponse.Status>(.ok)
    public let port = Mutex<Int?>(nil)
    /// A `Location` to answer with (a redirect, with a 3xx status).
    public let location = Mutex<String?>(nil)

    /// Starts the receiver; returns the task running it (cancel it to stop).
    public func start() async throws -> Task<Void, any Error> {
        let router = Router()
        router.post("/hook") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            self.received.withLock {
                $0.append(Delivery(eventID: request.headers[HTTPField.Name("Hashcart-Event-Id")!] ?? "",
                                   signature: request.headers[HTTPField.Name("Hashcart-Signature")!] ?? "",
                                   body: Data(body.readableBytesView)))
            }
            var headers = HTTPFields()
            if let location = self.location.withLock({ $0 }) { headers[.location] = location }
            return Response(status: self.status.withLock { $0 }, headers: headers)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in self.port.withLock { $0 = channel.localAddress?.port } })
        let task = FakeServer.serve(app)
        for _ in 0..<100 where port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
        return task
    }

    public var url: String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)/hook" }
}

