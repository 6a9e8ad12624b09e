import Foundation
import HashcartApp
import HashcartCore
import HashcartServer
import HashcartTestSupport
import Logging
import Testing

/// Webhooks cannot be turned inward: every spelling of an internal address is refused when an
/// endpoint is created, and at delivery a name resolving inward, or a redirect, sends nothing.
@Suite struct WebhookAddressTests {
    static let inward = [
        // IPv4 loopback in every spelling inet_aton reads.
        "http://127.0.0.1/x", "http://2130706433/x", "http://0x7f000001/x", "http://0x7f.1/x", "http://0177.0.0.1/x", "http://017700000001/x",
        "http://127.1/x", "http://127.0.1/x", "http://0/x", "http://0.0.0.0/x", "http://127.0.0.1.:8080/x", "https://127.000.000.001/x",
        // IPv6 loopback, unspecified, mapped, compatible, NAT64, 6to4 and expanded forms.
        "http://[::1]/x", "http://[0:0:0:0:0:0:0:1]/x", "http://[0000:0000:0000:0000:0000:0000:0000:0001]/x", "http://[::]/x",
        "http://[::ffff:127.0.0.1]/x", "http://[::ffff:7f00:1]/x", "http://[::127.0.0.1]/x", "http://[64:ff9b::7f00:1]/x",
        "http://[2002:7f00:1::]/x", "http://[::ffff:a9fe:a9fe]/latest",
        // Private, link-local, CGNAT, unique-local, multicast, reserved, broadcast, metadata.
        "https://10.0.0.5/x", "https://0xa.0.0.5/x", "https://172.16.0.1/x", "https://172.31.255.255/x", "https://192.168.1.1/x",
        "https://169.254.169.254/latest/meta-data", "https://2852039166/latest", "https://100.64.0.1/x", "https://[fe80::1]/x",
        "https://[fd00:ec2::254]/latest", "https://[fc00::1]/x", "https://224.0.0.1/x", "https://[ff02::1]/x", "https://240.0.0.1/x",
        "https://255.255.255.255/x", "https://198.18.0.1/x",
        // Local names, in other spellings.
        "http://localhost/x", "http://LOCALHOST/x", "http://localhost./x", "http://api.localhost/x", "http://printer.local/x",
        "https://db.internal/x", "https://intranet/x", "https://router.home.arpa/x",
        // Not URLs Hashcart sends to.
        "https://93.184.216.34/x", "https://[2606:4700::1111]/h", "https://shop.example/a b", "https://shop.example/%zz", "https://-shop.example/",
        "ftp://example.com/x", "https://user:pw@example.com/x", "file:///etc/passwd", "gopher://example.com/", "https://[::1%25lo]/x",
    ]

    @Test func everySpellingOfAnInternalAddressIsRefusedAtCreation() async throws {
        let world = try await ServerWorld()
        let strict = EngineService(engine: world.engine, store: world.store, sandbox: world.sandbox,
                                   adminTokenHash: EngineService.hash(token: ServerWorld.adminToken))
        let merchant = try await world.engine.createMerchant(name: "M")
        for url in Self.inward {
            do {
                _ = try await strict.createWebhookEndpoint(merchantID: merchant.id.rawValue, CreateWebhookEndpointBody(url: url))
                Issue.record("accepted \(url)")
            } catch let error as APIError {
                #expect(error.param == "url", "\(url)")
            }
        }
        for url in ["https://shop.example/hooks", "http://hooks.example.com:8443/a?b=c", "https://Shop.Example/h*k(s)?x=1&y=%20"] {
            _ = try await strict.createWebhookEndpoint(merchantID: merchant.id.rawValue, CreateWebhookEndpointBody(url: url))
        }
        // The trial switch is test mode's only: a live service refuses http and private hosts whatever it is told.
        let live = EngineService(mode: .live, engine: world.engine, store: world.store, sandbox: nil,
                                 adminTokenHash: EngineService.hash(token: ServerWorld.adminToken), allowPrivateWebhookHosts: true)
        for url in ["http://shop.example/hooks", "https://127.0.0.1/x", "https://localhost/x"] {
            await #expect(throws: APIError.self, "\(url)") {
                try await live.createWebhookEndpoint(merchantID: merchant.id.rawValue, CreateWebhookEndpointBody(url: url))
            }
        }
    }

    @Test func theClassificationReadsAddressesAsTheSystemDoes() {
        #expect(NetworkAddress(parsing: "0x7f.1")?.description == "127.0.0.1")
        #expect(NetworkAddress(parsing: "2130706433")?.description == "127.0.0.1")
        #expect(NetworkAddress(parsing: "[::ffff:127.0.0.1]")?.refusal?.contains("loopback") == true)
        #expect(NetworkAddress(parsing: "example.com") == nil)
        #expect(NetworkAddress(parsing: "8.8.8.8")?.refusal == nil)
        #expect(NetworkAddress(parsing: "2606:4700::1111")?.refusal == nil)
    }

    /// A name that resolves inward at delivery time (DNS rebinding, a stale record) sends nothing.
    @Test func aNameResolvingInwardAtDeliverySendsNothing() async throws {
        let receiver = WebhookReceiver()
        let task = try await receiver.start()
        defer { task.cancel() }
        let port = receiver.port.withLock { $0 } ?? 0
        for resolved in [[NetworkAddress.v4(0x7F00_0001)], [.v4(0x0808_0808), .v4(0x7F00_0001)], [NetworkAddress(parsing: "::ffff:127.0.0.1")!]] {
            let transport = HTTPClientWebhookTransport(resolve: { _, _ in resolved })
            await #expect(throws: WebhookURLError.self) {
                _ = try await transport.post(url: "http://hooks.example.com:\(port)/hook", headers: [], body: Data("{}".utf8), timeoutSeconds: 30)
            }
        }
        #expect(receiver.received.withLock { $0 }.isEmpty)
        // The same name resolving to a public address would be tried: here, with private
        // addresses allowed for the loopback receiver, it reaches it through the checked address.
        let trial = HTTPClientWebhookTransport(policy: WebhookAddressPolicy(allowPrivate: true), resolve: { _, _ in [.v4(0x7F00_0001)] })
        let status = try await trial.post(url: "http://hooks.example.com:\(port)/hook", headers: [], body: Data("{}".utf8), timeoutSeconds: 30)
        #expect(status == 200 && receiver.received.withLock { $0 }.count == 1)
    }

    /// A redirect is a failed attempt: never followed, its target never called. (Deadlines here are
    /// 30 s: at the start of a run every test runs at once on two cores, and a 5 s read timed out.)
    @Test func aRedirectIsNeverFollowed() async throws {
        let first = WebhookReceiver(), target = WebhookReceiver()
        let firstTask = try await first.start(), targetTask = try await target.start()
        defer { firstTask.cancel(); targetTask.cancel() }
        for status in [301, 302, 303, 307, 308] {
            first.status.withLock { $0 = .init(code: status) }
            first.location.withLock { $0 = target.url }
            let transport = HTTPClientWebhookTransport(policy: WebhookAddressPolicy(allowPrivate: true))
            let answered = try await transport.post(url: first.url, headers: [], body: Data("{}".utf8), timeoutSeconds: 30)
            #expect(answered == status)
        }
        #expect(first.received.withLock { $0 }.count == 5)
        #expect(target.received.withLock { $0 }.isEmpty)
    }
}
