import Foundation
import HashcartServer
import Testing

/// Every input in Fuzz/corpus/http (the seeds) and Fuzz/regressions/http (crashes the fuzzer once
/// found) goes through every request body type again on every `swift test`: each may be refused
/// with a readable ``BodyError``, none may crash or escape as another error (a 500).
@Suite("HTTP body fuzz corpus and regressions")
struct BodyFuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    @Test("the http target's seeds and regressions replay; each valid seed is accepted by its body type")
    func replay() throws {
        var count = 0
        var acceptedSomewhere = 0
        for folder in ["corpus", "regressions"] {
            let directory = Self.root.appendingPathComponent(folder).appendingPathComponent("http")
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where !name.hasPrefix(".") {
                let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
                let accepted = bytes.withUnsafeBytes { BodyFuzzHarness.run($0.bindMemory(to: UInt8.self)) }
                if accepted > 0 { acceptedSomewhere += 1 }
                count += 1
            }
        }
        #expect(count >= 10, "the http seed corpus is committed")
        // The seeds are real bodies (all but the hostile one): the fuzzer starts from accepted inputs.
        #expect(acceptedSomewhere >= count - 1)
    }
}
