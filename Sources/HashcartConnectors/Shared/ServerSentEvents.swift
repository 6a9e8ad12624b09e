/// One Server-Sent Event (`event:` and `data:` lines up to a blank line).
public struct ServerSentEvent: Sendable, Hashable {
    public var event: String
    public var data: String
    public var id: String?
}

/// An incremental parser of a `text/event-stream` body (WHATWG HTML, "Server-sent events"):
/// feed it bytes as they arrive, in any chunking, and take out whole events. Comment lines
/// (`:thump`) are heartbeats; `\n`, `\r\n` and `\r` all end a line. An event bigger than
/// ``maximumEventBytes`` is dropped whole and counted in ``oversize`` (the stream goes on);
/// a line is never held beyond that bound either.
public struct ServerSentEventParser: Sendable {
    public let maximumEventBytes: Int
    private var line: [UInt8] = []
    private var event = ""
    private var data: [UInt8] = []
    private var id: String?
    private var hasData = false
    private var skipping = false
    private var previousWasCR = false
    public private(set) var oversize = 0
    public private(set) var heartbeats = 0

    public init(maximumEventBytes: Int = 256 * 1024) {
        precondition(maximumEventBytes > 0)
        self.maximumEventBytes = maximumEventBytes
    }

    /// Parses `bytes` and returns the events they completed.
    public mutating func feed<C: Collection>(_ bytes: C) -> [ServerSentEvent] where C.Element == UInt8 {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == 0x0A, previousWasCR {  // the \n of \r\n
                previousWasCR = false
                continue
            }
            previousWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if let completed = endLine() { events.append(completed) }
            } else if !skipping {
                line.append(byte)
                if line.count + data.count > maximumEventBytes { startSkipping() }
            }
        }
        return events
    }

    private mutating func startSkipping() {
        skipping = true
        line.removeAll()
        data.removeAll()
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            // A blank line dispatches the event (or ends the skipped one).
            defer {
                event = ""
                data.removeAll(keepingCapacity: true)
                hasData = false
                id = nil
            }
            if skipping {
                skipping = false
                oversize += 1
                return nil
            }
            guard hasData else { return nil }
            if data.last == 0x0A { data.removeLast() }
            return ServerSentEvent(event: event.isEmpty ? "message" : event, data: String(decoding: data, as: UTF8.self), id: id)
        }
        guard !skipping else { return nil }
        if line.first == UInt8(ascii: ":") {
            heartbeats += 1
            return nil
        }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let field = String(decoding: line[..<colon], as: UTF8.self)
        var valueStart = colon < line.endIndex ? line.index(after: colon) : colon
        if valueStart < line.endIndex, line[valueStart] == 0x20 { valueStart = line.index(after: valueStart) }
        let value = line[valueStart...]
        switch field {
        case "event": event = String(decoding: value, as: UTF8.self)
        case "data":
            data.append(contentsOf: value)
            data.append(0x0A)
            hasData = true
        case "id": id = String(decoding: value, as: UTF8.self)
        default: break  // `retry` and unknown fields are ignored, as the spec says
        }
        return nil
    }
}
