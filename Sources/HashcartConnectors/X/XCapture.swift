import Foundation
import HashcartCore

/// A recorded X stream, one JSON object per line: filtered-stream lines (API v2; keep-alives and
/// disconnect problems are skipped) or Account Activity webhook bodies (v1.1).
public struct XCapture: CaptureReader {
    public let decoder: XDecoder
    public private(set) var position: String?
    /// A delete without a time is taken to happen at the latest time seen so far.
    private var latest = Instant(millisecondsSinceEpoch: 0)

    public init(decoder: XDecoder) {
        self.decoder = decoder
    }

    public mutating func read(_ line: UnsafeBufferPointer<UInt8>) -> CaptureOutcome {
        do {
            let bytes = Data(line)
            if bytes.range(of: Data("\"tweet_create_events\"".utf8)) != nil || bytes.range(of: Data("\"tweet_delete_events\"".utf8)) != nil
                || bytes.range(of: Data("\"for_user_id\"".utf8)) != nil
            {
                let events = try decoder.activity(bytes, receivedAt: latest)
                note(events)
                return events.isEmpty ? .skipped : .events(events)
            }
            switch try decoder.streamLine(bytes) {
            case .keepAlive, .disconnect: return .skipped
            case .event(let event):
                note([event])
                return .events([event])
            }
        } catch {
            return .refused(error)
        }
    }

    private mutating func note(_ events: [NetworkEvent]) {
        for event in events { latest = max(latest, event.createdAt) }
        for event in events where XDecoder.isID(event.eventID) {
            if position.map({ Wire.isNewer(event.eventID, than: $0) }) ?? true { position = event.eventID }
        }
    }
}
