import ArgumentParser
import Foundation
import HashcartApp
import HashcartConnectors
import HashcartCore
import HashcartEngine
import HashcartSandbox
import HashcartServer
import HashcartStore
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `hashcart serve`: the HTTP API, and one engine loop per network (the sandbox, and those named
/// in `hashcart.yaml`: Bluesky, Mastodon, X) in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API and run the engine on the sandbox and the networks in hashcart.yaml (Bluesky, Mastodon, X), on the embedded SQLite store or PostgreSQL.")

    @Option(name: .customLong("data"),
            help: "The data folder (default: $HASHCART_DATA or ./hashcart-data): live mode's store at its top, test mode's in DIR/test.")
    var data: String?

    @Option(name: .customLong("database"),
            help: "Keep the data in PostgreSQL, postgres://user[:password]@host[:port]/db; several instances may share it (default: $HASHCART_DATABASE_URL; none: SQLite in the data folder).")
    var database: String?

    @Option(name: .customLong("sandbox-data"),
            help: "The folder of the sandbox network, test mode only (default: DIR/test). Instances sharing a database share it too, as they would a real network.")
    var sandboxData: String?

    @Option(help: "Address to listen on (default: $HASHCART_HOST or 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on, 0…65535; 0 picks a free one and prints it (default: $HASHCART_PORT or 8080).")
    var port: Int?

    @Option(name: .customLong("encryption-key"),
            help: "32-byte key (base64 or hex) sealing billing data (default: $HASHCART_ENCRYPTION_KEY; a new data folder gets a generated key file).")
    var encryptionKey: String?

    @Option(name: .customLong("admin-token"), help: "The operator's bearer token (default: $HASHCART_ADMIN_TOKEN; generated and printed once on first start).")
    var adminToken: String?

    @Option(name: .customLong("min-link-age"),
            help: "Seconds a link must exist before it can buy (a takeover signal), 0…2592000 (default 3600; 0 for sandbox trials).")
    var minimumLinkAge: Int64 = 3_600

    @Option(name: .customLong("rate-limit"), help: "Requests per second per credential, 1…100000 (burst: twice that; default 100).")
    var rateLimit: Double = 100

    @Option(name: .customLong("auth-failures"),
            help: "Failed authentications one client address may make at once before it gets 429 (then one per 6 s), 1…100000 (default 10).")
    var authFailures: Double = 10

    @Flag(name: .customLong("allow-private-webhooks"),
          help: "Let test mode's webhook endpoints point at loopback or private addresses (local trials only; never live mode).")
    var allowPrivateWebhooks = false

    @Flag(name: .customLong("no-webhook-delivery"), help: "Record webhook events but do not send them (test runs that must make no outbound calls).")
    var noWebhookDelivery = false

    @Option(name: .customLong("claim-lease"),
            help: "Seconds an instance holds the replies and webhook deliveries it claimed before another instance may take them over, 1…600 (default 60).")
    var claimLease: Int64 = 60

    @Option(name: .customLong("config"),
            help: "hashcart.yaml naming the networks to run (default: $HASHCART_CONFIG; none: the sandbox network only). Secrets come from the environment.")
    var config: String?

    @Option(name: .customLong("log-format"), help: "`text` (default) or `json` (one object per line, for log collectors).")
    var logFormat = "text"

    @Option(name: .customLong("card-feed"),
            help: "Accept the issuer's card transactions as ISO 8583 (ASCII, 2-byte length frames) on HOST:PORT (port 0: any free one, printed); for card-linked offers.")
    var cardFeed: String?

    @Option(name: .customLong("card-feed-mode"),
            help: "The mode whose cards and store the card feed serves: `live` or `test` (default: live when a real network is configured, else test).")
    var cardFeedMode: String?

    @Flag(name: .customLong("settle-daily"),
          help: "Settle merchants on a schedule: each UTC day, 5 minutes after it ends, closed into batches (every mode served; on every instance, once between them).")
    var settleDaily = false

    @Option(name: .customLong("tax-table"),
            help: "A later sales-tax table (CSV, with `effective,YYYY-MM-DD`): from that UTC day, purchases are priced with it instead of the bundled one. Repeat for more.")
    var taxTableFiles: [String] = []

    @Option(name: .customLong("payout-dir"),
            help: "With --settle-daily: pay every batch waiting by a NACHA file in this folder (payout_YYYYMMDD_M.ach; test mode's in DIR/test). Live mode needs settlement: in hashcart.yaml.")
    var payoutDirectory: String?

    static let keyFile = "encryption.key"
    /// Test mode's folder inside the data folder (its SQLite store and, by default, the sandbox).
    static let testModeFolder = "test"
    static let adminTokenHashFile = "admin-token.sha256"

    /// The tables of `--tax-table`, each checked, with the day it takes effect; a clear error and
    /// exit for anything wrong (nothing is started or written before).
    static func loadTaxTables(_ paths: [String], after bundled: TaxRateTable) -> [TaxRateTable] {
        var tables: [TaxRateTable] = []
        for path in paths {
            let shown = String(path.prefix(256))
            let table = TaxTableFiles.table(at: path, flag: "--tax-table")
            guard table.effective != nil else { fail("--tax-table \(shown): needs an `effective,YYYY-MM-DD` line (the UTC day it takes effect)") }
            tables.append(table)
        }
        do {
            _ = try TaxSchedule([bundled] + tables)
        } catch {
            fail("--tax-table: \(error.message)")
        }
        return tables
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let directory = data ?? environment["HASHCART_DATA"] ?? "hashcart-data"
        let host = host ?? environment["HASHCART_HOST"] ?? "127.0.0.1"
        let portText = port.map(String.init) ?? environment["HASHCART_PORT"] ?? "8080"
        guard let port = Int(portText), (0...65_535).contains(port) else { fail("port must be 0…65535 (0: any free port, printed at start), not \(portText)") }
        guard (1...100_000).contains(rateLimit) else { fail("--rate-limit must be 1…100000 requests per second") }
        guard logFormat == "text" || logFormat == "json" else { fail("--log-format must be text or json") }
        guard (1...600).contains(claimLease) else { fail("--claim-lease must be 1…600 seconds") }
        guard (1...100_000).contains(authFailures) else { fail("--auth-failures must be 1…100000") }
        let feedAddress: (host: String, port: Int)? = cardFeed.map { text in
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port),
                  colon > text.startIndex, text.utf8.count <= 255
            else { fail("--card-feed must be HOST:PORT with a port 0…65535, not \(text.prefix(64))") }
            return (String(text[..<colon]), port)
        }
        if let cardFeedMode, Mode(rawValue: cardFeedMode) == nil { fail("--card-feed-mode must be live or test, not \(cardFeedMode.prefix(32))") }
        if cardFeedMode != nil, cardFeed == nil { fail("--card-feed-mode needs --card-feed HOST:PORT") }
        if let payoutDirectory {
            guard settleDaily else { fail("--payout-dir needs --settle-daily") }
            var isFolder: ObjCBool = false
            guard payoutDirectory.utf8.count <= 4096, FileManager.default.fileExists(atPath: payoutDirectory, isDirectory: &isFolder), isFolder.boolValue else {
                fail("--payout-dir \(payoutDirectory.prefix(256)) is not a folder")
            }
        }
        let url = StoreOptions.databaseURL(flag: database)
        var networks = HashcartConfiguration()
        if let path = config ?? environment["HASHCART_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            do {
                networks = try HashcartConfiguration.load(path: path, environment: environment)
            } catch {
                fail(error.description)
            }
        }
        let runsLive = networks.bluesky != nil || networks.mastodon != nil || networks.x != nil
        if payoutDirectory != nil, runsLive, networks.settlement == nil {
            fail("--payout-dir: live mode's payout files need the originator: add a settlement: section to hashcart.yaml")
        }
        let feedMode: Mode? = feedAddress.map { _ in cardFeedMode.flatMap(Mode.init(rawValue:)) ?? (runsLive ? .live : .test) }
        if let feedMode, !(feedMode == .live ? runsLive : networks.sandbox) {
            fail("--card-feed-mode \(feedMode): this Hashcart runs no \(feedMode) mode (\(feedMode == .live ? "no real network in hashcart.yaml" : "the sandbox is off"))")
        }
        var configuration = EngineConfiguration(risk: RiskPolicy(minimumLinkAgeSeconds: minimumLinkAge))
        configuration.outboundLeaseMilliseconds = claimLease * 1_000
        do {
            _ = try configuration.validated()
        } catch {
            fail("--min-link-age: \(error.message)")
        }
        let taxTable = try BundledTaxTable.load()
        let laterTaxTables = Self.loadTaxTables(taxTableFiles, after: taxTable)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            fail("\(directory) is a file; --data needs a folder")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        let key = try resolveKey(directory: directory, environment: environment)
        let tokenHash = try resolveAdminTokenHash(directory: directory, environment: environment)

        // Live and test mode are separate worlds: each its own store, engines and credentials.
        // Live mode runs the real networks of hashcart.yaml (no sandbox) on the store in the data
        // folder (or the database's schema); test mode runs the sandbox network on a store of its
        // own in DIR/test (or the schema NAME_test).
        let testDirectory = (directory as NSString).appendingPathComponent(Self.testModeFolder)
        func openStore(_ mode: Mode) async -> any HashcartDatabase {
            do {
                if let url { return try await PostgresStore(url: mode == .live ? url : url.testMode, encryptionKey: key) }
                return try SQLiteStore(directory: mode == .live ? directory : testDirectory, encryptionKey: key)
            } catch let error as StoreError {
                fail("\(mode) mode: \(error.description)")
            } catch {
                fail("\(mode) mode: \(error)")
            }
        }
        let clock = SystemWallClock()
        if logFormat == "json" { LoggingSystem.bootstrap { label in JSONLogHandler(label: label) } }
        var logger = Logger(label: "hashcart")
        logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        var services: [any Service] = []
        var testService: EngineService?
        var testEngines: [Engine] = []
        var description: [String] = []
        if networks.sandbox {
            try FileManager.default.createDirectory(atPath: testDirectory, withIntermediateDirectories: true)
            let store = await openStore(.test)
            let sandboxDirectory = sandboxData ?? testDirectory
            try FileManager.default.createDirectory(atPath: sandboxDirectory, withIntermediateDirectories: true)
            let sandbox = try SandboxNetwork(directory: sandboxDirectory, clock: clock)
            let engine = try await Engine(store: store, connector: SandboxConnector(sandbox: sandbox), clock: clock, ids: RandomIDGenerator(),
                                    taxTable: taxTable, laterTaxTables: laterTaxTables, configuration: configuration)
            let service = EngineService(mode: .test, engine: engine, store: store, sandbox: sandbox, adminTokenHash: tokenHash, metrics: registry,
                                        allowPrivateWebhookHosts: allowPrivateWebhooks)
            testService = service
            testEngines = [engine]
            if settleDaily {
                let folder = payoutDirectory.map { ($0 as NSString).appendingPathComponent(Self.testModeFolder) }
                if let folder { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
                services.append(SettlementScheduler(store: store, mode: .test, clock: clock, payoutDirectory: folder,
                                                    originator: networks.settlement ?? .testMode, logger: logger))
            }
            if !noWebhookDelivery {
                services.append(WebhookDeliverer(service: service, logger: logger, leaseMilliseconds: claimLease * 1_000))
            }
            description.append("test: store \(store.location)")
        }
        // Live mode: one engine per configured network, all on live mode's store; each polls its
        // own connector and sends only its own network's replies.
        var liveService: EngineService?
        var liveEngines: [Engine] = []
        if runsLive {
            let store = await openStore(.live)
            if let bluesky = networks.bluesky {
                var connectorLogger = logger
                connectorLogger[metadataKey: "network"] = "bluesky"
                liveEngines.append(try await Engine(store: store, connector: try BlueskyConnector(configuration: bluesky, clock: clock, logger: connectorLogger),
                                              clock: clock, ids: RandomIDGenerator(), taxTable: taxTable, laterTaxTables: laterTaxTables, configuration: configuration))
            }
            if let mastodon = networks.mastodon {
                var connectorLogger = logger
                connectorLogger[metadataKey: "network"] = "mastodon"
                liveEngines.append(try await Engine(store: store, connector: try MastodonConnector(configuration: mastodon, clock: clock, logger: connectorLogger),
                                              clock: clock, ids: RandomIDGenerator(), taxTable: taxTable, laterTaxTables: laterTaxTables, configuration: configuration))
            }
            if let x = networks.x {
                var connectorLogger = logger
                connectorLogger[metadataKey: "network"] = "x"
                liveEngines.append(try await Engine(store: store, connector: try XConnector(configuration: x, clock: clock, logger: connectorLogger),
                                              clock: clock, ids: RandomIDGenerator(), taxTable: taxTable, laterTaxTables: laterTaxTables, configuration: configuration))
            }
            // Cardholders link by OAuth sign-in on the networks whose section names an OAuth app.
            var oauthLinks: [any OAuthLinkProvider] = []
            if let x = networks.x, let oauth = x.oauth { oauthLinks.append(try XOAuthLink(configuration: x, oauth: oauth, clock: clock)) }
            if let mastodon = networks.mastodon, let oauth = mastodon.oauth {
                oauthLinks.append(try MastodonOAuthLink(configuration: mastodon, oauth: oauth, clock: clock))
            }
            // Live webhook endpoints must be https: a test-mode trial switch never applies here.
            let service = EngineService(mode: .live, engine: liveEngines[0], store: store, sandbox: nil, adminTokenHash: tokenHash, metrics: registry,
                                        allowPrivateWebhookHosts: false, networkEngines: Array(liveEngines.dropFirst()), oauthLinks: oauthLinks)
            liveService = service
            if settleDaily {
                services.append(SettlementScheduler(store: store, mode: .live, clock: clock, payoutDirectory: payoutDirectory,
                                                    originator: networks.settlement ?? .testMode, logger: logger))
            }
            if !noWebhookDelivery {
                services.append(WebhookDeliverer(service: service, logger: logger, leaseMilliseconds: claimLease * 1_000))
            }
            description.insert("live: store \(store.location)", at: 0)
        } else {
            announce("hashcart: test mode only: no real network is configured (hashcart.yaml), so there is no live mode; the sandbox network runs on test mode's store")
        }
        let engines = testEngines + liveEngines
        if let feedAddress, let mode = feedMode {
            guard let engine = (mode == .live ? liveEngines : testEngines).first else { preconditionFailure("the card feed's mode runs") }
            services.append(CardFeedService(engine: engine, mode: mode, host: feedAddress.host, port: feedAddress.port, logger: logger) { port in
                announce("hashcart: card feed on \(feedAddress.host):\(port) (\(mode) mode, ISO 8583)")
            })
        }
        let loops: [any Service] = engines.map { EngineLoop(engine: $0, logger: logger) }
        let networkNames = engines.map(\.connector.network.rawValue).joined(separator: ", ")
        let modeServices = ModeServices(test: testService, live: liveService)
        let summary = description.joined(separator: "; ")
        let app = Application(
            router: HashcartRouter.build(services: modeServices, rateLimit: RateLimit(requestsPerSecond: rateLimit, burst: rateLimit * 2),
                                         authFailures: AuthFailureLimit(burstPerAddress: authFailures, burstGlobal: max(200, authFailures * 20))),
            configuration: .init(address: .hostname(host, port: port), serverName: "hashcart"),
            services: loops + services,
            onServerRunning: { channel in
                if !laterTaxTables.isEmpty {
                    announce("hashcart: tax tables: \(taxTable.version) (bundled); " + laterTaxTables.map { "\($0.version) from \($0.effective!)" }.joined(separator: "; "))
                }
                announce("hashcart: serving http://\(host):\(channel.localAddress?.port ?? port) (\(summary); networks: \(networkNames))")
            },
            logger: logger)
        // Store calls suspend (the stores run their work on threads of their own): everything
        // here runs on Swift's cooperative pool.
        try await app.runService()
    }

    /// The key from the flag or environment; a new data folder without one gets a generated key file.
    func resolveKey(directory: String, environment: [String: String]) throws -> String {
        if let encryptionKey { return encryptionKey }
        if let fromEnvironment = environment["HASHCART_ENCRYPTION_KEY"], !fromEnvironment.isEmpty { return fromEnvironment }
        let keyPath = (directory as NSString).appendingPathComponent(Self.keyFile)
        if let stored = try? String(contentsOfFile: keyPath, encoding: .utf8) {
            return stored.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let hasStore = [directory, (directory as NSString).appendingPathComponent(Self.testModeFolder)].contains {
            FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent(SQLiteStore.fileName))
        }
        if hasStore { fail(StoreError.missingEncryptionKey.description) }
        let generated = AddressCipher.generateEncodedKey()
        guard FileManager.default.createFile(atPath: keyPath, contents: Data(generated.utf8), attributes: [.posixPermissions: 0o600]) else {
            fail("cannot write \(keyPath)")
        }
        announce("hashcart: generated an encryption key in \(keyPath); in production set HASHCART_ENCRYPTION_KEY and keep the key away from the data")
        return generated
    }

    /// The admin token's hash: from the flag or environment, else the one stored on first start.
    func resolveAdminTokenHash(directory: String, environment: [String: String]) throws -> [UInt8] {
        let hash = EngineService.hash(token:)
        if let adminToken {
            guard adminToken.count >= 16 else { fail("--admin-token must be at least 16 characters") }
            return hash(adminToken)
        }
        if let token = environment["HASHCART_ADMIN_TOKEN"], !token.isEmpty {
            guard token.count >= 16 else { fail("HASHCART_ADMIN_TOKEN must be at least 16 characters") }
            return hash(token)
        }
        let path = (directory as NSString).appendingPathComponent(Self.adminTokenHashFile)
        if let stored = try? String(contentsOfFile: path, encoding: .utf8) {
            let hex = stored.trimmingCharacters(in: .whitespacesAndNewlines)
            guard hex.count == 64, let bytes = Self.bytes(hex: hex) else { fail("\(path) is corrupt; delete it to generate a new admin token") }
            return bytes
        }
        let token = EngineService.secret(prefix: "hc_admin_")
        let digest = hash(token)
        guard FileManager.default.createFile(atPath: path, contents: Data(digest.map { String(format: "%02x", $0) }.joined().utf8),
                                             attributes: [.posixPermissions: 0o600])
        else { fail("cannot write \(path)") }
        announce("hashcart: admin token (shown once, keep it): \(token)")
        return digest
    }

    static func bytes(hex: String) -> [UInt8]? {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}

/// Writes a line to standard output at once (not buffered: a token shown once must not be lost).
func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

