import Foundation

/// What a child process left behind: its exit status and everything it printed.
public struct ChildProcessResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when the child outlived its timeout and was stopped (SIGTERM, then SIGKILL).
    public var timedOut: Bool

    public var description: String {
        "exit \(status)\(timedOut ? " (timed out)" : "")\n--- stdout:\n\(stdout.prefix(4_000))\n--- stderr:\n\(stderr.prefix(4_000))"
    }
}

/// Runs another program (the `hashcart` executable, a Python peer) to its end **without holding a
/// thread of Swift's cooperative pool**.
///
/// The pool has one thread per core: two cores on CI. A test that blocks in `waitUntilExit()` or
/// sleeps its thread while a child runs takes half of it away from every other test running in
/// parallel: fake networks, webhook receivers and engines then answer late, and HTTP deadlines
/// expire in tests that have nothing to do with the child. Here the wait is `Task.sleep`, and
/// output goes to files so a chatty child never blocks on a full pipe.
public enum ChildProcess {
    /// Runs `executable arguments…` with `environment` (the inherited one when nil), standard
    /// input closed. After `timeout` the child gets SIGTERM, and SIGKILL 5 s later.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                           timeout: Duration = .seconds(60)) async throws -> ChildProcessResult {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hashcart-child-" + UUID().uuidString)
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
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()

        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var timedOut = false
        while process.isRunning {
            if clock.now > deadline {
                timedOut = true
                process.terminate()
                let killAt = clock.now + .seconds(5)
                while process.isRunning, clock.now < killAt { try? await Task.sleep(for: .milliseconds(20)) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()  // already exited: returns at once and settles terminationStatus
        return ChildProcessResult(status: process.terminationStatus,
                                  stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                                  stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
                                  timedOut: timedOut)
    }

    /// `python3 arguments…` found on PATH, as `run` runs it.
    public static func python(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> ChildProcessResult {
        try await run(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments, timeout: timeout)
    }
}
