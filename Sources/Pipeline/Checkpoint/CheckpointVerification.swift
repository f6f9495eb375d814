import Foundation

extension Checkpointer {
    /// What a check of one complete checkpoint found: every shard its manifest lists, read whole,
    /// its records and checksum checked and its checksum compared with the manifest's.
    public struct Verification: Sendable {
        public var shards: Int
        /// One line per shard that failed (missing, unreadable, damaged, another shard than the
        /// manifest's), naming it; empty when every shard is intact.
        public var problems: [String]
    }

    /// Reads every shard `manifest` lists in `folder`, one at a time, without MPI: what `--resume`
    /// checks before it trusts a checkpoint, for a user to run before queueing the job that
    /// resumes from it.
    public static func verify(_ folder: String, manifest: CheckpointManifest) -> Verification {
        let shards = manifest.pipelineRanks * manifest.expertParallel
        var problems: [String] = []
        for rank in 0..<shards {
            do { _ = try read(folder, rank: rank, manifest: manifest) } catch { problems.append("\(error)") }
        }
        return Verification(shards: shards, problems: problems)
    }

    /// The bytes of the files in a checkpoint folder (its shards and manifest).
    public static func size(of folder: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.reduce(0) { total, name in
            let path = (folder as NSString).appendingPathComponent(name)
            return total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
    }
}
