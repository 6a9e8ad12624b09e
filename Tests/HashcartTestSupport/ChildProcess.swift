import Foundation

/// What a child process left behind: its exit status and everything it printed.
public struct ChildProcessResult: Sendable, CustomStringConvertible {
    /// The exit status; for a child killed by a signal, 128 plus the signal's number.
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
        let outPath = scratch.appendingPathComponent("stdout").path
        let errPath = scratch.appendingPathComponent("stderr").path
        let child = try SpawnedProcess(executable, arguments, environment: environment, outputPath: outPath, errorPath: errPath)
        var timedOut = false
        var status = await child.waitForExit(timeout: timeout)
        if status == nil {
            timedOut = true
            status = await child.stop(grace: .seconds(5))
        }
        return ChildProcessResult(status: status ?? -1,
                                  stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                                  stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                                  timedOut: timedOut)
    }

    /// True when `python3 -c "import module"` succeeds. Synchronous: it runs while the test plan
    /// is built (the suites' `.enabled(if:)`), before any test runs, so it may block its thread.
    public static func pythonCanImport(_ module: String) -> Bool {
        guard let child = try? SpawnedProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import \(module)"],
                                              outputPath: "/dev/null") else { return false }
        while child.isRunning { usleep(10_000) }
        return child.exitStatus == 0
    }

    /// `python3 arguments…` found on PATH, as `run` runs it.
    public static func python(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> ChildProcessResult {
        try await run(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments, timeout: timeout)
    }
}
