import Foundation
import Testing
@testable import dualpipe

/// A run started without --resume in a folder that holds checkpoints is refused before any work:
/// it would save beside them, and --keep would prune across both runs.
@Suite struct CheckpointFolderInUseTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("dualpipe-in-use-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path

    func makeCheckpoint(step: Int, complete: Bool) throws {
        let folder = root + String(format: "/step-%06d", step)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if complete { #expect(FileManager.default.createFile(atPath: folder + "/manifest.json", contents: Data("{}".utf8))) }
    }

    @Test func aCompleteCheckpointAsksForResume() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try makeCheckpoint(step: 2, complete: true)
        try makeCheckpoint(step: 4, complete: true)
        let error = #expect(throws: (any Error).self) { try TrainCommand.parse(["--checkpoint-dir", root]) }
        #expect(TrainCommand.message(for: error!) == "--checkpoint-dir '\(root)' already holds checkpoints (the newest: \(root)/step-000004): continue that run with --resume, or train afresh in a new or empty folder")
        _ = try TrainCommand.parse(["--checkpoint-dir", root, "--resume"])
    }

    /// A trainer without checkpoints hears that about its flag, not that the folder's run wants
    /// --resume (which it would then refuse as well).
    @Test func aTrainerWithoutCheckpointsNamesTheFlagBeforeTheFolder() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try makeCheckpoint(step: 2, complete: true)
        for (flags, message) in [(["--reference"], "--checkpoint-dir applies to the pipeline trainer, not to --reference; in one process the pipeline trainer saves and resumes: dualpipe train --schedule 1f1b --checkpoint-dir DIR (PP 1)"),
                                 (["--model", "mlp"], "--checkpoint-dir applies to the MoE transformer, not to --model mlp")] {
            for resume in [[], ["--resume"]] {
                let error = #expect(throws: (any Error).self) { try TrainCommand.parse(flags + ["--checkpoint-dir", root] + resume) }
                #expect(TrainCommand.message(for: error!) == message)
            }
        }
    }

    /// A folder a crash left without its manifest never became a checkpoint: nothing to continue.
    @Test func anEmptyFolderOrAnUnfinishedCheckpointIsNoObstacle() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        _ = try TrainCommand.parse(["--checkpoint-dir", root])
        try makeCheckpoint(step: 3, complete: false)
        _ = try TrainCommand.parse(["--checkpoint-dir", root])
    }
}
