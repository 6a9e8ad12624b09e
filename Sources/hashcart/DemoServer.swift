import Foundation
import HashcartApp
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartServer
import HashcartStore
import Hummingbird
import Logging
import ServiceLifecycle

/// `hashcart demo --serve`: after the sale, the API and the dashboard on the sale's data (test
/// mode, the sandbox network), with the engine's loop taking new sandbox posts, until stopped.
/// It makes three dashboard users (the demo merchant's, the operator, and a cardholder who
/// bought) with fresh passwords and prints exactly the four lines a newcomer needs.
struct DemoServer {
    let engine: Engine
    let store: any HashcartDatabase
    let sandbox: SandboxNetwork
    let merchantID: MerchantID
    let port: Int

    static let emails = (merchant: "merchant@demo.hashcart.test", operator: "operator@demo.hashcart.test", cardholder: "cardholder@demo.hashcart.test")

    func run() async throws {
        let adminToken = "hc_admin_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let service = EngineService(mode: .test, engine: engine, store: store, sandbox: sandbox, adminTokenHash: EngineService.hash(token: adminToken),
                                    allowPrivateWebhookHosts: true)
        // The cardholder with the most orders not yet shipped, so their page has purchases to show and to cancel.
        let open = try await store.read { reader in
            try reader.orders(limit: 100_000).filter { $0.status == .created }.map(\.cardAccountID)
        }
        let counts = Dictionary(open.map { ($0, 1) }, uniquingKeysWith: +)
        guard let buyer = counts.max(by: { ($0.value, $1.key.rawValue) < ($1.value, $0.key.rawValue) })?.key else {
            fail("the demo's sale made no purchase to show")
        }
        let merchant = try await service.dashboard.createUser(CreateDashboardUserBody(email: Self.emails.merchant, role: "merchant",
                                                                                      merchantID: merchantID.rawValue))
        let operatorUser = try await service.dashboard.createUser(CreateDashboardUserBody(email: Self.emails.operator, role: "operator"))
        let cardholder = try await service.dashboard.createUser(CreateDashboardUserBody(email: Self.emails.cardholder, role: "cardholder",
                                                                                        cardholderID: buyer.rawValue))
        var logger = Logger(label: "hashcart.demo")
        logger.logLevel = .warning
        let app = Application(
            router: HashcartRouter.build(service: service),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hashcart"),
            services: [EngineLoop(engine: engine, logger: logger), WebhookDeliverer(service: service, logger: logger)],
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                announce("dashboard: http://127.0.0.1:\(bound)/dashboard")
                announce("merchant sign-in: \(merchant.email) \(merchant.password ?? "")")
                announce("operator sign-in: \(operatorUser.email) \(operatorUser.password ?? "")")
                announce("cardholder sign-in: \(cardholder.email) \(cardholder.password ?? "")")
                FileHandle.standardError.write(Data("hashcart: serving the demo's data in test mode until stopped (Ctrl-C); the API's admin token is \(adminToken)\n".utf8))
            },
            logger: logger)
        try await app.runService()
    }
}
