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

    /// A fresh run (no --resume) that names an earlier run's file replaces it and says how many
    /// lines it held; a new or empty file needs no word.
    @Test func aFreshRunSaysWhatItReplaced() throws {
        let earlier = try temporaryFile((0...2).map(record).joined(separator: "\n") + "\n{\"loss\":2.5,\"st")
        let writer = try LineWriter(path: earlier)
        #expect(writer.replacedLines == 4)
        #expect(writer.replacementNote == "metrics: \(earlier) replaced: it held 4 lines of an earlier run")
        #expect(try String(contentsOfFile: earlier, encoding: .utf8).isEmpty)
        let single = try temporaryFile(record(0) + "\n")
        #expect(try LineWriter(path: single).replacementNote == "metrics: \(single) replaced: it held 1 line of an earlier run")
        #expect(try LineWriter(path: try temporaryFile(nil)).replacementNote == nil)
        #expect(try LineWriter(path: try temporaryFile("")).replacementNote == nil)
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

    /// Kept records that are not the file's first lines (a step written out of order, a blank
    /// line) are written again, in their order and without the lines between them.
    @Test func rewritesKeptRecordsThatAreNotTheFilesStart() throws {
        let path = try temporaryFile([0, 1, 5, 2].map(record).joined(separator: "\n") + "\n\n" + record(3) + "\n")
        let (writer, kept) = try ResumedMetrics.open(path: path, resumingAt: 4)
        #expect(kept == ResumedMetrics.Kept(kept: 4, dropped: 1))
        try writer.write(record(4) + "\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == [0, 1, 2, 3, 4].map { record($0) + "\n" }.joined())
    }

    /// Where the kept records are the file's start, the file is cut after them: what follows, a
    /// longer tail included, is gone before the resumed steps are appended.
    @Test func cutsTheFileAfterItsKeptStart() throws {
        let path = try temporaryFile((0...9).map(record).joined(separator: "\n") + "\n")
        let (writer, kept) = try ResumedMetrics.open(path: path, resumingAt: 2)
        #expect(kept == ResumedMetrics.Kept(kept: 2, dropped: 8))
        try writer.write(record(2) + "\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == (0...2).map { record($0) + "\n" }.joined())
    }

    /// A resumed run that names a new file starts it empty.
    @Test func startsAMissingFile() throws {
        let path = try temporaryFile(nil)
        #expect(try ResumedMetrics.open(path: path, resumingAt: 7).1 == ResumedMetrics.Kept(kept: 0, dropped: 0))
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
