/// A bounded memory of keys (and a value each) recently seen: when it holds ``capacity`` keys, the
/// older half is forgotten at once. Connectors keep the event ids they handed over (to drop a
/// replay after a reconnect) and what a later reply or delete needs to know about a post.
struct RecentlySeen<Value> {
    let capacity: Int
    private var values: [String: Value] = [:]
    private var order: [String] = []

    init(capacity: Int) {
        precondition(capacity >= 2, "a memory that holds something")
        self.capacity = capacity
    }

    subscript(key: String) -> Value? { values[key] }

    /// Remembers `key`; false when it was already remembered (its value is then replaced).
    @discardableResult
    mutating func remember(_ key: String, _ value: Value) -> Bool {
        guard values.updateValue(value, forKey: key) == nil else { return false }
        order.append(key)
        if order.count > capacity {
            let forgotten = order.prefix(capacity / 2)
            for old in forgotten { values.removeValue(forKey: old) }
            order.removeFirst(forgotten.count)
        }
        return true
    }
}

extension RecentlySeen where Value == Void {
    /// Remembers `key`; false when it was seen recently.
    mutating func insert(_ key: String) -> Bool { remember(key, ()) }
}
