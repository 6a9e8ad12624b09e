import HashcartCore

/// What the fast scan of one Jetstream line found.
public struct JetstreamScan: Sendable, Hashable {
    /// The event's `time_us`: Jetstream's cursor, in microseconds since 1970.
    public var timeMicroseconds: Int64
    /// Whether the engine needs this event (then ``JetstreamDecoder`` decodes it in full).
    public var isRelevant: Bool

    public init(timeMicroseconds: Int64, isRelevant: Bool) {
        self.timeMicroseconds = timeMicroseconds
        self.isRelevant = isRelevant
    }
}

/// The edge filter for Bluesky's Jetstream: reads each line once, without building values, and
/// keeps only what the engine can act on.
///
/// Kept: posts whose hashtags (tag facets, `record.tags`, or `#tags` in the text) include a live
/// offer's; posts carrying a link code (`HC-…`); posts replying to the official account; reposts
/// of the official account's posts (confirmations); deletions of posts by watched authors (buyers
/// with an open purchase). Dropped: everything else (likes, follows, identity and account events,
/// the official account's own posts).
///
/// Every line is checked for well-formed structure (balanced, closed, no trailing bytes, at most
/// ``maximumLineBytes``); a line that is not is refused with a ``WireFormatError`` and changes nothing.
/// The filter assumes Jetstream's own JSON encoding, which never escapes `#` or ASCII letters.
public struct JetstreamFilter: Sendable {
    public static let maximumLineBytes = 256 * 1024

    public let officialDID: String
    public var matcher: HashtagMatcher
    public var watchedAuthorIDs: Set<String>
    private let officialURIPrefix: [UInt8]
    private let officialDIDBytes: [UInt8]

    public init(officialDID: String, interest: ConnectorInterest = ConnectorInterest()) {
        self.officialDID = officialDID
        self.officialDIDBytes = Array(officialDID.utf8)
        self.officialURIPrefix = Array("at://\(officialDID)/".utf8)
        self.matcher = HashtagMatcher(hashtags: interest.hashtagKeys)
        self.watchedAuthorIDs = interest.watchedAuthorIDs
    }

    private enum Collection { case post, repost, other }
    private enum Operation { case create, delete, other }

    /// Scans one line (one WebSocket text message).
    public func scan(_ line: UnsafeBufferPointer<UInt8>) throws(WireFormatError) -> JetstreamScan {
        guard line.count <= Self.maximumLineBytes else {
            throw WireFormatError(network: .bluesky, message: "a Jetstream event of \(line.count) bytes is over the \(Self.maximumLineBytes)-byte limit")
        }
        do {
            return try scanLine(line)
        } catch {
            throw WireFormatError(network: .bluesky, message: "malformed Jetstream event: \(error.message)", offset: error.offset)
        }
    }

    /// Scans one line given as bytes.
    public func scan(_ line: [UInt8]) throws(WireFormatError) -> JetstreamScan {
        try line.withUnsafeBufferPointer { (buffer) throws(WireFormatError) -> JetstreamScan in try scan(buffer) }
    }

