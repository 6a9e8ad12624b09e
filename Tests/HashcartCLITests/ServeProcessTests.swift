import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HashcartTestSupport
import Testing

/// `hashcart serve` as a real process: it starts on the embedded default, answers over loopback,
/// prints the admin token once, and stops cleanly on SIGTERM.
@Suite struct ServeProcessTests {
    @Test func servesAndStopsOnSIGTERM() async throws {
        let binary = try HashcartBinary.require()
        let folder = TemporaryFolder()
        let port = Int.random(in: 20_000...40_000)
        var environment = ProcessInfo.processInfo.environment
        environment["HASHCART_ENCRYPTION_KEY"] = nil
        environment["HASHCART_ADMIN_TOKEN"] = nil
        let logs = TemporaryFolder("log")
        try FileManager.default.createDirectory(atPath: logs.path, withIntermediateDirectories: true)
        let process = try SpawnedProcess(binary, ["serve", "--data", folder.path, "--port", String(port)],
                                         environment: environment, outputPath: logs.file("serve.log"))
        defer { process.stopBlocking() }

        // Wait (bounded) for it to answer.
        var healthy = false
        for _ in 0..<100 where !healthy {
            try await Task.sleep(for: .milliseconds(100))
            if let (data, _) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!) {
                healthy = String(decoding: data, as: UTF8.self).contains("ok")
            }
        }
        #expect(healthy, "hashcart serve did not answer /healthz within 10 s")
        // Prometheus metrics: the HTTP middleware's and the engine loop's.
        try await Task.sleep(for: .milliseconds(300))
        let (metricsData, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        let metrics = String(decoding: metricsData, as: UTF8.self)
        #expect(metrics.contains("hashcart_replies_sent_total"), "\(metrics.prefix(2000))")
        #expect(metrics.contains("hb_requests"), "\(metrics.prefix(2000))")
        // Each connector's health, by mode and network (the sandbox has no stream to be down).
        #expect(metrics.contains(#"hashcart_connector_connected{mode="test",network="sandbox"} 1"#), "\(metrics.prefix(4000))")
        #expect(metrics.contains(#"hashcart_connector_refused{mode="test",network="sandbox"} 0"#), "\(metrics.prefix(4000))")

        process.signal(SIGTERM)
        let status = await process.waitForExit(timeout: .seconds(10))
        #expect(status != nil, "hashcart serve did not stop within 10 s of SIGTERM")
        #expect(status == 0)
        let printed = process.output
        #expect(printed.contains("admin token (shown once"))
        #expect(FileManager.default.fileExists(atPath: folder.file("admin-token.sha256")))
        #expect(FileManager.default.fileExists(atPath: folder.file("encryption.key")))
        // No real network configured: test mode only, said at start, its store in DIR/test, no live store.
        #expect(printed.contains("test mode only"), "\(printed)")
        #expect(FileManager.default.fileExists(atPath: folder.file("test/hashcart.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("hashcart.sqlite")))
    }

    @Test(arguments: [(["--port", "70000"], "port"), (["--port", "http"], "port"), (["--rate-limit", "0"], "rate-limit"),
                      (["--log-format", "xml"], "log-format"), (["--min-link-age", "-1"], "min-link-age"), (["--min-link-age=-5"], "min-link-age"), (["--admin-token", "short"], "admin-token"),
                      (["--claim-lease", "0"], "claim-lease"), (["--claim-lease", "601"], "claim-lease"),
                      (["--auth-failures", "0"], "auth-failures"), (["--auth-failures", "lots"], "auth-failures"),
                      (["--database", "mysql://u@h/db"], "postgres://"), (["--database", "postgres://u@h/db?pool=0"], "pool"),
                      (["--database", "postgres://nobody@127.0.0.1:1/db"], "unavailable"),
                      (["--card-feed", "127.0.0.1"], "--card-feed must be HOST:PORT"), (["--card-feed", ":9000"], "--card-feed must be HOST:PORT"),
                      (["--card-feed", "127.0.0.1:99999"], "--card-feed must be HOST:PORT"), (["--card-feed", "127.0.0.1:port"], "--card-feed must be HOST:PORT"),
                      (["--card-feed", "127.0.0.1:0", "--card-feed-mode", "staging"], "--card-feed-mode must be live or test"),
                      (["--card-feed", "127.0.0.1:0", "--card-feed-mode", "live"], "runs no live mode"),
                      (["--card-feed-mode", "test"], "--card-feed-mode needs --card-feed"),
                      (["--payout-dir", "/tmp"], "--payout-dir needs --settle-daily"),
                      (["--settle-daily", "--payout-dir", "/nonexistent/payouts"], "is not a folder"),
                      (["--settle-daily", "--payout-dir", "/dev/null"], "is not a folder")])
    func refusesBadFlagsAndCreatesNothing(flags: [String], mentions: String) async throws {
        let folder = TemporaryFolder()
        let result = try await hashcart(["serve", "--data", folder.path] + flags)
        #expect(result.status != 0)
        #expect(result.stderr.contains(mentions), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("hashcart.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("test/hashcart.sqlite")))
    }

    @Test(arguments: [("networks: [", "not valid YAML"), ("sandboxx: true", "sandboxx: unknown setting"),
                      ("networks:\n  bluesky:\n    official_did: did:plc:a\n    identifier: shop\n    app_password: hunter2", "secrets are never read"),
                      ("networks:\n  bluesky:\n    official_did: did:plc:a\n    identifier: shop", "HASHCART_BLUESKY_APP_PASSWORD")])
    func refusesABadConfigFileAndCreatesNothing(config: String, mentions: String) async throws {
        let folder = TemporaryFolder()
        let configs = TemporaryFolder("config")
        try FileManager.default.createDirectory(atPath: configs.path, withIntermediateDirectories: true)
        try config.write(toFile: configs.file("hashcart.yaml"), atomically: true, encoding: .utf8)
        for path in [configs.file("hashcart.yaml"), configs.file("missing.yaml")] {
            let result = try await hashcart(["serve", "--data", folder.path, "--config", path])
            #expect(result.status != 0)
            #expect(result.stderr.contains(path.hasSuffix("missing.yaml") ? "cannot read" : mentions), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: folder.file("hashcart.sqlite")))
        }
    }
}
