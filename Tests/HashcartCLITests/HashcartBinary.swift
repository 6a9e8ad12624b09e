import Foundation
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

struct RunResult: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool

    var description: String { "exit \(status)\(timedOut ? " (timed out)" : "")\n--- stdout:\n\(stdout.prefix(4_000))\n--- stderr:\n\(stderr.prefix(4_000))" }

    /// Standard output parsed as one JSON object.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try #require(object as? [String: Any], "stdout is not a JSON object: \(self)", sourceLocation: sourceLocation)
    }
}

/// Runs `hashcart arguments…` with HASHCART_ENCRYPTION_KEY removed from the environment (unless
/// given in `environment`); output goes to files so a chatty child never blocks on a full pipe.
func hashcart(_ arguments: [String], environment extra: [String: String] = [:], timeout: TimeInterval = 60,
              sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
    let executable = try HashcartBinary.require(sourceLocation: sourceLocation)
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hashcart-cli-out-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout")
    let errURL = scratch.appendingPathComponent("stderr")
    try Data().write(to: outURL)
    try Data().write(to: errURL)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    defer {
        try? out.close()
        try? err.close()
    }

    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["HASHCART_ENCRYPTION_KEY"] = nil
    for (name, value) in extra { environment[name] = value }
    process.environment = environment
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    try process.run()

    let deadline = Date().addingTimeInterval(timeout)
    var timedOut = false
    while process.isRunning {
        if Date() > deadline {
            timedOut = true
            process.terminate()
            break
        }
        Thread.sleep(forTimeInterval: 0.02)
    }
    process.waitUntilExit()
    let result = RunResult(status: process.terminationStatus,
                           stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                           stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
                           timedOut: timedOut)
    #expect(!timedOut, "hashcart \(arguments.joined(separator: " ")) ran longer than \(Int(timeout)) s", sourceLocation: sourceLocation)
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
