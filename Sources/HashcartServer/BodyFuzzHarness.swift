import Foundation

/// What the fuzzer (`scripts/fuzz.sh`, target `http`) and `BodyFuzzRegressionTests` do with one
/// input: decode it as every request body the API takes. Refusing is fine; what is not: a crash,
/// an error other than ``BodyError`` (it would be a 500), or an error message nobody can read.
public enum BodyFuzzHarness {
    static let decoders: [(name: String, decode: @Sendable (Data) throws -> Any)] = [
        ("CreateMerchantBody", { try StrictJSON.decode(CreateMerchantBody.self, from: $0) }),
        ("CreateCardholderBody", { try StrictJSON.decode(CreateCardholderBody.self, from: $0) }),
        ("CreateSandboxAccountBody", { try StrictJSON.decode(CreateSandboxAccountBody.self, from: $0) }),
        ("CreateSandboxPostBody", { try StrictJSON.decode(CreateSandboxPostBody.self, from: $0) }),
        ("CreateRepostBody", { try StrictJSON.decode(CreateRepostBody.self, from: $0) }),
        ("CreateOfferBody", { try StrictJSON.decode(CreateOfferBody.self, from: $0) }),
        ("CreateLinkBody", { try StrictJSON.decode(CreateLinkBody.self, from: $0) }),
        ("ShipOrderBody", { try StrictJSON.decode(ShipOrderBody.self, from: $0) }),
        ("RefundBody", { try StrictJSON.decode(RefundBody.self, from: $0) }),
        ("CreateWebhookEndpointBody", { try StrictJSON.decode(CreateWebhookEndpointBody.self, from: $0) }),
    ]

    /// Decodes `bytes` as every body type; returns how many accepted it.
    @discardableResult
    public static func run(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let data = Data(bytes)
        var accepted = 0
        for (name, decode) in decoders {
            do {
                _ = try decode(data)
                accepted += 1
            } catch let error as BodyError {
                precondition(!error.message.isEmpty && error.message.count <= 2_000, "\(name): an unreadable error: \(error.message.prefix(200))")
                precondition((error.param?.count ?? 0) <= 200, "\(name): an unbounded param in the error")
            } catch {
                preconditionFailure("\(name): \(type(of: error)) escaped strict decoding (the API would answer 500): \(error)")
            }
        }
        return accepted
    }
}
