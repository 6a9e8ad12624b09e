import Foundation
import HashcartApp
import HashcartCore
import Synchronization

/// A merchant's webhook endpoint in the simulation: it answers 500 at times, is slow at times
/// (the clock moves while it thinks; past the deliverer's timeout the answer never comes), and
/// keeps every event id it acknowledged, deduplicating redeliveries as merchants are told to.
///
/// It reads what it is sent as a merchant's code would: the signature checked with the endpoint's
/// secret (within 5 minutes of its own clock), the body parsed as JSON, the event's id, type and
/// object read from it. What it could not verify or read is kept for the checks, and answered 400.
final class SimulatedMerchant: WebhookTransport {
    struct State {
        var random: SplitMix64
        var healthy = false
        /// Acknowledged event ids, with how many times each arrived.
        var received: [String: Int] = [:]
        var order: [String] = []
        /// The last payload of each acknowledged event, as the merchant read it.
        var payloads: [String: Payload] = [:]
        /// Deliveries the merchant refused: a bad signature or a body it could not read.
        var refused: [String] = []
    }

    /// What the merchant reads in an event: its type, mode, and the object's top-level fields
    /// that are strings or numbers (numbers as their decimal text).
    struct Payload: Sendable {
        var type: String
        var livemode: Bool
        var object: [String: String]
    }

    let state: Mutex<State>
    let clock: ManualClock
    let crash: CrashSwitch
    let secret: String
    let failurePercent: Int
    let slowPercent: Int

    init(seed: UInt64, clock: ManualClock, crash: CrashSwitch, secret: String, failurePercent: Int, slowPercent: Int) {
        state = Mutex(State(random: SplitMix64(seed: seed)))
        self.clock = clock
        self.crash = crash
        self.secret = secret
        self.failurePercent = failurePercent
        self.slowPercent = slowPercent
    }

    /// From now on the endpoint always answers 200 at once (the end of the run).
    func heal() { state.withLock { $0.healthy = true } }

    var received: [String: Int] { state.withLock { $0.received } }
    var refused: [String] { state.withLock { $0.refused } }
    func payload(_ eventID: String) -> Payload? { state.withLock { $0.payloads[eventID] } }

    func post(url: String, headers: [(String, String)], body: Data, timeoutSeconds: Int64) async throws -> Int {
        try crash.checkAlive()
        guard let eventID = headers.first(where: { $0.0 == "Hashcart-Event-Id" })?.1 else { return 400 }
        let payload: Payload
        switch read(eventID: eventID, headers: headers, body: body) {
        case .success(let read): payload = read
        case .failure(let reason):
            state.withLock { $0.refused.append("\(eventID): \(reason.message)") }
            return 400
        }
        let (roll, thinking) = state.withLock { state in
            state.healthy ? (100, Int64(0)) : (Int.random(in: 0..<100, using: &state.random), Int64.random(in: 1...15, using: &state.random))
        }
        if roll < failurePercent { return 500 }
        let slow = roll < failurePercent + slowPercent
        if slow { clock.advance(milliseconds: thinking * 1_000) }
        // The merchant takes the event even when its answer comes too late: the retry is a duplicate.
        state.withLock { state in
            if state.received[eventID] == nil { state.order.append(eventID) }
            state.received[eventID, default: 0] += 1
            state.payloads[eventID] = payload
        }
        if slow && thinking >= timeoutSeconds { throw SimulatedTimeout() }
        return 200
    }
}

extension SimulatedMerchant {
    struct Unreadable: Error {
        var message: String
    }

    /// Verifies and reads one delivery as a merchant's endpoint does.
    func read(eventID: String, headers: [(String, String)], body: Data) -> Result<Payload, Unreadable> {
        guard let header = headers.first(where: { $0.0 == "Hashcart-Signature" })?.1 else { return .failure(Unreadable(message: "no Hashcart-Signature")) }
        var parts: [String: String] = [:]
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { parts[String(pair[0])] = String(pair[1]) }
        }
        guard let t = parts["t"].flatMap({ Int64($0) }), let v1 = parts["v1"] else { return .failure(Unreadable(message: "a signature without t or v1: \(header)")) }
        guard abs(clock.now().millisecondsSinceEpoch / 1000 - t) <= 300 else { return .failure(Unreadable(message: "a signature timestamp \(t) more than 5 minutes off")) }
        guard WebhookDeliverer.signature(secret: secret, timestamp: t, body: body) == "t=\(t),v1=\(v1)" else {
            return .failure(Unreadable(message: "a signature that does not verify with the endpoint's secret"))
        }
        guard let event = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return .failure(Unreadable(message: "a body that is not a JSON object")) }
        guard event["id"] as? String == eventID, event["object"] as? String == "event", let type = event["type"] as? String,
            let livemode = event["livemode"] as? Bool, event["created"] is NSNumber,
            let object = (event["data"] as? [String: Any])?["object"] as? [String: Any], object["id"] is String
        else { return .failure(Unreadable(message: "an event without id, object, type, livemode, created or data.object.id")) }
        var fields: [String: String] = [:]
        for (key, value) in object {
            if let text = value as? String { fields[key] = text } else if let number = value as? NSNumber { fields[key] = number.stringValue }
        }
        return .success(Payload(type: type, livemode: livemode, object: fields))
    }
}

struct SimulatedTimeout: Error, CustomStringConvertible {
    var description: String { "simulated: the merchant did not answer in time" }
}
