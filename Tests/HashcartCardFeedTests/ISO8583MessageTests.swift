import HashcartCardFeed
import HashcartCore
import Testing

/// The ISO 8583 codec: bytes pyiso8583 produced parse to the same fields and encode back to the
/// same bytes; garbage is refused with the part at fault, never a crash.
struct ISO8583MessageTests {
    /// `iso8583.encode(...)` with pyiso8583 4.0.1's `default_ascii` spec (see scripts/iso8583_peer.py).
    static let fromPyiso8583 = Array(
        "02007238400008E08000164111111111111111000000000000008000120514000000000114000012055661000000000001TERM0001ZAPPOS-0001    ZAPPOS LAS VEGAS NV                     840"
            .utf8)

    @Test func aMessageEncodedByPyiso8583ParsesAndEncodesBackByteForByte() throws {
        let message = try ISO8583Message.parse(Self.fromPyiso8583)
        #expect(message.type == "0200")
        #expect(message.fields[2] == "4111111111111111" && message.fields[4] == "000000008000" && message.fields[7] == "1205140000")
        #expect(message.fields[11] == "000001" && message.fields[37] == "000000000001" && message.fields[42] == "ZAPPOS-0001    ")
        #expect(message.fields[49] == "840" && message.fields.count == 13)
        #expect(message.encoded() == Self.fromPyiso8583)
        #expect(!message.description.contains("4111111111111111"), "a message never prints its PAN")
    }

    @Test func aResponseEchoesTheFieldsAndSetsItsCode() throws {
        let request = try ISO8583Message.parse(Self.fromPyiso8583)
        let response = try #require(CardFeedRequest.response(to: request, code: .approved))
        #expect(response.type == "0210" && response.fields[39] == "00")
        for number in [3, 4, 7, 11, 37, 41, 42, 49] { #expect(response.fields[number] == request.fields[number], "field \(number)") }
        #expect(response.fields[2] == nil && response.fields[43] == nil, "the PAN is never sent back")
        #expect(try ISO8583Message.parse(response.encoded()) == response)
        var reversal = request
        reversal.type = "0420"
        #expect(CardFeedRequest.response(to: reversal, code: .formatError)?.type == "0430")
        reversal.type = "0800"
        #expect(CardFeedRequest.response(to: reversal, code: .approved) == nil)
    }

    @Test(arguments: [
        ("", "message type"),
        ("02", "message type"),
        ("02x0", "message type"),
        ("0200", "primary bitmap"),
        ("0200723840000GE08000", "primary bitmap"),
        ("0200C000000000000000", "secondary bitmap"),
        ("020040000000000000001", "field 2 length"),
        ("0200400000000000000020", "field 2"),  // 20 > 19
        ("02004000000000000000164111", "field 2"),
        ("020040000000000000001641111111111111111X", "message"),  // a byte after the last field
        ("02002000000000000000000\u{7}00", "field 3"),  // a control character
    ])
    func garbageIsRefusedNamingThePart(text: String, part: String) {
        #expect {
            try ISO8583Message.parse(Array(text.utf8))
        } throws: { error in
            "\(error)".hasPrefix(part) || "\(error)".contains("its \(part)")
        }
    }

    @Test func randomBytesNeverCrashTheParser() {
        var generator = SplitMix64(seed: 2013)
        let prefixes = [Array("0200".utf8), Array("02007238400008E08000".utf8), Array("0420F238400008E08000".utf8), []]
        for round in 0..<5_000 {
            var bytes = prefixes[round % prefixes.count]
            for _ in 0..<Int(generator.next() % 300) { bytes.append(UInt8(truncatingIfNeeded: generator.next())) }
            if let message = try? ISO8583Message.parse(bytes) {
                // Whatever parses encodes to a message that parses back the same.
                #expect((try? ISO8583Message.parse(message.encoded())) == message)
            }
        }
        #expect(throws: ISO8583Error.self) { try ISO8583Message.parse(Array(repeating: 0x30, count: ISO8583Message.maximumLength + 1)) }
    }

    @Test func theTransmissionTimeTakesTheLatestYearNotAfterTomorrow() throws {
        struct Plain: CardFingerprinter {
            func cardFingerprint(of pan: PrimaryAccountNumber) -> CardFingerprint { CardFingerprint(hex: String(repeating: "ab", count: 32))! }
        }
        var message = try ISO8583Message.parse(Self.fromPyiso8583)
        // 2026-12-05 14:00:00 UTC.
        let now = Instant(secondsSinceEpoch: 1_796_479_200)
        let sameDay = try CardFeedRequest.transaction(of: message, fingerprinter: Plain(), now: now)
        #expect(sameDay.occurredAt == now && sameDay.acceptorID == "ZAPPOS-0001" && sameDay.amount == .usd(8_000))
        message.fields[7] = "1231235959"  // last New Year's Eve, not this one
        #expect(try CardFeedRequest.transaction(of: message, fingerprinter: Plain(), now: now).occurredAt == Instant(secondsSinceEpoch: 1_767_225_599))
        for bad in ["1305140000", "0230140000", "1205240000", "12051400", "12a5140000"] {
            message.fields[7] = bad
            #expect(throws: ValidationError.self, "\(bad)") { try CardFeedRequest.transaction(of: message, fingerprinter: Plain(), now: now) }
        }
        message.fields[7] = "1205140000"
        for (field, value) in [(3, "200000"), (4, "0000000080a0"), (49, "978"), (2, "4111111111111112"), (11, "00001a")] {
            var bad = message
            bad.fields[field] = value
            #expect(throws: ValidationError.self, "field \(field)") { try CardFeedRequest.transaction(of: bad, fingerprinter: Plain(), now: now) }
        }
        var missing = message
        missing.fields[37] = nil
        #expect(throws: ValidationError(field: "rrn", message: "field 37 is required")) {
            try CardFeedRequest.transaction(of: missing, fingerprinter: Plain(), now: now)
        }
    }
}
