import Foundation
import HashcartConnectors
import Testing

/// Every input in Fuzz/corpus (the seeds) and Fuzz/regressions (crashes the fuzzers once found)
/// goes through the fuzz harness again on every `swift test`: each may be refused, none may crash.
@Suite("Fuzz corpus and regressions")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    @Test("each target replays its seeds and regressions without crashing", arguments: FuzzHarness.targets)
    func replay(_ target: String) throws {
        var count = 0
        for folder in ["corpus", "regressions"] {
            let directory = Self.root.appendingPathComponent(folder).appendingPathComponent(target)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where !name.hasPrefix(".") {
                let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
                bytes.withUnsafeBytes { FuzzHarness.run(target, $0.bindMemory(to: UInt8.self)) }
                count += 1
            }
        }
        #expect(count >= 5, "the \(target) seed corpus is committed")
    }
}
