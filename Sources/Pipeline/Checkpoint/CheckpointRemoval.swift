import Foundation

/// Deletes the checkpoints that `--keep` no longer keeps on a thread of its own, while the steps
/// after the save run: with a checkpoint of 1.0 GB on 8 ranks, deleting the oldest held every
/// rank about 0.2 s at the save's barrier. Each folder loses its manifest first, so that one cut
/// short (by the job's end) is an unfinished save, never a checkpoint with shards missing.
/// A run's trainer owns one: its removals run one after another, in the order its saves asked.
final class CheckpointRemoval: Sendable {
    private let queue = DispatchQueue(label: "dualpipe.checkpoint-removal")

    func remove(_ folders: [String]) {
        guard !folders.isEmpty else { return }
        queue.async { for folder in folders { Self.delete(folder) } }
    }

    /// Returns once every removal asked for so far is done.
    func wait() { queue.sync {} }

    static func delete(_ folder: String) {
        try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent("manifest.json"))
        try? FileManager.default.removeItem(atPath: folder)
    }
}
