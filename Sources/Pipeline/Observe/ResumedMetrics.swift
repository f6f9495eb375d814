import Foundation

/// A `--metrics` file continued by a resumed run. "Continue with the same flags and --resume" names
/// the same file again; opening it afresh would erase the steps trained before the stop. The
/// lines of steps before the checkpoint stay; those of later steps go, as the resumed run trains
/// those steps again (a crash after the last checkpoint leaves them behind), and so does a line
/// that is not a whole record (one cut off by the crash). The file then holds every step once.
public enum ResumedMetrics {
    public struct Kept: Sendable, Equatable {
        /// Records of steps before the checkpoint, kept in their order.
        public var kept: Int
        /// Records of the checkpoint's step or later, and lines that are no record.
        public var dropped: Int

        public init(kept: Int, dropped: Int) { (self.kept, self.dropped) = (kept, dropped) }
    }

    /// Rewrites `path` to the lines of steps before `step` and opens it for the steps that follow.
    /// A missing file starts empty.
    public static func open(path: String, resumingAt step: Int) throws -> (LineWriter, Kept) {
        let existing = FileManager.default.fileExists(atPath: path)
            ? try readLines(path) : []
        let kept = existing.filter { line in
            guard let record = try? JSONDecoder().decode(StepOnly.self, from: Data(line.utf8)) else { return false }
            return record.step < step
        }
        let writer = try LineWriter(path: path)
        if !kept.isEmpty { try writer.write(kept.joined(separator: "\n") + "\n") }
        return (writer, Kept(kept: kept.count, dropped: existing.count - kept.count))
    }

    /// The file's lines, the last one only when a newline ends it (a cut-off write is not a line).
    private static func readLines(_ path: String) throws -> [Substring] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError("cannot read \(path), the --metrics file a resumed run continues")
        }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast() // after the last newline: empty, or a record cut off
        return lines.filter { !$0.isEmpty }
    }

    private struct StepOnly: Decodable { var step: Int }
}
