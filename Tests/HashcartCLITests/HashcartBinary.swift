import Foundation
import HashcartTestSupport
import Testing

/// The built `hashcart` executable, run as a subprocess exactly as an operator would run it.
enum HashcartBinary {
    /// The package root: this file is `<root>/Tests/HashcartCLITests/HashcartBinary.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Where to look, best first: beside the running test bundle (same build configuration and
    /// triple), then `.build/debug/hashcart` under the package root.
    static var candidates: [URL] {
        var folders: [URL] = []
        if let executable = Bundle.main.executableURL { folders.append(executable.deletingLastPathComponent()) }
        folders.append(Bundle.main.bundleURL.deletingLastPathComponent())
        folders.append(Bundle.main.bundleURL)
        if let argument = CommandLine.arguments.first {
            folders.append(URL(fileURLWithPath: argument).deletingLastPathComponent())
        }
        // An .xctest bundle directory (macOS): the products folder is its parent.
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        folders.append(packageRoot.appendingPathComponent(".build/debug"))
        return folders.map { $0.appendingPathComponent("hashcart") }
    }

    static let url: URL? = candidates.first { candidate in
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: candidate.path)
    }

    /// The executable, or a failed test that says where it looked.
    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        try #require(url, "the hashcart executable was not found; build it with `swift build` (looked at: \(candidates.map(\.path).joined(separator: ", ")))",
                     sourceLocation: sourceLocation)
    }
}

/// What `hashcart …` left behind: exit status, standard output and error.
typealias RunResult = ChildProcessResult

extension ChildProcessResult {
    /// Standard output parsed as one JSON object.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try #require(object as? [String: Any], "stdout is not a JSON object: \(self)", sourceLocation: sourceLocation)
    }
}

/// Runs `hashcart arguments…` with HASHCART_ENCRYPTION_KEY removed from the environment (unless
/// given in `environment`), without holding a thread of the cooperative pool while it runs
/// (`ChildProcess.run`). A run longer than `timeout` seconds is stopped and fails the test.
func hashcart(_ arguments: [String], environment extra: [String: String] = [:], timeout: Int = 60,
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunResult {
    let executable = try HashcartBinary.require(sourceLocation: sourceLocation)
    var environment = ProcessInfo.processInfo.environment
    environment["HASHCART_ENCRYPTION_KEY"] = nil
    for (name, value) in extra { environment[name] = value }
    let result = try await ChildProcess.run(executable, arguments, environment: environment, timeout: .seconds(timeout))
    #expect(!result.timedOut, "hashcart \(arguments.joined(separator: " ")) ran longer than \(timeout) s", sourceLocation: sourceLocation)
    return result
}

/// A fresh path under the temporary folder that does not exist yet; removed when the test ends.
final class TemporaryFolder {
    let path: String

    init(_ label: String = "data") {
        path = NSTemporaryDirectory() + "hashcart-cli-\(label)-" + UUID().uuidString
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    var exists: Bool { FileManager.default.fileExists(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Every file's name and bytes: a fingerprint of the whole folder.
    func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: file(name)))
        }
        return files
    }
}

/// A random 32-byte key, base64-encoded, as an operator would generate one.
func randomKey() -> String {
    var generator = SystemRandomNumberGenerator()
    return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
}
