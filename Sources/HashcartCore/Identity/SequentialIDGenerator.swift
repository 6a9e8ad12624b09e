import Synchronization

/// Deterministic ids: `prefix_000001`, `prefix_000002`, … (one counter for all prefixes).
public final class SequentialIDGenerator: IDGenerator {
    private let counter: Mutex<Int>
    private let namespace: String

    /// - Parameter namespace: text put between prefix and number, so two generators never collide.
    public init(namespace: String = "", start: Int = 0) {
        self.namespace = namespace
        self.counter = Mutex(start)
    }

    public func next(prefix: String) -> String {
        let value = counter.withLock { count in
            count += 1
            return count
        }
        let digits = String(value)
        let padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        return "\(prefix)_\(namespace)\(padded)"
    }
}
