import Foundation
import HashcartTestSupport
import Testing

/// The tests' own way of starting programs (`SpawnedProcess`, over `posix_spawn`): it must work
/// however many descriptors the test process holds (Foundation's `Process` crashed the whole run
/// near 1,360), give none of them to the child, and report exits as a shell does.
@Suite struct SpawnedProcessTests {
    static let shell = URL(fileURLWithPath: "/bin/sh")

    @Test func startsWithThousandsOfDescriptorsOpenAndTheChildInheritsNone() async throws {
        DescriptorLimit.raise()
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        for _ in 0..<1_500 {
            let descriptor = open("/dev/null", O_RDONLY)  // no O_CLOEXEC: inherited unless closed
            try #require(descriptor >= 0, "could not open /dev/null: errno \(errno)")
            held.append(descriptor)
        }
        let result = try await ChildProcess.run(Self.shell, ["-c", "ls /proc/$$/fd"])
        #expect(result.status == 0, "\(result)")
        // Standard input, output and error, and at most the listing's own (3): none of the 1,500.
        let listed = result.stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(Set(listed).isSuperset(of: [0, 1, 2]) && listed.allSatisfy { $0 <= 3 }, "\(result)")
    }

    @Test func exitStatusesAndSignalsAreReportedAsAShellDoes() async throws {
        let three = try await ChildProcess.run(Self.shell, ["-c", "echo out; echo err >&2; exit 3"])
        #expect(three.status == 3 && three.stdout == "out\n" && three.stderr == "err\n", "\(three)")

        let folder = TemporaryFolder("spawn")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        let sleeper = try SpawnedProcess(Self.shell, ["-c", "echo started; exec sleep 60"], outputPath: folder.file("out"))
        #expect(sleeper.isRunning)
        #expect(await sleeper.waitForExit(timeout: .milliseconds(200)) == nil)
        #expect(await sleeper.kill() == 128 + SIGKILL)
        #expect(!sleeper.isRunning && sleeper.output == "started\n")

        let stubborn = try await ChildProcess.run(Self.shell, ["-c", "trap '' TERM; sleep 30"], timeout: .milliseconds(300))
        #expect(stubborn.timedOut && stubborn.status == 128 + SIGKILL, "\(stubborn)")

        #expect(throws: SpawnError.self) {
            _ = try SpawnedProcess(URL(fileURLWithPath: "/nonexistent/program"), [], outputPath: folder.file("none"))
        }
        #expect(throws: SpawnError.self) {
            _ = try SpawnedProcess(Self.shell, ["-c", "true"], outputPath: "/nonexistent/folder/out")
        }
    }
}
