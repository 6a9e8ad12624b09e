#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HashcartCore

/// Answers "does this tag belong to a live offer?" for raw UTF-8 bytes, millions of times a second.
///
/// Keys are ``Hashtag/key`` values (NFKC + case fold). An ASCII tag folds to its ASCII lowercase,
/// so it is hashed (FNV-1a) straight from the bytes with no allocation; a tag with any other
/// character (full-width letters, accents, other scripts) takes the exact path through
/// ``Hashtag/normalize(_:)``. Whole tags only: `BuyKindle` does not match `BuyKindleFire`.
public struct HashtagMatcher: Sendable {
    /// Hash of a key's bytes → the keys with that hash (almost always one).
    private let asciiKeys: [UInt64: [[UInt8]]]
    private let allKeys: Set<String>
    private let shortest: Int
    private let longest: Int

    /// A matcher for these hashtags (as written or already normalized; invalid ones are dropped).
    public init<S: Sequence>(hashtags: S) where S.Element == String {
        var keys = Set<String>()
        for tag in hashtags { if let parsed = try? Hashtag(tag) { keys.insert(parsed.key) } }
        var table: [UInt64: [[UInt8]]] = [:]
        for key in keys { table[Self.fnv1a(Array(key.utf8)), default: []].append(Array(key.utf8)) }
        asciiKeys = table
        allKeys = keys
        // The exact path's input can be longer than its key (NFKC may shorten it), so only ASCII
        // tags are checked against these bounds.
        shortest = keys.map(\.utf8.count).min() ?? Int.max
        longest = keys.map(\.utf8.count).max() ?? 0
    }

    public var isEmpty: Bool { allKeys.isEmpty }
    public var keys: Set<String> { allKeys }

    static func fnv1a<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// Whether the tag (UTF-8, without `#`) is one of the keys.
    public func matches(tag raw: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !allKeys.isEmpty, !raw.isEmpty else { return false }
        // Networks mark tags without `#`, but a client may keep it: `#Tag` is the tag `Tag`.
        var bytes = raw
        if raw[0] == 0x23 {
            bytes = UnsafeBufferPointer(rebasing: raw.dropFirst())
        } else if raw.count >= 3, raw[0] == 0xEF, raw[1] == 0xBC, raw[2] == 0x83 {
            bytes = UnsafeBufferPointer(rebasing: raw.dropFirst(3))
        }
        guard !bytes.isEmpty else { return false }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var ascii = true
        for b in bytes {
            guard b < 0x80 else {
                ascii = false
                break
            }
            let lower = (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
            hash = (hash ^ UInt64(lower)) &* 0x0000_0100_0000_01B3
        }
        if ascii {
            guard bytes.count >= shortest, bytes.count <= longest, let candidates = asciiKeys[hash] else { return false }
            return candidates.contains { candidate in
                candidate.count == bytes.count && zip(candidate, bytes).allSatisfy { $0 == ((($1 >= 0x41 && $1 <= 0x5A) ? $1 | 0x20 : $1)) }
            }
        }
        guard bytes.count <= Hashtag.maximumLength * 4 else { return false }
        return allKeys.contains(Hashtag.normalize(String(decoding: bytes, as: UTF8.self)))
    }

    /// Whether `text` (UTF-8) holds, as a whole tag, a hashtag that is one of the keys. Follows
    /// ``Hashtag/extract(from:limit:)``'s rules: a tag starts at `#` or `＃` not preceded by a tag
    /// character or one of `&/=?:.`, and runs to the first character that cannot be in a tag.
    public func matches(text bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !allKeys.isEmpty, let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        var index = 0
        let count = bytes.count
        // ASCII '#'.
        while index < count, let found = memchr(base + index, 0x23, count - index) {
            let hashAt = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if tagMatches(base, count, hashAt: hashAt, hashLength: 1) { return true }
            index = hashAt + 1
        }
        // Full-width '＃' (U+FF03, EF BC 83): rare, so a second pass costs little.
        index = 0
        let fullWidth: StaticString = "\u{FF03}"
        while index < count, let offset = ByteSearch.find(fullWidth.utf8Start, 3, in: base + index, count - index) {
            let hashAt = index + offset
            if tagMatches(base, count, hashAt: hashAt, hashLength: 3) { return true }
            index = hashAt + 3
        }
        return false
    }

    private func tagMatches(_ base: UnsafePointer<UInt8>, _ count: Int, hashAt: Int, hashLength: Int) -> Bool {
        if hashAt > 0 {
            let previous = base[hashAt - 1]
            if previous < 0x80 {
                if Self.isASCIITagByte(previous) || Self.isASCIIStopper(previous) { return false }
            } else if let scalar = Self.scalar(endingBefore: hashAt, in: base), Hashtag.isTagScalar(scalar) {
                return false
            }
        }
        var end = hashAt + hashLength
        while end < count {
            let b = base[end]
            if b < 0x80 {
                guard Self.isASCIITagByte(b) else { break }
                end += 1
            } else {
                guard let (scalar, length) = Self.scalar(startingAt: end, in: base, count: count), Hashtag.isTagScalar(scalar) else { break }
                end += length
            }
        }
        let start = hashAt + hashLength
        guard end > start else { return false }
        return matches(tag: UnsafeBufferPointer(start: base + start, count: end - start))
    }

    @inline(__always) static func isASCIITagByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    @inline(__always) static func isASCIIStopper(_ b: UInt8) -> Bool {
        b == 0x26 || b == 0x2F || b == 0x3D || b == 0x3F || b == 0x3A || b == 0x2E
    }

    /// Decodes the UTF-8 scalar at `index`; `nil` for invalid bytes (which end a tag).
    static func scalar(startingAt index: Int, in base: UnsafePointer<UInt8>, count: Int) -> (Unicode.Scalar, Int)? {
        let lead = base[index]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return nil
        }
        guard index + length <= count else { return nil }
        var decoder = UTF8()
        var iterator = UnsafeBufferPointer(start: base + index, count: length).makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return nil }
        return (scalar, length)
    }

    /// Decodes the UTF-8 scalar that ends just before `index`.
    static func scalar(endingBefore index: Int, in base: UnsafePointer<UInt8>) -> Unicode.Scalar? {
        var start = index - 1
        while start > 0, index - start < 4, base[start] & 0xC0 == 0x80 { start -= 1 }
        guard let (scalar, length) = scalar(startingAt: start, in: base, count: index), start + length == index else { return nil }
        return scalar
    }
}
