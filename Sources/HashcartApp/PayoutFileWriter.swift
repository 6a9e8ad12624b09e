import Foundation
import HashcartCore
import HashcartEngine
import Synchronization

/// Pays every batch waiting into a payout file, the one way both `hashcart settle --nacha` and
/// `serve --settle-daily` do it: the file is written to `PATH.partial` and fsynced inside the
/// store's transaction (a write that fails pays nothing), renamed to `PATH` after the commit, and
/// the partial removed if the transaction fails.
public enum PayoutFileWriter {
    public enum WriteError: Error, Sendable, CustomStringConvertible {
        /// The payout is recorded and the file complete, but still at its `.partial` path.
        case notRenamed(partial: String, final: String, errno: Int32)

        public var description: String {
            switch self {
            case .notRenamed(let partial, let final, let errno):
                "the payout was recorded but \(partial) could not be renamed to \(final) (errno \(errno)); the file is complete at \(partial)"
            }
        }
    }

    /// - Parameter path: where the file goes, given the file the store recorded.
    /// - Returns: what was paid, and the file's path (nil when no batch was waiting).
    public static func pay(_ settlement: Settlement, originator: NACHAOriginator, now: Instant,
                           path: @escaping @Sendable (PayoutFileRecord) -> String) async throws -> (result: PayoutResult, path: String?) {
        let staged = StagedPath()
        let result: PayoutResult
        do {
            result = try await settlement.pay(originator: originator, now: now) { file in
                let final = path(file)
                staged.set(final)
                try writeDurably(file.content, to: final + ".partial")
            }
        } catch {
            if let final = staged.get() { try? FileManager.default.removeItem(atPath: final + ".partial") }
            throw error
        }
        guard result.file != nil, let final = staged.get() else { return (result, nil) }
        guard rename(final + ".partial", final) == 0 else { throw WriteError.notRenamed(partial: final + ".partial", final: final, errno: errno) }
        return (result, final)
    }

    /// Writes `text` to a new file at `path` and flushes it to disk before returning.
    public static func writeDurably(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(text.utf8))
        try handle.synchronize()
    }

    /// The path the transaction staged, read after it ends.
    final class StagedPath: Sendable {
        private let path = Mutex<String?>(nil)
        func set(_ value: String) { path.withLock { $0 = value } }
        func get() -> String? { path.withLock { $0 } }
    }
}
