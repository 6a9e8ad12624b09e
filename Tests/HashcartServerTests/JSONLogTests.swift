import Foundation
import HashcartApp
import Logging
import Synchronization
import Testing

@Suite struct JSONLogTests {
    @Test func eachLogLineIsAJSONObjectWithItsMetadata() throws {
        let lines = Mutex<[String]>([])
        var handler = JSONLogHandler(label: "hashcart", write: { line in lines.withLock { $0.append(line) } })
        handler.metadata["instance"] = "a"
        let logger = Logger(label: "hashcart", factory: { _ in handler })
        logger.info("webhook not delivered", metadata: ["event": "evt_1", "attempts": "3", "tags": ["x", "y"]])
        logger.debug("below the level: dropped")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info" && object["message"] as? String == "webhook not delivered")
        #expect(object["event"] as? String == "evt_1" && object["instance"] as? String == "a")
        #expect(object["tags"] as? [String] == ["x", "y"] && object["ts"] is String && object["label"] as? String == "hashcart")
    }
}