    private func scanLine(_ line: UnsafeBufferPointer<UInt8>) throws(JSONScanError) -> JetstreamScan {
        var s = JSONScanner(line)
        try s.beginObject()
        var first = true
        var did: ByteSpan?
        var time: Int64?
        var kindIsCommit: Bool?
        var commit: (collection: Collection, operation: Operation, relevant: Bool)?
        while let key = try s.nextKey(&first) {
            if s.equals(key, "did") {
                did = try s.readString()
            } else if s.equals(key, "time_us") {
                time = try s.readInt64()
            } else if s.equals(key, "kind") {
                kindIsCommit = s.equals(try s.readString(), "commit")
            } else if s.equals(key, "commit") {
                commit = try scanCommit(&s)
            } else {
                try s.skipValue()
            }
        }
        try s.expectEnd()
        guard let did, did.count > 4, let time, let kindIsCommit else {
            throw JSONScanError(message: "an event needs did, time_us and kind", offset: 0)
        }
        guard time >= 0 else { throw JSONScanError(message: "time_us is negative", offset: 0) }
        guard kindIsCommit, let commit else { return JetstreamScan(timeMicroseconds: time, isRelevant: false) }
        // The official account's own posts and reposts come back on the firehose: never purchases.
        if did.count == officialDIDBytes.count, s.hasPrefix(did, officialDIDBytes) {
            return JetstreamScan(timeMicroseconds: time, isRelevant: false)
        }
        switch (commit.collection, commit.operation) {
        case (.post, .create), (.repost, .create):
            return JetstreamScan(timeMicroseconds: time, isRelevant: commit.relevant)
        case (.post, .delete):
            guard !watchedAuthorIDs.isEmpty else { return JetstreamScan(timeMicroseconds: time, isRelevant: false) }
            let author = try s.string(did)
            return JetstreamScan(timeMicroseconds: time, isRelevant: watchedAuthorIDs.contains(author))
        default:
            return JetstreamScan(timeMicroseconds: time, isRelevant: false)
        }
    }

    private func scanCommit(_ s: inout JSONScanner) throws(JSONScanError) -> (collection: Collection, operation: Operation, relevant: Bool) {
        try s.beginObject()
        var first = true
        var collection: Collection?
        var operation = Operation.other
        var relevant = false
        var deferredRecord: Int?
        while let key = try s.nextKey(&first) {
            if s.equals(key, "operation") {
                let value = try s.readString()
                operation = s.equals(value, "create") ? .create : s.equals(value, "delete") ? .delete : .other
            } else if s.equals(key, "collection") {
                let value = try s.readString()
                collection = s.equals(value, "app.bsky.feed.post") ? .post : s.equals(value, "app.bsky.feed.repost") ? .repost : .other
            } else if s.equals(key, "record") {
                if let collection {
                    relevant = try scanRecord(&s, collection: collection)
                } else {
                    // The collection comes after the record: come back to it.
                    s.skipWhitespace()
                    deferredRecord = s.position
                    try s.skipValue()
                }
            } else {
                try s.skipValue()
            }
        }
        let resolved = collection ?? .other
        if let deferredRecord {
            var again = s
            again.position = deferredRecord
            relevant = try scanRecord(&again, collection: resolved)
        }
        return (resolved, operation, relevant)
    }

    private func scanRecord(_ s: inout JSONScanner, collection: Collection) throws(JSONScanError) -> Bool {
        switch collection {
        case .post: return try scanPost(&s)
        case .repost: return try scanRepost(&s)
        case .other:
            try s.skipValue()
            return false
        }
    }

    /// `app.bsky.feed.post`: text, facets[].features[].tag, tags[], reply.parent.uri.
    private func scanPost(_ s: inout JSONScanner) throws(JSONScanError) -> Bool {
        guard s.peek() == UInt8(ascii: "{") else {
            try s.skipValue()
            return false
        }
        try s.beginObject()
        var first = true
        var relevant = false
        while let key = try s.nextKey(&first) {
            if s.equals(key, "text"), s.peek() == UInt8(ascii: "\"") {
                let text = try s.readString()
                if !relevant { relevant = try textIsRelevant(text, s) }
            } else if s.equals(key, "facets"), s.peek() == UInt8(ascii: "[") {
                if try scanFacets(&s) { relevant = true }
            } else if s.equals(key, "tags"), s.peek() == UInt8(ascii: "[") {
                try s.beginArray()
                var firstTag = true
                while try s.nextElement(&firstTag) {
                    if s.peek() == UInt8(ascii: "\"") {
                        if try tagIsLive(try s.readString(), s) { relevant = true }
                    } else {
                        try s.skipValue()
                    }
                }
            } else if s.equals(key, "reply"), s.peek() == UInt8(ascii: "{") {
                if try scanReply(&s) { relevant = true }
            } else {
                try s.skipValue()
            }
        }
        return relevant
    }

