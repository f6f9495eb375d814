import ArgumentParser
import Foundation
import MPI
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Whether a run's checkpoints fit the file system that holds --checkpoint-dir, judged before the
/// first step. A save that runs out of space ends the job, after the steps before it were trained:
/// a file system with less free than one checkpoint is refused; one with less than what the folder
/// comes to hold (the --keep newest and the one being written, less the checkpoints already there)
/// gets a warning, since space may be freed meanwhile. A quota below the free space is not seen.
struct CheckpointSpace: Equatable {
    /// Bytes one checkpoint writes (`PipelineConfiguration.checkpointBytes`).
    var checkpointBytes: Double
    /// Shards a checkpoint has: one per world rank.
    var shards: Int
    /// Bytes the file system gives this user (statvfs's f_bavail).
    var free: Double
    /// The complete checkpoints already in the folder (a resumed run's), and their bytes.
    var existingCount = 0
    var existing: Double = 0
    var keep: Int
    /// The saves this run makes (every K steps and after the last).
    var saves: Int

    /// The most checkpoints the folder holds at once: --keep pruning leaves the `keep` newest only
    /// after a save completes, so while the run's last save is written, up to `keep` and that one.
    var mostHeld: Int { min(existingCount + saves - 1, keep) + 1 }

    /// What the folder needs free at most, beyond what it holds; at least one checkpoint.
    var needed: Double { max(checkpointBytes, Double(mostHeld) * checkpointBytes - existing) }

    /// nil where everything fits; else the verdict and whether it refuses the run.
    func verdict(directory: String) -> (text: String, refuses: Bool)? {
        let size = "a checkpoint of this run writes about \(Self.decimal(checkpointBytes)) (\(shards) shard\(shards == 1 ? "" : "s"))"
        if free < checkpointBytes {
            return ("--checkpoint-dir '\(directory)': \(size), and its file system has \(Self.decimal(free)) free: free space there, or give a folder on a larger file system", true)
        }
        guard free < needed else { return nil }
        let held = existing > 0 ? " (beside the \(Self.decimal(existing)) of checkpoints already there)" : ""
        return ("--checkpoint-dir '\(directory)': \(size); with --keep \(keep) the folder comes to hold \(mostHeld) at once while a save completes, "
                + "\(Self.decimal(needed)) more\(held), and its file system has \(Self.decimal(free)) free: a later save may run out of space", false)
    }

    /// The free space and the complete checkpoints in `directory` (or, before it exists, the
    /// nearest folder above it); nil where the file system says nothing.
    static func measure(_ directory: String) -> (free: Double, existingCount: Int, existing: Double)? {
        var existingFolder = directory
        var info = statvfs()
        while statvfs(existingFolder, &info) != 0 {
            let parent = Files.parentFolder(of: existingFolder)
            guard parent != existingFolder else { return nil }
            existingFolder = parent
        }
        let complete = Checkpointer.list(directory).complete
        let held = complete.reduce(0) { $0 + Checkpointer.size(of: $1.path) }
        return (Double(info.f_bavail) * Double(info.f_frsize), complete.count, Double(held))
    }

    /// Bytes as decimal MB, GB or TB, as `dualpipe checkpoint` lists them.
    static func decimal(_ bytes: Double) -> String {
        for (unit, scale) in [("TB", 1e12), ("GB", 1e9)] where bytes >= scale { return String(format: "%.1f %@", bytes / scale, unit) }
        return String(format: "%.1f MB", bytes / 1e6)
    }
}

extension CheckpointSpace {
    /// Measures `directory`'s file system for a run whose checkpoints write `checkpointBytes` in
    /// `shards` shards, `saves` of them; refuses the run where one does not fit, warns (where
    /// `prints`) where the --keep newest may not. nil where the file system says nothing.
    static func require(_ directory: String, checkpointBytes: Double, shards: Int, keep: Int, saves: Int, prints: Bool) throws -> CheckpointSpace? {
        guard let (free, count, existing) = measure(directory) else { return nil }
        let space = CheckpointSpace(checkpointBytes: checkpointBytes, shards: shards, free: free, existingCount: count, existing: existing,
                                    keep: keep, saves: saves)
        if let (text, refuses) = space.verdict(directory: directory) {
            if refuses { throw ValidationError(text) }
            if prints { printError("warning: " + text) }
        }
        return space
    }
}
