import HashcartCore

/// What one line of a recorded stream became.
public enum CaptureOutcome: Sendable {
    case skipped
    /// One line may carry several events (an Account Activity body).
    case events([NetworkEvent])
    case refused(WireFormatError)
}

/// Reads a network's recorded stream, one line at a time, with the connector's own parser:
/// what `hashcart replay` runs.
public protocol CaptureReader {
    mutating func read(_ line: UnsafeBufferPointer<UInt8>) -> CaptureOutcome
    /// Where the stream stood after the last line (the network's own cursor), if it has one.
    var position: String? { get }
}

extension JetstreamIngest: CaptureReader {
    public mutating func read(_ line: UnsafeBufferPointer<UInt8>) -> CaptureOutcome {
        switch accept(line) {
        case .skipped: .skipped
        case .event(let decoded): .events([decoded.event])
        case .refused(let error): .refused(error)
        }
    }

    public var position: String? { cursor.map { String($0) } }
}
