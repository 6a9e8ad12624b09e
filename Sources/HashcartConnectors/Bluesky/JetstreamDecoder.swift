import Foundation
import HashcartCore

/// Decodes a Jetstream v1 event in full (strict JSON, every field type checked) into the engine's
/// ``NetworkEvent``. Used on the few lines ``JetstreamFilter`` keeps, and by `hashcart replay`.
///
/// Ids are AT URIs: a post is `at://<did>/app.bsky.feed.post/<rkey>`, a repost
/// `at://<did>/app.bsky.feed.repost/<rkey>`. The author is the DID (stable; handles change). The
/// event's time is Jetstream's `time_us` (when the relay saw it), not the client-chosen `createdAt`.
public enum JetstreamDecoder {
    public static let postCollection = "app.bsky.feed.post"
    public static let repostCollection = "app.bsky.feed.repost"

    /// A decoded event with what a reply to it needs: the post's CID and its thread's root.
    public struct Decoded: Sendable, Hashable {
        public var event: NetworkEvent
        /// The CID of the created record (a reply's strongRef needs it).
        public var cid: String?
        /// For a reply: the root of its thread (`uri`, `cid`).
        public var replyRoot: BlueskyStrongRef?
    }

    /// The event, or `nil` for events the engine has no use for (likes, follows, identity, …).
    public static func decode(_ line: some DataProtocol) throws(WireFormatError) -> NetworkEvent? {
        try decodeWithReferences(line)?.event
    }

