/// A point in time, in whole milliseconds since the Unix epoch (UTC).
///
/// The domain never reads a clock: every function that needs "now" takes an `Instant`,
/// and the engine gets it from an injected ``WallClock``.
public struct Instant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public init(secondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = secondsSinceEpoch * 1000
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public func adding(seconds: Int64) -> Instant {
        Instant(millisecondsSinceEpoch: millisecondsSinceEpoch + seconds * 1000)
    }

    public func adding(milliseconds: Int64) -> Instant {
        Instant(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }

    /// Milliseconds from `self` until `other` (negative when `other` is earlier).
    public func milliseconds(until other: Instant) -> Int64 {
        other.millisecondsSinceEpoch - millisecondsSinceEpoch
    }

    /// The UTC day number (days since 1970-01-01), used for daily limits.
    public var utcDay: Int64 {
        millisecondsSinceEpoch >= 0
            ? millisecondsSinceEpoch / 86_400_000
            : (millisecondsSinceEpoch - 86_399_999) / 86_400_000
    }

    public var description: String { "\(millisecondsSinceEpoch)ms" }
}

/// Where "now" comes from. The engine takes one; tests and the simulator pass a ``ManualClock``.
public protocol WallClock: Sendable {
    func now() -> Instant
}
