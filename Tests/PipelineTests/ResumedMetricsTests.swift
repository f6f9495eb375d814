import Foundation
import Pipeline
import Testing

@Suite struct ResumedMetricsTests {
    func temporaryFile(_ contents: String?) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).jsonl").path
        if let contents { try Data(contents.utf8).write(to: URL(fileURLWithPath: path)) }
        return path
    }

    func record(_ step: Int) -> String { "{\"loss\":\(Float(step) / 2),\"step\":\(step)}" }

    /// A run killed in step 4 after a checkpoint at step 3, its last write cut off: steps 0-2 stay,
    /// step 3 and the torn line go, and the resumed steps follow.
    @Test func keepsTheStepsBeforeTheCheckpointAndAppends() throws {
        let path = try temporaryFile((0...3).map(record).joined(separator: "\n") + "\n{\"loss\":2.5,\"st")
        let (writer, kept) = try ResumedMetrics.open(path: path, resumingAt: 3)
        #expect(kept == ResumedMetrics.Kept(kept: 3, dropped: 1))
        for step in 3...5 { try writer.write(record(step) + "\n") }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == (0...5).map(record))
    }

    /// Lines that are no record (another file named by mistake, a line without a step) are not
    /// kept as steps; a resume at step 0 keeps nothing.
    @Test func dropsLinesThatAreNoRecord() throws {
        let path = try temporaryFile("not json\n{\"loss\":1}\n" + record(0) + "\n" + record(1) + "\n")
        #expect(try ResumedMetrics.open(path: path, resumingAt: 1).1 == ResumedMetrics.Kept(kept: 1, dropped: 3))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == record(0) + "\n")
        #expect(try ResumedMetrics.open(path: path, resumingAt: 0).1 == ResumedMetrics.Kept(kept: 0, dropped: 1))
        #expect(try String(contentsOfFile: path, encoding: .utf8).isEmpty)
    }

    /// A resumed run that names a new file starts it empty.
    @Test func startsAMissingFile() throws {
        let path = try temporaryFile(nil)
        #expect(try ResumedMetrics.open(path: path, resumingAt: 7).1 == ResumedMetrics.Kept(kept: 0, dropped: 0))
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
