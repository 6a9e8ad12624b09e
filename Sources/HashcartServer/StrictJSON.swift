import Foundation

/// Request bodies Hashcart accepts: every field it knows is listed, anything else is refused.
public protocol StrictDecodable: Decodable {
    /// Every top-level field accepted.
    static var fields: Set<String> { get }
    /// For fields holding an object: every field that object accepts.
    static var nestedFields: [String: Set<String>] { get }
    /// For fields holding an array of objects: every field each object accepts.
    static var nestedArrayFields: [String: Set<String>] { get }
}

extension StrictDecodable {
    public static var nestedFields: [String: Set<String>] { [:] }
    public static var nestedArrayFields: [String: Set<String>] { [:] }
}

/// Bounds on what a request may carry.
public enum RequestLimits {
    /// Largest request body accepted (64 KiB); larger gets 413.
    public static let maximumBodyBytes = 64 * 1024
    /// Most items a list returns per page.
    public static let maximumPageSize = 100
}

/// Why a request body was refused: what a person reads, the field it is about, and a stable code.
/// The router turns it into the API's 400 error (``APIError``); the fuzzer checks it stays readable.
public struct BodyError: Error, Sendable, Hashable {
    public var message: String
    public var param: String?
    public var code: String

    public init(_ message: String, param: String? = nil, code: String = "parameter_invalid") {
        self.message = message
        self.param = param
        self.code = code
    }
}

/// Strict decoding of request bodies, on Foundation alone (no HTTP types): a JSON object with only
/// known fields, each of the right type.
public enum StrictJSON {
    public static func decode<T: StrictDecodable>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else { throw BodyError("The request body is empty; send a JSON object.", code: "body_missing") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw BodyError("The request body is not valid JSON.", code: "body_not_json")
        }
        guard let fields = object as? [String: Any] else {
            throw BodyError("The request body must be a JSON object.", code: "body_not_object")
        }
        if let unknown = fields.keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw BodyError("Unknown field `\(unknown.prefix(64))`; accepted fields are \(T.fields.sorted().joined(separator: ", ")).",
                                   param: String(unknown.prefix(64)), code: "parameter_unknown")
        }
        // null is not a value: an optional field is left out, never sent as null (the OpenAPI
        // document has no nullable request field, and a null must not mean two things).
        if let null = fields.keys.sorted().first(where: { fields[$0] is NSNull }) {
            throw BodyError("Field `\(null.prefix(64))` is null; leave an optional field out instead.", param: String(null.prefix(64)))
        }
        for (field, accepted) in T.nestedFields {
            guard let value = fields[field] else { continue }
            try checkNested(value, at: field, accepts: accepted)
        }
        for (field, accepted) in T.nestedArrayFields {
            guard let value = fields[field] else { continue }
            guard let items = value as? [Any] else { throw BodyError("Field `\(field)` must be an array.", param: field) }
            for (index, item) in items.enumerated() { try checkNested(item, at: "\(field).\(index)", accepts: accepted) }
        }
        // No field of the API is fractional (amounts are minor units): name the first one sent so,
        // where the decoder would only say the data was not valid.
        if let path = firstFractionalNumber(in: fields, at: "") {
            throw BodyError("Field `\(path)` must be a whole number (amounts are in minor units: 1999 for $19.99).", param: path)
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw describe(error)
        }
    }

    /// The path of the first number (by sorted key, then index) that is not a whole number an
    /// Int64 holds, or nil. Nesting is bounded by JSONSerialization's own depth limit.
    static func firstFractionalNumber(in value: Any, at path: String) -> String? {
        func join(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        switch value {
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                if let found = firstFractionalNumber(in: object[key]!, at: join(String(key.prefix(64)))) { return found }
            }
        case let array as [Any]:
            for (index, item) in array.enumerated() {
                if let found = firstFractionalNumber(in: item, at: join(String(index))) { return found }
            }
        case let number as NSNumber where !(value is String):
            let double = number.doubleValue
            // Whole and inside Int64 (compared as doubles: 2^63 itself is out of range).
            if double != double.rounded(.towardZero) || double >= 9.223372036854775807e18 || double < -9.223372036854775808e18 {
                return path
            }
        default:
            break
        }
        return nil
    }

    /// A nested object at `path` (`address`, `transactions.3`): an object, only known fields, no nulls.
    static func checkNested(_ value: Any, at path: String, accepts accepted: Set<String>) throws {
        guard let nested = value as? [String: Any] else { throw BodyError("Field `\(path)` must be an object.", param: path) }
        if let unknown = nested.keys.sorted().first(where: { !accepted.contains($0) }) {
            let param = "\(path).\(unknown.prefix(64))"
            throw BodyError("Unknown field `\(param)`; accepted fields are \(accepted.sorted().joined(separator: ", ")).",
                            param: param, code: "parameter_unknown")
        }
        if let null = nested.keys.sorted().first(where: { nested[$0] is NSNull }) {
            let param = "\(path).\(null.prefix(64))"
            throw BodyError("Field `\(param)` is null; leave an optional field out instead.", param: param)
        }
    }

    static func describe(_ error: DecodingError) -> BodyError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let param = path(context.codingPath + [key])
            return BodyError("Missing required field `\(param)`.", param: param, code: "parameter_missing")
        case .typeMismatch(let expected, let context):
            let param = path(context.codingPath)
            return BodyError("Field `\(param)` must be \(describe(expected)).", param: param)
        case .valueNotFound(let expected, let context):
            let param = path(context.codingPath)
            return BodyError("Field `\(param)` must be \(describe(expected)), not null.", param: param)
        case .dataCorrupted(let context):
            let param = path(context.codingPath)
            return BodyError(param.isEmpty ? "The request body is malformed: \(context.debugDescription.prefix(200))"
                                          : "Field `\(param)` is malformed: \(context.debugDescription.prefix(200))",
                            param: param.isEmpty ? nil : param)
        @unknown default:
            return BodyError("The request body is malformed.")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int64.Type, is Int.Type: "an integer"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        default: "a \(type)"
        }
    }
}
