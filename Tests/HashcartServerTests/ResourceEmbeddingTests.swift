import Foundation
import HashcartEngine
import HashcartServer
import Testing

/// The binary carries its data compiled in; the compiled copies are the files in the repository.
@Suite struct ResourceEmbeddingTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func source(_ path: String) throws -> String {
        var text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    @Test func theCompiledOpenAPIDocumentIsTheFile() throws {
        #expect(HashcartRouter.openAPIDocument == (try source("Sources/HashcartServer/Resources/openapi.yaml")),
                "openapi.yaml changed: run scripts/embed-resources.sh")
    }

    @Test func theCompiledTaxTableIsTheFile() throws {
        #expect(BundledTaxTable.csv == (try source("Sources/HashcartEngine/Resources/us-sales-tax-rates.csv")),
                "us-sales-tax-rates.csv changed: run scripts/embed-resources.sh")
        _ = try BundledTaxTable.load()
    }
}
