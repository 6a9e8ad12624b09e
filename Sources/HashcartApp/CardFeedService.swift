import HashcartCardFeed
import HashcartCore
import HashcartEngine
import Logging
import Metrics
import ServiceLifecycle

/// `hashcart serve --card-feed HOST:PORT`: the issuer's card transactions as ISO 8583 over TCP,
/// for one mode (`--card-feed-mode`, its engine and store). Each message's PAN is fingerprinted
/// under that mode's store key on arrival and dropped; the transaction is processed once by its
/// processing key, in its own store transaction, before its response is sent.
public struct CardFeedService: Service {
    public let engine: Engine
    public let mode: Mode
    public let host: String
    public let port: Int
    public let logger: Logger
    public let onBound: @Sendable (Int) -> Void

    public init(engine: Engine, mode: Mode, host: String, port: Int, logger: Logger, onBound: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.engine = engine
        self.mode = mode
        self.host = host
        self.port = port
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let (engine, logger, mode) = (engine, logger, mode)
        try await cancelWhenGracefulShutdown {
            try await CardFeedListener.run(host: host, port: port, onBound: onBound, onEvent: { event in
                switch event {
                case .answered(let code):
                    Counter(label: "hashcart_card_feed_messages_total", dimensions: [("mode", mode.rawValue), ("response", code.rawValue)]).increment()
                case .dropped(let why):
                    Counter(label: "hashcart_card_feed_dropped_total", dimensions: [("mode", mode.rawValue)]).increment()
                    logger.warning("card feed: dropped a frame", metadata: ["why": "\(why)"])
                case .connectionClosed(let why):
                    logger.warning("card feed: closed a connection", metadata: ["why": "\(why)"])
                }
            }, process: { message in
                await Self.process(message, engine: engine, logger: logger)
            })
        }
    }

    /// One message: its transaction, or a format error naming the field (never its value).
    public static func process(_ message: ISO8583Message, engine: Engine, logger: Logger) async -> CardFeedRequest.ResponseCode {
        let transaction: CardTransaction
        do {
            transaction = try CardFeedRequest.transaction(of: message, fingerprinter: engine.store, now: engine.clock.now())
        } catch {
            logger.info("card feed: format error", metadata: ["type": "\(message.type)", "field": "\(error.field)", "why": "\(error.message)"])
            return .formatError
        }
        do {
            let outcome = try await engine.ingestCardTransactions([transaction])
            logger.debug("card feed: processed", metadata: ["id": "\(transaction.id)", "outcome": "\(outcome.first?.rawValue ?? "")"])
            return .approved
        } catch EngineError.invalid(let error) {
            logger.info("card feed: format error", metadata: ["type": "\(message.type)", "field": "\(error.field)", "why": "\(error.message)"])
            return .formatError
        } catch {
            logger.error("card feed: could not process; the sender should retry", metadata: ["error": "\(error)"])
            return .systemMalfunction
        }
    }
}
