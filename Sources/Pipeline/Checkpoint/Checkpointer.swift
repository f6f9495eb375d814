import Foundation
import MPI
import Model
import Tensor

/// Where checkpoints go and how often.
public struct CheckpointOptions: Sendable {
    public var directory: String
    /// Steps between checkpoints (0: never save).
    public var every: Int
    /// Complete checkpoints kept; older ones are deleted after a new one is complete.
    public var keep: Int
    /// The build that writes them (`dualpipe --version`'s revision), recorded in each manifest.
    public var build: String?

    public init(directory: String, every: Int, keep: Int, build: String? = nil) {
        self.directory = directory
        self.every = every
        self.keep = keep
        self.build = build
    }
}

/// Saves and restores the whole training state of a pipeline run: each rank writes its shard (its
/// stages' parameters, its expert slots and their placement, AdamW moments, routing biases, the
/// load statistics; the step is the data position, since micro-batches are a pure function of
/// the step), then rank 0 writes the manifest, last.
public enum Checkpointer {
    public static func folder(_ directory: String, step: Int) -> String {
        (directory as NSString).appendingPathComponent(String(format: "step-%06d", step))
    }

    static func shardName(rank: Int) -> String { String(format: "rank-%05d.shard", rank) }

    /// The complete checkpoints in `directory` (those with a manifest), newest first, and the
    /// folders that lack one, oldest first.
    public static func list(_ directory: String) -> (complete: [(step: Int, path: String)], incomplete: [(step: Int, path: String)]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var complete: [(Int, String)] = [], incomplete: [(Int, String)] = []
        for name in names where name.hasPrefix("step-") {
            guard let step = Int(name.dropFirst(5)) else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("manifest.json")) {
                complete.append((step, path))
            } else {
                incomplete.append((step, path))
            }
        }
        return (complete.sorted { $0.0 > $1.0 }, incomplete.sorted { $0.0 < $1.0 })
    }

    /// Reads a checkpoint's manifest; errors name the file.
    public static func manifest(at folder: String) throws -> CheckpointManifest {
        let path = (folder as NSString).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: path) else { throw PipelineError("cannot read \(path)") }
        do {
            return try JSONDecoder().decode(CheckpointManifest.self, from: data)
        } catch {
            throw PipelineError("\(path) is not a checkpoint manifest of this program (\(error.localizedDescription))")
        }
    }

    /// The newest complete checkpoint in `directory` that this run can resume from; throws, naming
    /// the checkpoint and every mismatch, when it cannot. Reads files only: every rank reaches the
    /// same verdict before any communication.
    public static func newest(in directory: String, for run: CheckpointManifest) throws -> (folder: String, manifest: CheckpointManifest) {
        let found = list(directory)
        guard let newest = found.complete.first else {
            let partial = found.incomplete.isEmpty ? "" : " (\(found.incomplete.map { ($0.path as NSString).lastPathComponent }.joined(separator: ", ")) without manifest.json: never finished, not a checkpoint)"
            throw PipelineError("--resume: no complete checkpoint in \(directory)\(partial)")
        }
        let manifest = try manifest(at: newest.path)
        if let why = manifest.mismatch(with: run) {
            throw PipelineError("--resume: checkpoint \(newest.path) does not fit this run: \(why)")
        }
        return (newest.path, manifest)
    }

    /// Writes step `step`'s checkpoint (the state after steps 0..<step). Collective over the world.
    /// The checkpoints it makes too many for `--keep` are deleted while the next steps run, and
    /// before the next save, so that the folder never holds more than `--keep` and the one being
    /// written; after the run's `last` save, before it returns.
    public static func save(_ trainer: PipelineTrainer, step: Int, seed: UInt64, options: CheckpointOptions, last: Bool) throws -> String {
        let world = trainer.grid.world
        let folder = folder(options.directory, step: step)
        let manifestPath = (folder as NSString).appendingPathComponent("manifest.json")
        if world.rank == 0 {
            trainer.checkpointRemoval.wait()
            // A folder of this step is a save cut short (a complete one would have been resumed
            // from): it goes whole, so that no shard of another layout's world stays beside ours.
            try? FileManager.default.removeItem(atPath: folder)
            try makeFolder(folder)
        }
        try world.barrier()
        // Sharded, each rank holds the moments of one of its two stages; the shard has both.
        let residentBefore = residentBytes()
        try trainer.completeMirroredMoments()
        defer {
            trainer.releaseMirroredMoments()
            // The heap also holds the steps' buffers, free between steps: handed back, they would
            // cost the next step their page faults (70 ms of a 1.2 s step, 8 ranks on 2 cores),
            // so it is trimmed only where the save took much more from the system than it had.
            if residentBytes() - residentBefore > 16 << 20 { GlibcHeap.returnFreedMemory() }
        }
        let checksum = try shard(of: trainer, step: step).write(to: (folder as NSString).appendingPathComponent(shardName(rank: world.rank)))
        let checksums = try world.allgather([Int64(bitPattern: checksum)])
        if world.rank == 0 {
            var manifest = CheckpointManifest(configuration: trainer.configuration, model: trainer.model, training: trainer.training,
                                              balancing: trainer.balancing, step: step, seed: seed)
            manifest.build = options.build
            for (rank, sum) in checksums.enumerated() { manifest.shards[shardName(rank: rank)] = String(UInt64(bitPattern: sum), radix: 16) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try ShardFile.writeAtomically(Array(try encoder.encode(manifest)), to: manifestPath)
            trainer.checkpointRemoval.remove(prunable(options.directory, keep: options.keep))
            if last { trainer.checkpointRemoval.wait() }
        }
        try world.barrier()
        return folder
    }

    /// `mkdir -p`, failing with the system's words (a full disk, a permission taken away since
    /// the run started) where Foundation gives an error code.
    static func makeFolder(_ path: String) throws(PipelineError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) == 0 { continue }
            let failure = errno
            var info = stat()
            if failure == EEXIST && stat(prefix, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR { continue }
            let reason = failure == EEXIST ? "\(prefix.dropLast()) is not a folder" : "\(prefix.dropLast()): \(String(cString: strerror(failure)))"
            throw PipelineError("cannot create checkpoint folder \(path): \(reason)")
        }
    }

    /// What goes to keep the newest `keep` complete checkpoints: older folders, complete or not.
    static func prunable(_ directory: String, keep: Int) -> [String] {
        let found = list(directory)
        guard found.complete.count > keep, keep >= 1 else { return [] }
        let oldestKept = found.complete[keep - 1].step
        return found.complete.dropFirst(keep).filter { $0.step < oldestKept }.map(\.path)
            + found.incomplete.filter { $0.step < oldestKept }.map(\.path)
    }

    /// This rank's state as shard records.
    static func shard(of trainer: PipelineTrainer, step: Int) -> ShardFile {
        var file = ShardFile()
        let grid = trainer.grid
        file.add("meta", integers: [step, grid.world.rank, grid.pipelineRank, grid.expertRank, trainer.configuration.expertParallel])
        for (stage, optimizer) in zip(trainer.stages, trainer.optimizers) {
            let s = "stage\(stage.index)"
            file.add(s + ".dense", pieces: DenseParameters(stage).parameterPieces())
            add(optimizer.dense, s + ".dense.adam", to: &file)
            for (l, layer) in stage.expertSlots.enumerated() {
                let b = "block\(layer.block)"
                file.add(b + ".phy2log", integers: layer.phy2log)
                for (k, expert) in layer.experts.enumerated() {
                    file.add(b + ".slot\(layer.localSlots.lowerBound + k)", pieces: expert.parameterPieces())
                    add(optimizer.experts[l][k], b + ".slot\(layer.localSlots.lowerBound + k).adam", to: &file)
                }
            }
            for (moe, block) in zip(stage.moeLayers, stage.blocks.filter { $0.ffn is MoELayer }) {
                file.add("block\(block.index).bias", moe.routingBias)
            }
        }
        if let average = trainer.loads.average { file.add("loads", doubles: average.flatMap { $0 }) }
        return file
    }

    static func add(_ adam: AdamW, _ name: String, to file: inout ShardFile) {
        let state = adam.state
        file.add(name + ".steps", integers: [state.steps])
        file.add(name + ".m", state.m)
        file.add(name + ".v", state.v)
    }
}
