import Foundation
import Synchronization

/// Why a child process could not be started.
public enum ChildProcessError: Error, CustomStringConvertible {
    case tooManyOpenDescriptors(Int)

    public var description: String {
        switch self {
        case .tooManyOpenDescriptors(let open):
            "this test process held \(open) open file descriptors (at least \(ChildProcess.descriptorLimit), for up to 120 s: a leak?): Foundation's Process.run() crashes near 1,360, so no child was started"
        }
    }
}

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
        try await launch(process)

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

    /// Starts `process` once this test process holds few enough open file descriptors, one launch
    /// at a time.
    ///
    /// Foundation's `Process.run()` on Linux lists `/proc/self/fd` to close every descriptor in
    /// the child, copying each entry's whole 256-byte `d_name`; with about 1,360 descriptors open
    /// the last entry of readdir's 32 KiB buffer ends near the buffer's end and that copy reads
    /// past it (SIGSEGV in `memmove`, seen in CI while dozens of tests held SQLite stores and
    /// sockets at once). The peak is brief, at the start of a run, so a launch waits (at most
    /// 120 s) until fewer than ``descriptorLimit`` are open, then fails with a clear message.
    public static func launch(_ process: Process) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while let open = try startIfFewOpen(process) {
            guard clock.now < deadline else { throw ChildProcessError.tooManyOpenDescriptors(open) }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Starts `process` at once (for checks made while the test plan is built, before any test
    /// holds descriptors); fails rather than risk Foundation's crash when too many are open.
    public static func launchBeforeTests(_ process: Process) throws {
        if let open = try startIfFewOpen(process) { throw ChildProcessError.tooManyOpenDescriptors(open) }
    }

    /// Starts `process` unless ``descriptorLimit`` or more descriptors are open; returns how many
    /// were open when it did not. One launch at a time, so two cannot both pass the count.
    private static func startIfFewOpen(_ process: Process) throws -> Int? {
        try launchLock.withLock { _ in
            let open = openDescriptorCount()
            guard open < descriptorLimit else { return open }
            try process.run()
            return nil
        }
    }

    /// Open descriptors at or above which a launch waits (Foundation's crash starts near 1,360).
    /// With every suite started at once on PostgreSQL the suite holds 1,020–1,100 for minutes (a
    /// clean-clone CI run, 493 tests, measured when waiting launches were refused at 1,000); 1,150
    /// keeps 200 below the crash.
    public static let descriptorLimit = 1_150

    /// How many descriptors this process has open: the entries of `/proc/self/fd`, counted
    /// without copying their names.
    public static func openDescriptorCount() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        return max(0, count - 3)  // ".", ".." and the directory's own descriptor
    }

    private static let launchLock = Mutex<Void>(())

    /// True when `python3 -c "import module"` succeeds. Synchronous: it runs while the test plan
    /// is built (the suites' `.enabled(if:)`), before any test runs.
    public static func pythonCanImport(_ module: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import \(module)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? launchBeforeTests(process)) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// `python3 arguments…` found on PATH, as `run` runs it.
    public static func python(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> ChildProcessResult {
        try await run(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments, timeout: timeout)
    }
}
