import HashcartCore

/// The service of each mode a Hashcart runs: test mode (the sandbox) unless the configuration
/// turns it off, live mode when real networks are configured; at least one. The router sends every authenticated request to the service of its credential's
/// mode, and only there; nothing else ever crosses.
public struct ModeServices<Service: HashcartService>: Sendable {
    public let test: Service?
    public let live: Service?

    public init(test: Service?, live: Service? = nil) {
        precondition(test != nil || live != nil, "a Hashcart runs at least one mode")
        self.test = test
        self.live = live
    }

    /// A service for what every mode shares (the admin token, the process's metrics).
    var any: Service { (live ?? test)! }

    /// The service of `mode`, or nil when this Hashcart does not run it.
    public subscript(mode: Mode) -> Service? {
        switch mode {
        case .test: test
        case .live: live
        }
    }

    /// The modes this Hashcart runs.
    public var modes: [Mode] { Mode.allCases.filter { self[$0] != nil } }

}
