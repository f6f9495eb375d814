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

    /// Leaves `path` with the lines of steps before `step` and opens it for the steps that follow.
    /// A missing file starts empty.
    ///
    /// A long run's file is large (100,000 steps of 8 ranks: 130 MB), so it is read as bytes, not
    /// as a string, and where the kept lines are the file's first lines (every resume of a file
    /// that only this program wrote) the file is cut after them rather than written again.
    public static func open(path: String, resumingAt step: Int) throws -> (LineWriter, Kept) {
        guard FileManager.default.fileExists(atPath: path) else { return (try LineWriter(path: path), Kept(kept: 0, dropped: 0)) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError("cannot read \(path), the --metrics file a resumed run continues")
        }
        func bytes(_ line: Range<Int>) -> Data { data[data.startIndex + line.lowerBound..<data.startIndex + line.upperBound] }
        let decoder = JSONDecoder()
        var kept: [Range<Int>] = [], dropped = 0
        // The kept lines are the file's start while each begins where the one before it ended.
        var isPrefix = true, keptEnd = 0
        for line in lines(of: data) {
            guard let record = try? decoder.decode(StepOnly.self, from: bytes(line)), record.step < step else { dropped += 1; continue }
            kept.append(line)
            if line.lowerBound == keptEnd { keptEnd = line.upperBound + 1 } else { isPrefix = false }
        }
        let counts = Kept(kept: kept.count, dropped: dropped)
        if isPrefix { return (try LineWriter(appendingTo: path, after: keptEnd), counts) }
        let writer = try LineWriter(path: path)
        var rewritten = Data(capacity: kept.reduce(0) { $0 + $1.count + 1 })
        for line in kept {
            rewritten.append(bytes(line))
            rewritten.append(UInt8(ascii: "\n"))
        }
        try writer.write(rewritten)
        return (writer, counts)
    }

    /// The byte offsets of the file's non-empty lines from its start, newlines excluded; the text
    /// after the last newline is no line (a cut-off write).
    static func lines(of data: Data) -> [Range<Int>] {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> [Range<Int>] in
            guard let base = bytes.baseAddress else { return [] }
            var lines: [Range<Int>] = [], start = 0
            while start < bytes.count, let newline = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start) {
                let end = base.distance(to: UnsafeRawPointer(newline))
                if end > start { lines.append(start..<end) }
                start = end + 1
            }
            return lines
        }
    }

    private struct StepOnly: Decodable { var step: Int }
}
