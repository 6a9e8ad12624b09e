import Foundation
import HashcartCore

/// A recorded Mastodon stream, one JSON object per line: the streaming API's messages as its
/// WebSocket sends them (`{"stream":[…],"event":"update","payload":"<status JSON>"}`; `payload`
/// may also be the object itself), or bare Status and Notification objects as the REST API
/// returns them. Deletions are attributed to the authors of statuses seen earlier in the capture.
public struct MastodonCapture: CaptureReader {
    public let decoder: MastodonDecoder
    private var authors: [String: SocialIdentity] = [:]
    /// A delete carries no time: it is taken to happen at the latest time seen so far.
    private var latest = Instant(millisecondsSinceEpoch: 0)
    public private(set) var position: String?

    public init(decoder: MastodonDecoder) {
        self.decoder = decoder
    }

    public mutating func read(_ line: UnsafeBufferPointer<UInt8>) -> CaptureOutcome {
        do {
            guard let event = try decode(line) else { return .skipped }
            if event.kind != .delete && event.kind != .repost { authors[event.eventID] = event.author }
            latest = max(latest, event.createdAt)
            if MastodonConnector.isStatusID(event.eventID) { position = event.eventID }
            return .events([event])
        } catch {
            return .refused(error)
        }
    }

    private func decode(_ line: UnsafeBufferPointer<UInt8>) throws(WireFormatError) -> NetworkEvent? {
        guard line.count <= MastodonDecoder.maximumPayloadBytes * 2 else {
            throw WireFormatError(network: .mastodon, message: "a line of \(line.count) bytes is over the limit")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
            throw WireFormatError(network: .mastodon, message: "a capture line must be one JSON object")
        }
        func text(_ value: Any?) throws(WireFormatError) -> String {
            if let string = value as? String { return string }
            if let value, JSONSerialization.isValidJSONObject(value), let data = try? JSONSerialization.data(withJSONObject: value) {
                return String(decoding: data, as: UTF8.self)
            }
            throw WireFormatError(network: .mastodon, message: "the message has no payload")
        }
        if let event = object["event"] as? String {
            switch event {
            case "update": return try decoder.status(try text(object["payload"]))
            case "notification": return try decoder.notification(try text(object["payload"]))
            case "delete":
                let id = try text(object["payload"])
                guard MastodonConnector.isStatusID(id) else { throw WireFormatError(network: .mastodon, message: "a delete of \"\(id.prefix(40))\", not a status id") }
                guard let author = authors[id] else { return nil }
                return NetworkEvent(network: .mastodon, eventID: "delete:\(id)", kind: .delete, author: author, referencedPostID: id,
                                    referencedAuthorID: author.userID, createdAt: latest)
            default: return nil
            }
        }
        let raw = try text(object)
        if object["type"] is String, object["account"] != nil { return try decoder.notification(raw) }
        if object["account"] != nil { return try decoder.status(raw) }
        throw WireFormatError(network: .mastodon, message: "neither a streaming message, a status nor a notification")
    }
}
