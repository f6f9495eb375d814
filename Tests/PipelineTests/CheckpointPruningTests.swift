import Foundation
@testable import Pipeline
import Testing

/// `--keep N` leaves the N newest complete checkpoints; older folders go, complete or cut short,
/// and saves cut short after the oldest kept stay (a resume replaces them). The deletions run on their own thread.
@Suite struct CheckpointPruningTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("dualpipe-prune-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path

    func make(_ step: Int, complete: Bool) throws {
        let folder = Checkpointer.folder(root, step: step)
        try Checkpointer.makeFolder(folder)
        #expect(FileManager.default.createFile(atPath: folder + "/rank-00000.shard", contents: Data([1, 2, 3])))
        if complete { #expect(FileManager.default.createFile(atPath: folder + "/manifest.json", contents: Data("{}".utf8))) }
    }

    @Test func theNewestKeepStayAndOlderFoldersGo() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        for step in [1, 2, 4, 6] { try make(step, complete: true) }
        for step in [3, 5, 7] { try make(step, complete: false) }
        let prunable = Checkpointer.prunable(root, keep: 2).map { ($0 as NSString).lastPathComponent }.sorted()
        #expect(prunable == ["step-000001", "step-000002", "step-000003"])
        #expect(Checkpointer.prunable(root, keep: 3).map { ($0 as NSString).lastPathComponent } == ["step-000001"])
        #expect(Checkpointer.prunable(root, keep: 4).isEmpty)

        let removal = CheckpointRemoval()
        removal.remove(Checkpointer.prunable(root, keep: 2))
        removal.wait()
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == ["step-000004", "step-000005", "step-000006", "step-000007"])
        #expect(Checkpointer.list(root).complete.map(\.step) == [6, 4])
    }
}
