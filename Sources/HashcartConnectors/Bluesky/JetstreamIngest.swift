import Foundation
import HashcartCore

/// The Bluesky connector's per-line work, on its own so that the live connector, `hashcart replay`
/// and `hashcart bench ingest` run exactly the same code: scan (``JetstreamFilter``), decode the
/// few kept lines strictly (``JetstreamDecoder``), track the cursor, count what was refused.
public struct JetstreamIngest: Sendable {
    public enum Outcome: Sendable {
        /// Well formed, but nothing the engine can use.
        case skipped
        /// An event for the engine, with the CID and thread root a reply to it needs.
        case event(JetstreamDecoder.Decoded)
        /// Malformed, truncated, oversize or of the wrong shape: nothing changes, the stream goes on.
        case refused(WireFormatError)
    }

    public var filter: JetstreamFilter
    /// The highest `time_us` of a well-formed line: where to resume.
    public private(set) var cursor: Int64?
    public private(set) var lines = 0
    public private(set) var kept = 0
    public private(set) var refused = 0

    public init(filter: JetstreamFilter) {
        self.filter = filter
    }

    public mutating func accept(_ line: UnsafeBufferPointer<UInt8>) -> Outcome {
        lines += 1
        do {
            let scan = try filter.scan(line)
            cursor = max(cursor ?? scan.timeMicroseconds, scan.timeMicroseconds)
            guard scan.isRelevant else { return .skipped }
            guard let event = try JetstreamDecoder.decodeWithReferences(line) else { return .skipped }
            kept += 1
            return .event(event)
        } catch {
            refused += 1
            return .refused(error)
        }
    }

    public mutating func accept(_ line: [UInt8]) -> Outcome {
        line.withUnsafeBufferPointer { accept($0) }
    }
}
