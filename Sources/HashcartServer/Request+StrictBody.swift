import Foundation
import Hummingbird

extension Request {
    /// Reads the body (bounded) and decodes it strictly (``StrictJSON``). Every failure is a 400
    /// (413 when too large) saying what and where.
    public mutating func decodeStrict<T: StrictDecodable>(_ type: T.Type) async throws -> T {
        try await decodeStrict(type, emptyReadsAsObject: false)
    }

    /// As ``decodeStrict(_:)``, but no body at all reads as `{}` (for routes whose fields are all optional).
    public mutating func decodeStrictOrEmpty<T: StrictDecodable>(_ type: T.Type) async throws -> T {
        try await decodeStrict(type, emptyReadsAsObject: true)
    }

    private mutating func decodeStrict<T: StrictDecodable>(_ type: T.Type, emptyReadsAsObject: Bool) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: RequestLimits.maximumBodyBytes)
        } catch {
            throw APIError.bodyTooLarge
        }
        let data = emptyReadsAsObject && buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer.readableBytesView)
        do {
            return try StrictJSON.decode(type, from: data)
        } catch let error as BodyError {
            throw APIError.invalid(error.message, param: error.param, code: error.code)
        }
    }
}
