import NIOCore
import NIOPosix
import Synchronization

/// The card feed's TCP listener: ISO 8583 messages, each framed by a 2-byte big-endian length,
/// answered in order on the connection they came on.
///
/// A message that does not parse gets a format-error response (field 39 `30`) when its type is one
/// Hashcart answers, and is dropped otherwise; a frame longer than
/// ``ISO8583Message/maximumLength`` closes its connection (the stream cannot be trusted after it).
/// Neither stops the listener. At most ``maximumConnections`` are served at once.
public enum CardFeedListener {
    public static let maximumConnections = 64

    /// What the listener saw, for metrics and logs (never a message's content).
    public enum Event: Sendable, Hashable {
        case answered(CardFeedRequest.ResponseCode)
        /// A frame whose type Hashcart does not answer, or too short to have one.
        case dropped(String)
        /// A connection closed for a bad frame or refused over the limit.
        case connectionClosed(String)
    }

    /// Listens on `host:port` (0: any free port) until cancelled; `onBound` gets the port.
    /// `process` handles each well-formed message and says what to answer.
    public static func run(host: String, port: Int, onBound: @Sendable (Int) -> Void = { _ in },
                           onEvent: @escaping @Sendable (Event) -> Void = { _ in },
                           process: @escaping @Sendable (ISO8583Message) async -> CardFeedRequest.ResponseCode) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        onBound(server.channel.localAddress?.port ?? port)
        let open = ConnectionCount()
        try await server.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    let admitted = open.admit(limit: maximumConnections)
                    guard admitted else {
                        onEvent(.connectionClosed("over \(maximumConnections) connections"))
                        try? await connection.channel.close()
                        continue
                    }
                    group.addTask {
                        defer { open.release() }
                        do {
                            try await serve(connection, onEvent: onEvent, process: process)
                        } catch {
                            onEvent(.connectionClosed("\(error)"))
                        }
                    }
                }
            }
        }
    }

    static func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, onEvent: @Sendable (Event) -> Void,
                      process: @Sendable (ISO8583Message) async -> CardFeedRequest.ResponseCode) async throws {
        try await connection.executeThenClose { frames, outbound in
            for try await frame in frames {
                let bytes = Array(frame.readableBytesView)
                let response: ISO8583Message?
                do {
                    let request = try ISO8583Message.parse(bytes)
                    if CardFeedRequest.responseTypes[request.type] == nil {
                        response = nil
                    } else {
                        let code = await process(request)
                        response = CardFeedRequest.response(to: request, code: code)
                    }
                } catch {
                    // Unreadable: answer a format error if the type is one Hashcart answers.
                    let type = String(decoding: bytes.prefix(4), as: UTF8.self)
                    response = CardFeedRequest.response(to: ISO8583Message(type: type, fields: [:]), code: .formatError)
                }
                guard let response else {
                    onEvent(.dropped("a frame of \(bytes.count) bytes that is not an 0200, 0220 or 0420"))
                    continue
                }
                onEvent(.answered(CardFeedRequest.ResponseCode(rawValue: response.fields[39] ?? "") ?? .formatError))
                let body = response.encoded()
                var buffer = connection.channel.allocator.buffer(capacity: body.count + 2)
                buffer.writeInteger(UInt16(body.count), endianness: .big)
                buffer.writeBytes(body)
                try await outbound.write(buffer)
            }
        }
    }
}

/// How many connections are being served.
final class ConnectionCount: Sendable {
    private let count = Mutex(0)

    func admit(limit: Int) -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() { count.withLock { $0 -= 1 } }
}

/// Splits the stream into messages: a 2-byte big-endian length, then that many bytes.
struct LengthPrefixedFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct FrameTooLong: Error, CustomStringConvertible {
        let length: Int
        var description: String { "a frame of \(length) bytes is longer than \(ISO8583Message.maximumLength)" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self) else { return .needMoreData }
        guard Int(length) <= ISO8583Message.maximumLength else { throw FrameTooLong(length: Int(length)) }
        guard buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
