// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "hashcart",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hashcart", targets: ["hashcart"]),
        .library(name: "HashcartCore", targets: ["HashcartCore"]),
    ],
    dependencies: [
        // Embedded SQLite store (WAL, migrations, cached statements).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // AES-GCM for billing data and webhook secrets at rest; SHA-256 for stored credentials; HMAC for webhooks.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The `hashcart` command line.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Latency percentiles for `hashcart bench`.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // The HTTP API (`hashcart serve`); HummingbirdTesting drives it over loopback in tests.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // HTTP field names for the server's own headers (Idempotency-Key); already under Hummingbird.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Delivers merchant webhooks (already under HummingbirdTesting).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // /metrics in Prometheus' text format, through the swift-metrics API.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // `hashcart.yaml`, the one config file naming the networks to run (YAML: comments, no
        // quoting of URLs; TOMLKit is not usable here, its manifest needs a package the mirror lacks).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Runs the engine's loop beside the HTTP server, with graceful shutdown on SIGTERM.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The PostgreSQL store (`--database postgres://…`): several instances on one database.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Bluesky's Jetstream is JSON over WebSocket: Hummingbird's WebSocket client (WSClient).
        // SwiftNIO's bare NIOWebSocket would mean writing the upgrade, masking and close handshake ourselves.
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        // Tests only: a loopback Jetstream (WebSocket) server beside the fake PDS's HTTP routes.
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        // The card feed's TCP listener (ISO 8583 over length-prefixed frames). Already built under
        // Hummingbird; named here because the card feed uses NIO directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The dashboard's pages, rendered on the server from Mustache templates (HTML-escaped by
        // default): small, no dependencies of its own, Hummingbird's own template engine.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // bcrypt for dashboard passwords (HummingbirdBcrypt: the OpenBSD C implementation, nothing else).
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
    ],
    targets: [
        // Pure domain: money, offers, purchases, ledger, tax, risk. No I/O, no clock, no randomness.
        .target(name: "HashcartCore"),
        // Embedded SQLite store (GRDB).
        .target(
            name: "HashcartStore",
            dependencies: [
                "HashcartCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for reading hot rows without building a GRDB `Row`.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The built-in sandbox social network, durable in its own SQLite file.
        .target(
            name: "HashcartSandbox",
            dependencies: [
                "HashcartCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The HTTP API: routes, auth, the JSON error shape. Depends on the core only; the
        // executable hands it a `HashcartService` backed by the engine.
        .target(
            name: "HashcartServer",
            dependencies: [
                "HashcartCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The document is compiled in (EmbeddedOpenAPIDocument.swift, scripts/embed-resources.sh).
            exclude: ["Resources/openapi.yaml", "Resources/dashboard"]
        ),
        // The real networks' connectors (Bluesky, Mastodon, X): their wire formats, parsed without
        // trusting them, and their streaming and posting over HTTP and WebSocket. Depends on the core only.
        .target(
            name: "HashcartConnectors",
            dependencies: [
                "HashcartCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The card feed: the issuer's own card transactions as ISO 8583:1987 (ASCII) over TCP, each
        // message framed by a 2-byte length; parsed without trusting it. Depends on the core only.
        .target(
            name: "HashcartCardFeed",
            dependencies: [
                "HashcartCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The engine: ties network events, the store and outbound posts together.
        .target(
            name: "HashcartEngine",
            dependencies: ["HashcartCore", "HashcartStore", "HashcartSandbox"],
            // The table is compiled in (EmbeddedTaxTable.swift, scripts/embed-resources.sh): one binary, no bundle.
            exclude: ["Resources/us-sales-tax-rates.csv"]
        ),
        // The composition: the HTTP API's service backed by the engine, and the engine's loop.
        .target(
            name: "HashcartApp",
            dependencies: [
                "HashcartCore", "HashcartStore", "HashcartSandbox", "HashcartEngine", "HashcartServer", "HashcartConnectors",
                "HashcartCardFeed",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // `hashcart sim`: the whole engine on a real SQLite store, a simulated network and merchant,
        // one seeded random source and a simulated clock, with faults and crashes injected.
        .target(
            name: "HashcartSimulation",
            dependencies: [
                "HashcartCore", "HashcartStore", "HashcartEngine", "HashcartApp",
                .product(name: "Logging", package: "swift-log"),
                // Only for a planted bug (Sabotage.forgetProcessedEvents) that edits the store behind the engine.
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "hashcart",
            dependencies: [
                "HashcartCore", "HashcartStore", "HashcartSandbox", "HashcartEngine", "HashcartServer", "HashcartApp",
                "HashcartConnectors", "HashcartSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                // `bench pages` fetches the pages over loopback (already built for HashcartApp).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Fresh databases for tests on each backend (SQLite files, a PostgreSQL schema per test).
        .target(
            name: "HashcartTestSupport",
            dependencies: [
                "HashcartStore", "HashcartConnectors",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/HashcartTestSupport"
        ),
        .testTarget(name: "HashcartCoreTests", dependencies: ["HashcartCore"]),
        .testTarget(name: "HashcartStoreTests", dependencies: ["HashcartCore", "HashcartStore", "HashcartTestSupport"]),
        .testTarget(name: "HashcartEngineTests",
                    dependencies: ["HashcartCore", "HashcartStore", "HashcartSandbox", "HashcartEngine", "HashcartTestSupport"]),
        .testTarget(
            name: "HashcartConnectorsTests",
            dependencies: [
                "HashcartCore", "HashcartConnectors", "HashcartStore", "HashcartEngine", "HashcartApp", "HashcartTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "HashcartCardFeedTests",
            dependencies: [
                "HashcartCardFeed", "HashcartCore", "HashcartStore", "HashcartSandbox", "HashcartEngine", "HashcartApp", "HashcartTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "HashcartSimulationTests", dependencies: ["HashcartSimulation", "HashcartCore", "HashcartStore"]),
        .testTarget(name: "HashcartCLITests", dependencies: [
            "hashcart", "HashcartTestSupport", "HashcartConnectors", "HashcartCore", "HashcartStore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(
            name: "HashcartServerTests",
            dependencies: [
                "HashcartCore", "HashcartServer", "HashcartApp", "HashcartStore", "HashcartSandbox", "HashcartEngine",
                "HashcartTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                // The OpenAPI document is read as YAML by the contract tests (Yams is built for hashcart.yaml already).
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
