import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why a child process could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public var executable: String
    public var errno: Int32
    public var step: String

    public var description: String {
        "could not start \(executable): \(step) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// A child process started with `posix_spawn`, its standard input `/dev/null`, its standard
/// output and error appended to files (one file for both, or one each).
///
/// Why not Foundation's `Process`: on Linux its `run()` lists `/proc/self/fd` to close every
/// descriptor in the child and, with about 1,360 descriptors open in the test process, reads past
/// readdir's buffer and crashes the whole test run (SIGSEGV in `memmove`, seen in CI while
/// hundreds of tests held stores and sockets at once). Here the child closes every inherited
/// descriptor from 3 up with glibc's `posix_spawn_file_actions_addclosefrom_np` (the kernel's
/// `close_range`), which does not list anything, so no count of open descriptors matters.
///
/// Only this type reaps its children (`waitpid` on its own pid), so nothing else in the test
/// process may wait for any child (`waitpid(-1)`): nothing here uses Foundation's `Process`.
public final class SpawnedProcess: Sendable {
    /// The child's process id.
    public let pid: pid_t
    /// The file standard output goes to.
    public let outputPath: String
    /// The file standard error goes to (the same as `outputPath` unless given apart).
    public let errorPath: String
    private let exit = Mutex<Int32?>(nil)

    /// Starts `executable arguments…` with `environment` (the inherited one when nil), in
    /// `directory` (the test process's when nil). Standard output is appended to `outputPath`,
    /// standard error to `errorPath` (to `outputPath` too when nil); each is created when missing.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                outputPath: String, errorPath: String? = nil, directory: String? = nil) throws {
        let path = executable.path
        self.outputPath = outputPath
        self.errorPath = errorPath ?? outputPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        func check(_ result: Int32, _ step: String) throws {
            if result != 0 { throw SpawnError(executable: path, errno: result, step: step) }
        }
        try check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "opening /dev/null")
        try check(posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644), "opening \(outputPath)")
        if let errorPath {
            try check(posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644), "opening \(errorPath)")
        } else {
            try check(posix_spawn_file_actions_adddup2(&actions, 1, 2), "dup2")
        }
        if let directory {
            guard let addchdir = Self.addchdir else { throw SpawnError(executable: path, errno: ENOSYS, step: "changing directory") }
            try check(addchdir(&actions, directory), "changing directory to \(directory)")
        }
        guard let closefrom = Self.closefrom else { throw SpawnError(executable: path, errno: ENOSYS, step: "closing inherited descriptors") }
        try check(closefrom(&actions, 3), "closing inherited descriptors")

        // Signals as a fresh program expects them: none blocked, every disposition default (the
        // test process ignores SIGPIPE, and an ignored signal would stay ignored across exec).
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        try check(posix_spawnattr_setsigmask(&attributes, &none), "setting the signal mask")
        try check(posix_spawnattr_setsigdefault(&attributes, &all), "setting default signals")
        try check(posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)), "setting spawn flags")

        let argv = ([path] + arguments).map { strdup($0) }
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        // ETXTBSY: a program just written (a test copies the binary) can be briefly held open for
        // writing by another test's child between its fork and its exec, before the child closes
        // what it inherited. Retried, bounded (up to 1 s), as Go's os/exec does.
        var result: Int32 = ETXTBSY
        for attempt in 0..<50 where result == ETXTBSY {
            if attempt > 0 { usleep(20_000) }
            result = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
                (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                    posix_spawn(&child, path, &actions, &attributes,
                                UnsafeMutablePointer(mutating: argvBuffer.baseAddress!),
                                UnsafeMutablePointer(mutating: envpBuffer.baseAddress!))
                }
            }
        }
        try check(result, "posix_spawn")
        pid = child
    }

    /// True until the child has exited (and been reaped).
    public var isRunning: Bool { exitStatus == nil }

    /// The child's exit status once it has exited, nil while it runs. Killed by a signal: 128
    /// plus the signal's number, as a shell reports it.
    public var exitStatus: Int32? {
        exit.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            guard reaped == pid else {
                // -1 (ECHILD): reaped elsewhere, which nothing here does; say so rather than hang.
                if reaped == -1 { status = -1 }
                return status
            }
            let signal = raw & 0x7f
            status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            return status
        }
    }

    /// Sends `signal` to the child, unless it has already been reaped (its pid may be reused).
    public func signal(_ signal: Int32) {
        exit.withLock { status in
            if status == nil { _ = Glibc.kill(pid, signal) }
        }
    }

    /// Waits without holding a thread (polling every 20 ms) for the child to exit; nil when it
    /// still runs after `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = exitStatus { return status }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGTERM, then SIGKILL if the child still runs after `grace`; waits until it is reaped.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> Int32 {
        signal(SIGTERM)
        if let status = await waitForExit(timeout: grace) { return status }
        return await kill()
    }

    /// SIGKILL (a crash: no shutdown, no flush); waits until the child is reaped.
    @discardableResult
    public func kill() async -> Int32 {
        signal(SIGKILL)
        while true {
            if let status = await waitForExit(timeout: .seconds(60)) { return status }
        }
    }

    /// As ``stop(grace:)``, blocking the calling thread: only for a `defer` or `deinit`, which
    /// cannot wait asynchronously.
    @discardableResult
    public func stopBlocking(grace: Duration = .seconds(10)) -> Int32 {
        signal(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if let status = exitStatus { return status }
            usleep(5_000)
        }
        return killBlocking()
    }

    /// As ``kill()``, blocking the calling thread.
    @discardableResult
    public func killBlocking() -> Int32 {
        signal(SIGKILL)
        while true {
            if let status = exitStatus { return status }
            usleep(5_000)
        }
    }

    /// Everything the child has printed so far.
    public var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    private typealias FileAction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChdirAction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, declared only under `_GNU_SOURCE`,
    /// which Swift's Glibc module does not set: found by name instead.
    private static let closefrom: FileAction? = symbol("posix_spawn_file_actions_addclosefrom_np")
    /// glibc 2.29's `posix_spawn_file_actions_addchdir_np`, likewise.
    private static let addchdir: ChdirAction? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: T.self)
    }
}