    /// Like ``decode(_:)``, with the record's CID and reply root.
    public static func decodeWithReferences(_ line: some DataProtocol) throws(WireFormatError) -> Decoded? {
        let bytes = Data(line)
        guard bytes.count <= JetstreamFilter.maximumLineBytes else {
            throw WireFormatError(network: .bluesky, message: "a Jetstream event of \(bytes.count) bytes is over the \(JetstreamFilter.maximumLineBytes)-byte limit")
        }
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: bytes)
        } catch {
            throw WireFormatError(network: .bluesky, message: "malformed Jetstream event: \(Wire.describe(error))")
        }
        return try envelope.networkEvent()
    }


    /// The DID in an AT URI (`at://<did>/<collection>/<rkey>`), if it is one.
    public static func did(inURI uri: String) -> String? {
        guard uri.hasPrefix("at://") else { return nil }
        let rest = uri.dropFirst(5)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let did = rest[..<slash]
        return isDID(did) ? String(did) : nil
    }

    static func isDID<S: StringProtocol>(_ value: S) -> Bool {
        value.hasPrefix("did:") && value.utf8.count <= 2_048
            && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }
    }

    /// Record keys: 1–512 of `A-Za-z0-9 . - _ : ~`, not `.` or `..`.
    static func isRecordKey(_ value: String) -> Bool {
        guard (1...512).contains(value.utf8.count), value != ".", value != ".." else { return false }
        return value.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":") || b == UInt8(ascii: "~")
        }
    }

    typealias StrongRef = BlueskyStrongRef

    struct Feature: Decodable {
        var type: String?
        var tag: String?
        enum CodingKeys: String, CodingKey {
            case type = "$type"
            case tag
        }
    }

    struct Facet: Decodable {
        var features: [Feature]
    }

    struct ReplyRef: Decodable {
        var root: StrongRef
        var parent: StrongRef
    }

    struct Embed: Decodable {
        var type: String?
        /// `app.bsky.embed.record`: a strongRef; `…recordWithMedia`: `{record: strongRef}`.
        var record: EmbeddedRecord?
        enum CodingKeys: String, CodingKey {
            case type = "$type"
            case record
        }
    }

    struct EmbeddedRecord: Decodable {
        var uri: String?
        var record: StrongRef?
    }

    struct Record: Decodable {
        var text: String?
        var facets: [Facet]?
        var tags: [String]?
        var reply: ReplyRef?
        var embed: Embed?
        var subject: StrongRef?
    }

    struct Commit: Decodable {
        var operation: String
        var collection: String
        var rkey: String
        var record: Record?
        var cid: String?

        enum CodingKeys: String, CodingKey { case operation, collection, rkey, record, cid }

        /// Records of other collections (likes, follows, …) have other shapes: they are not read.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            operation = try container.decode(String.self, forKey: .operation)
            collection = try container.decode(String.self, forKey: .collection)
            rkey = try container.decode(String.self, forKey: .rkey)
            cid = try container.decodeIfPresent(String.self, forKey: .cid)
            let known = collection == JetstreamDecoder.postCollection || collection == JetstreamDecoder.repostCollection
            record = known ? try container.decodeIfPresent(Record.self, forKey: .record) : nil
        }
    }

    struct Envelope: Decodable {
        var did: String
        var time_us: Int64
        var kind: String
        var commit: Commit?

        func networkEvent() throws(WireFormatError) -> Decoded? {
            func refuse(_ message: String) -> WireFormatError { WireFormatError(network: .bluesky, message: message) }
            guard JetstreamDecoder.isDID(did) else { throw refuse("\"did\" is not a DID") }
            guard time_us >= 0 else { throw refuse("time_us is negative") }
            guard kind == "commit", let commit else { return nil }
            guard JetstreamDecoder.isRecordKey(commit.rkey) else { throw refuse("commit.rkey is not a record key") }
            let createdAt = Instant(millisecondsSinceEpoch: time_us / 1_000)
            let author = SocialIdentity(network: .bluesky, userID: did, handle: "")
            let uri = "at://\(did)/\(commit.collection)/\(commit.rkey)"
            switch (commit.collection, commit.operation) {
            case (JetstreamDecoder.postCollection, "create"):
                guard let record = commit.record else { throw refuse("a created post has no record") }
                var hashtags = (record.facets ?? []).flatMap { $0.features.compactMap(\.tag) }
                hashtags += record.tags ?? []
                var kind = NetworkEventKind.post
                var referenced: String?
                if let reply = record.reply {
                    kind = .reply
                    referenced = reply.parent.uri
                } else if let embed = record.embed, let type = embed.type,
                    type == "app.bsky.embed.record" || type == "app.bsky.embed.recordWithMedia",
                    let quoted = embed.record?.uri ?? embed.record?.record?.uri
                {
                    kind = .quote
                    referenced = quoted
                }
                if let referenced, JetstreamDecoder.did(inURI: referenced) == nil {
                    throw refuse("the referenced post \"\(referenced.prefix(80))\" is not an AT URI")
                }
                return Decoded(event: try validated(NetworkEvent(
                    network: .bluesky, eventID: uri, kind: kind, author: author, text: record.text ?? "",
                    hashtags: Array(hashtags.prefix(NetworkEvent.maximumHashtags)), referencedPostID: referenced,
                    referencedAuthorID: referenced.flatMap(JetstreamDecoder.did(inURI:)), createdAt: createdAt)),
                    cid: commit.cid, replyRoot: record.reply?.root)
            case (JetstreamDecoder.repostCollection, "create"):
                guard let subject = commit.record?.subject else { throw refuse("a repost has no subject") }
                guard let subjectDID = JetstreamDecoder.did(inURI: subject.uri) else {
                    throw refuse("the reposted post \"\(subject.uri.prefix(80))\" is not an AT URI")
                }
                return Decoded(event: try validated(NetworkEvent(
                    network: .bluesky, eventID: uri, kind: .repost, author: author, referencedPostID: subject.uri,
                    referencedAuthorID: subjectDID, createdAt: createdAt)), cid: commit.cid)
            case (JetstreamDecoder.postCollection, "delete"):
                return Decoded(event: try validated(NetworkEvent(
                    network: .bluesky, eventID: uri + "#delete", kind: .delete, author: author, referencedPostID: uri,
                    referencedAuthorID: did, createdAt: createdAt)))
            default:
                return nil
            }
        }

        func validated(_ event: NetworkEvent) throws(WireFormatError) -> NetworkEvent {
            do {
                return try event.validated()
            } catch {
                throw WireFormatError(network: .bluesky, message: "Jetstream event refused: \(error.description)")
            }
        }
    }
}

/// A reference to one version of a record: its AT URI and CID.
public struct BlueskyStrongRef: Sendable, Hashable, Codable {
    public var uri: String
    public var cid: String?

    public init(uri: String, cid: String?) {
        self.uri = uri
        self.cid = cid
    }
}
