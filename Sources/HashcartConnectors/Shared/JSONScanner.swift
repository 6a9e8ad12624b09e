#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a JSON string sits in the scanned bytes, without its quotes.
struct ByteSpan: Sendable, Hashable {
    var start: Int
    var count: Int
    /// Whether the raw bytes hold a backslash escape (then ``JSONScanner/string(_:)`` unescapes).
    var escaped: Bool
    var end: Int { start + count }
}

/// Why the scanner stopped: a static message and the byte offset.
struct JSONScanError: Error, Sendable {
    var message: StaticString
    var offset: Int
}

/// A forward-only reader over the bytes of one JSON document that reads the few fields a filter
/// needs and skips the rest without building any value. Strings are skipped with `memchr`; nesting
/// is bounded (``maximumDepth``); every container must close before the bytes end, so truncated
/// and garbled input is refused.
///
/// It decides relevance fast; it is not a validator. Whatever a connector passes on to the engine
/// is decoded again, strictly, by `JSONDecoder`.
struct JSONScanner {
    static let maximumDepth = 64

    let base: UnsafePointer<UInt8>
    let end: Int
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no base address; point at a static byte so reads stay defined.
        base = bytes.baseAddress ?? JSONScanner.emptyBase
        end = bytes.count
    }

    // Never written after it is made: immutable shared state.
    nonisolated(unsafe) private static let emptyByte: UnsafeMutablePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return pointer
    }()
    private static var emptyBase: UnsafePointer<UInt8> { UnsafePointer(emptyByte) }

    @inline(__always) func byte(at index: Int) -> UInt8 { base[index] }

    func fail(_ message: StaticString) -> JSONScanError { JSONScanError(message: message, offset: position) }

    @inline(__always) mutating func skipWhitespace() {
        while position < end {
            let b = base[position]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            position += 1
        }
    }

    /// The next significant byte, without consuming it; `nil` at the end.
    @inline(__always) mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < end ? base[position] : nil
    }

    @inline(__always) mutating func expect(_ expected: UInt8, _ message: StaticString) throws(JSONScanError) {
        skipWhitespace()
        guard position < end, base[position] == expected else { throw fail(message) }
        position += 1
    }

    /// Requires that nothing but whitespace follows the document.
    mutating func expectEnd() throws(JSONScanError) {
        skipWhitespace()
        guard position == end else { throw fail("unexpected bytes after the JSON value") }
    }

    // MARK: Strings

    /// Reads a string at the current position and returns where its contents are.
    mutating func readString() throws(JSONScanError) -> ByteSpan {
        skipWhitespace()
        guard position < end, base[position] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        let start = position + 1
        var cursor = start
        var escaped = false
        while true {
            guard cursor < end, let found = memchr(base + cursor, 0x22, end - cursor) else {
                position = end
                throw fail("truncated JSON: the input ends inside a string")
            }
            let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            // A quote preceded by an odd run of backslashes is escaped: keep looking.
            var backslashes = 0
            while quote - backslashes - 1 >= start, base[quote - backslashes - 1] == 0x5C { backslashes += 1 }
            if backslashes % 2 == 1 {
                escaped = true
                cursor = quote + 1
                continue
            }
            if !escaped, memchr(base + start, 0x5C, quote - start) != nil { escaped = true }
            position = quote + 1
            return ByteSpan(start: start, count: quote - start, escaped: escaped)
        }
    }

    /// Whether a span's raw bytes equal `literal` (keys and enum values, which never need escapes).
    @inline(__always) func equals(_ span: ByteSpan, _ literal: StaticString) -> Bool {
        span.count == literal.utf8CodeUnitCount && memcmp(base + span.start, literal.utf8Start, span.count) == 0
    }

    /// Whether a span's raw bytes start with `prefix`.
    func hasPrefix(_ span: ByteSpan, _ prefix: [UInt8]) -> Bool {
        span.count >= prefix.count && prefix.withUnsafeBufferPointer { memcmp(base + span.start, $0.baseAddress!, prefix.count) == 0 }
    }

    /// Whether a span contains `needle`.
    func contains(_ span: ByteSpan, _ needle: StaticString) -> Bool {
        ByteSearch.find(needle.utf8Start, needle.utf8CodeUnitCount, in: base + span.start, span.count) != nil
    }

    /// The span's bytes, unescaped, passed to `body`. Refuses bad escapes and lone surrogates.
    func withUnescapedBytes<R>(_ span: ByteSpan, _ body: (UnsafeBufferPointer<UInt8>) throws(JSONScanError) -> R) throws(JSONScanError) -> R {
        if !span.escaped { return try body(UnsafeBufferPointer(start: base + span.start, count: span.count)) }
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        var index = span.start
        while index < span.end {
            let b = base[index]
            guard b == 0x5C else {
                out.append(b)
                index += 1
                continue
            }
            guard index + 1 < span.end else { throw JSONScanError(message: "bad escape in a string", offset: index) }
            let kind = base[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(kind)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: index, limit: span.end)
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    guard index + 6 <= span.end, base[index] == 0x5C, base[index + 1] == UInt8(ascii: "u") else {
                        throw JSONScanError(message: "a lone surrogate in a \\u escape", offset: index)
                    }
                    let low = try hex4(at: index + 2, limit: span.end)
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw JSONScanError(message: "a lone surrogate in a \\u escape", offset: index)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw JSONScanError(message: "a lone surrogate in a \\u escape", offset: index)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw JSONScanError(message: "bad \\u escape", offset: index) }
                out.append(contentsOf: UTF8.encode(unicode)!)
            default:
                throw JSONScanError(message: "bad escape in a string", offset: index - 1)
            }
        }
        return try out.withUnsafeBufferPointer { (buffer) throws(JSONScanError) -> R in try body(buffer) }
    }

    private func hex4(at index: Int, limit: Int) throws(JSONScanError) -> UInt32 {
        guard index + 4 <= limit else { throw JSONScanError(message: "bad \\u escape", offset: index) }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let b = base[index + offset]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw JSONScanError(message: "bad \\u escape", offset: index)
            }
            value = value << 4 | digit
        }
        return value
    }

    /// The span as a Swift string; refuses invalid UTF-8.
    func string(_ span: ByteSpan) throws(JSONScanError) -> String {
        try withUnescapedBytes(span) { (bytes) throws(JSONScanError) -> String in
            guard let string = String(validating: bytes, as: UTF8.self) else {
                throw JSONScanError(message: "a string is not valid UTF-8", offset: span.start)
            }
            return string
        }
    }

    // MARK: Numbers

    /// Reads an integer (no fraction, no exponent) that fits in Int64.
    mutating func readInt64() throws(JSONScanError) -> Int64 {
        skipWhitespace()
        var negative = false
        if position < end, base[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let start = position
        var value: Int64 = 0
        while position < end, base[position] >= 0x30, base[position] <= 0x39 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(base[position] - 0x30))
            guard !o1, !o2 else { throw fail("an integer does not fit in 64 bits") }
            value = sum
            position += 1
        }
        guard position > start else { throw fail("expected an integer") }
        if position < end, base[position] == UInt8(ascii: ".") || base[position] == UInt8(ascii: "e") || base[position] == UInt8(ascii: "E") {
            throw fail("expected an integer, found a fraction")
        }
        return negative ? -value : value
    }

    // MARK: Containers

    /// Consumes `{`.
    mutating func beginObject() throws(JSONScanError) { try expect(UInt8(ascii: "{"), "expected an object") }

    /// The next key of the object being read (and consumes its `:`), or `nil` after its `}`.
    mutating func nextKey(_ first: inout Bool) throws(JSONScanError) -> ByteSpan? {
        skipWhitespace()
        guard position < end else { throw fail("truncated JSON: an object is not closed") }
        if base[position] == UInt8(ascii: "}") {
            position += 1
            return nil
        }
        if !first { try expect(UInt8(ascii: ","), "expected , or } in an object") }
        first = false
        let key = try readString()
        try expect(UInt8(ascii: ":"), "expected : after a key")
        return key
    }

    /// Consumes `[`.
    mutating func beginArray() throws(JSONScanError) { try expect(UInt8(ascii: "["), "expected an array") }

    /// Whether another element follows in the array being read (consumes `,`, or the closing `]`).
    mutating func nextElement(_ first: inout Bool) throws(JSONScanError) -> Bool {
        skipWhitespace()
        guard position < end else { throw fail("truncated JSON: an array is not closed") }
        if base[position] == UInt8(ascii: "]") {
            position += 1
            return false
        }
        if !first { try expect(UInt8(ascii: ","), "expected , or ] in an array") }
        first = false
        return true
    }

    /// Skips one value of any kind, checking that brackets balance and literals are well formed.
    mutating func skipValue() throws(JSONScanError) {
        skipWhitespace()
        guard position < end else { throw fail("truncated JSON: a value is missing") }
        switch base[position] {
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "{"), UInt8(ascii: "["): try skipContainer()
        default: try skipScalar()
        }
    }

    private mutating func skipScalar() throws(JSONScanError) {
        let start = position
        while position < end {
            let b = base[position]
            let isScalarByte = (b >= 0x30 && b <= 0x39) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "E")
            guard isScalarByte else { break }
            position += 1
        }
        let count = position - start
        let first = count > 0 ? base[start] : 0
        switch first {
        case UInt8(ascii: "t"): guard count == 4, memcmp(base + start, "true", 4) == 0 else { throw JSONScanError(message: "bad literal", offset: start) }
        case UInt8(ascii: "f"): guard count == 5, memcmp(base + start, "false", 5) == 0 else { throw JSONScanError(message: "bad literal", offset: start) }
        case UInt8(ascii: "n"): guard count == 4, memcmp(base + start, "null", 4) == 0 else { throw JSONScanError(message: "bad literal", offset: start) }
        case UInt8(ascii: "-"), 0x30...0x39: break
        default: throw JSONScanError(message: "expected a value", offset: start)
        }
    }

    /// Skips an object or array: strings by `memchr`, nesting tracked in a bit stack (1 = object).
    private mutating func skipContainer() throws(JSONScanError) {
        var stack: UInt64 = 0
        var depth = 0
        while position < end {
            let b = base[position]
            switch b {
            case UInt8(ascii: "\""):
                _ = try readString()
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth < Self.maximumDepth else { throw fail("JSON nested too deeply") }
                stack = stack << 1 | (b == UInt8(ascii: "{") ? 1 : 0)
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0, (stack & 1 == 1) == (b == UInt8(ascii: "}")) else { throw fail("brackets do not match") }
                stack >>= 1
                depth -= 1
                if depth == 0 {
                    position += 1
                    return
                }
            case UInt8(ascii: ","), UInt8(ascii: ":"), 0x20, 0x0A, 0x0D, 0x09:
                break
            default:
                try skipScalar()
                continue
            }
            position += 1
        }
        throw fail("truncated JSON: a container is not closed")
    }
}

/// `memmem` without the GNU extension: `memchr` for the first byte, then `memcmp`.
enum ByteSearch {
    static func find(_ needle: UnsafePointer<UInt8>, _ needleCount: Int, in haystack: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        guard needleCount > 0 else { return 0 }
        var index = 0
        while count - index >= needleCount, let found = memchr(haystack + index, Int32(needle[0]), count - index - needleCount + 1) {
            let at = haystack.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if memcmp(haystack + at, needle, needleCount) == 0 { return at }
            index = at + 1
        }
        return nil
    }
}
