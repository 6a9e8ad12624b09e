import HashcartCore

/// A payload from a network that Hashcart refuses: malformed, truncated, oversize or of the wrong
/// shape. The stream it came from goes on; the payload changes nothing.
public struct WireFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    public var network: NetworkName
    /// What is wrong, for a person: "truncated JSON: the line ends inside a string".
    public var message: String
    /// The byte offset in the payload where the problem was found, when known.
    public var offset: Int?

    public init(network: NetworkName, message: String, offset: Int? = nil) {
        self.network = network
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(network) payload refused at byte \(offset): \(message)" }
        return "\(network) payload refused: \(message)"
    }
}
