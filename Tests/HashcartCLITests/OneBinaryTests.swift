import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HashcartTestSupport
import Testing

/// `hashcart` copied alone into an empty folder runs the demo and serves: nothing is looked up
/// beside it (the tax table and the OpenAPI document are compiled in).
@Suite struct OneBinaryTests {
    @Test func theBinaryCopiedAloneRunsTheDemoAndServes() async throws {
        let folder = TemporaryFolder("one-binary")
        try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
        let alone = folder.file("hashcart")
        try FileManager.default.copyItem(atPath: try HashcartBinary.require().path, toPath: alone)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["hashcart"])

        let demo = try SpawnedProcess(URL(fileURLWithPath: alone), ["demo", "--cardholders", "100", "--json", "--data", folder.file("demo")],
                                      outputPath: folder.file("demo.log"), directory: folder.path)
        let status = await demo.waitForExit(timeout: .seconds(300))
        let text = demo.output
        #expect(status == 0, "\(text.suffix(2000))")
        #expect(!text.contains("resource bundle"), "\(text.suffix(2000))")

        let instance = MultiInstanceTests.Instance(port: 0, arguments: [
            "serve", "--data", folder.file("serve"), "--port", "0", "--admin-token", "one-binary-admin-token-0123",
        ], log: folder.file("serve.log"), executable: URL(fileURLWithPath: alone))
        try await instance.start()
        defer { instance.stop() }
        try await MultiInstanceTests.waitHealthy(instance)
        let (data, _) = try await URLSession.shared.data(from: URL(string: instance.base + "/openapi.yaml")!)
        #expect(String(decoding: data, as: UTF8.self).hasPrefix("openapi: 3"))
    }
}