    private func textIsRelevant(_ text: ByteSpan, _ s: JSONScanner) throws(JSONScanError) -> Bool {
        if s.contains(text, "HC-") { return true }
        guard !matcher.isEmpty else { return false }
        // No '#' and no full-width '＃' (whose first byte is 0xEF): no tag at all.
        let raw = UnsafeBufferPointer(start: s.base + text.start, count: text.count)
        guard raw.contains(0x23) || raw.contains(0xEF) else { return false }
        return try s.withUnescapedBytes(text) { bytes in matcher.matches(text: bytes) }
    }

    private func tagIsLive(_ tag: ByteSpan, _ s: JSONScanner) throws(JSONScanError) -> Bool {
        guard !matcher.isEmpty else { return false }
        return try s.withUnescapedBytes(tag) { bytes in matcher.matches(tag: bytes) }
    }

    /// facets: [{index: {...}, features: [{$type, tag}]}]; any feature's `tag` counts.
    private func scanFacets(_ s: inout JSONScanner) throws(JSONScanError) -> Bool {
        var relevant = false
        try s.beginArray()
        var firstFacet = true
        while try s.nextElement(&firstFacet) {
            guard s.peek() == UInt8(ascii: "{") else {
                try s.skipValue()
                continue
            }
            try s.beginObject()
            var firstKey = true
            while let key = try s.nextKey(&firstKey) {
                guard s.equals(key, "features"), s.peek() == UInt8(ascii: "[") else {
                    try s.skipValue()
                    continue
                }
                try s.beginArray()
                var firstFeature = true
                while try s.nextElement(&firstFeature) {
                    guard s.peek() == UInt8(ascii: "{") else {
                        try s.skipValue()
                        continue
                    }
                    try s.beginObject()
                    var firstField = true
                    while let field = try s.nextKey(&firstField) {
                        if s.equals(field, "tag"), s.peek() == UInt8(ascii: "\"") {
                            if try tagIsLive(try s.readString(), s) { relevant = true }
                        } else {
                            try s.skipValue()
                        }
                    }
                }
            }
        }
        return relevant
    }

    /// reply: {root: {uri, cid}, parent: {uri, cid}}: relevant when the parent is the official account's.
    private func scanReply(_ s: inout JSONScanner) throws(JSONScanError) -> Bool {
        var relevant = false
        try s.beginObject()
        var first = true
        while let key = try s.nextKey(&first) {
            if s.equals(key, "parent"), s.peek() == UInt8(ascii: "{") {
                if try strongRefIsOfficial(&s) { relevant = true }
            } else {
                try s.skipValue()
            }
        }
        return relevant
    }

    /// `app.bsky.feed.repost`: relevant when `subject.uri` is one of the official account's posts.
    private func scanRepost(_ s: inout JSONScanner) throws(JSONScanError) -> Bool {
        guard s.peek() == UInt8(ascii: "{") else {
            try s.skipValue()
            return false
        }
        var relevant = false
        try s.beginObject()
        var first = true
        while let key = try s.nextKey(&first) {
            if s.equals(key, "subject"), s.peek() == UInt8(ascii: "{") {
                if try strongRefIsOfficial(&s) { relevant = true }
            } else {
                try s.skipValue()
            }
        }
        return relevant
    }

    /// A strongRef `{uri, cid}` whose uri is `at://<official DID>/…`.
    private func strongRefIsOfficial(_ s: inout JSONScanner) throws(JSONScanError) -> Bool {
        var official = false
        try s.beginObject()
        var first = true
        while let key = try s.nextKey(&first) {
            if s.equals(key, "uri"), s.peek() == UInt8(ascii: "\"") {
                official = s.hasPrefix(try s.readString(), officialURIPrefix)
            } else {
                try s.skipValue()
            }
        }
        return official
    }
}
