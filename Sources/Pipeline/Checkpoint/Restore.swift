import Foundation
import MPI
import Model
import Tensor

extension Checkpointer {
    /// Loads `folder` (a complete checkpoint that `manifest` describes and this run fits) into the
    /// trainer. On the checkpoint's layout and EP size every rank reads its own shard and the run
    /// goes on exactly as the uninterrupted one; on another (`restoreAnotherLayout`) each rank reads
    /// the shards of the ranks that held its blocks and places the experts anew from the saved
    /// load statistics. Collective over the world: a rank that cannot load says why and every
    /// rank fails.
    public static func restore(_ trainer: PipelineTrainer, from folder: String, manifest: CheckpointManifest) throws {
        let grid = trainer.grid
        var failure: String?
        do {
            if manifest.layoutChange(to: trainer.configuration) == nil {
                try restoreSameGrid(trainer, folder: folder, manifest: manifest)
            } else {
                try restoreAnotherLayout(trainer, folder: folder, manifest: manifest)
            }
        } catch {
            failure = "\(error)"
        }
        let failed = try grid.world.allgather([failure == nil ? 0 : 1])
        if let failure { throw PipelineError(failure) }
        if let first = failed.firstIndex(of: 1) { throw PipelineError("rank \(first) could not load its part of checkpoint \(folder)") }
        trainer.releaseMirroredMoments()
        GlibcHeap.returnFreedMemory()
        trainer.nextStep = manifest.step
    }

    static func read(_ folder: String, rank: Int, manifest: CheckpointManifest) throws -> (ShardFile, String) {
        let name = shardName(rank: rank), path = (folder as NSString).appendingPathComponent(name)
        let shard = try ShardFile(reading: path)
        let checksum = String(shard.checksum, radix: 16)
        guard let recorded = manifest.shards[name], recorded == checksum else {
            throw PipelineError("checkpoint shard \(path) is not the one its manifest lists (checksum \(checksum), manifest \(manifest.shards[name] ?? "none"))")
        }
        return (shard, path)
    }

    static func restoreSameGrid(_ trainer: PipelineTrainer, folder: String, manifest: CheckpointManifest) throws {
        let saved = manifest.savedGrid.worldRank(pipeline: trainer.grid.pipelineRank, expert: trainer.grid.expertRank)
        let (shard, path) = try read(folder, rank: saved, manifest: manifest)
        let meta = try shard.integers("meta", path: path)
        guard meta.count == 5, meta[0] == manifest.step, meta[2] == trainer.grid.pipelineRank, meta[3] == trainer.grid.expertRank else {
            throw PipelineError("checkpoint shard \(path) belongs to step \(meta.first ?? -1), pipeline rank \(meta.count > 2 ? meta[2] : -1), EP rank \(meta.count > 3 ? meta[3] : -1)")
        }
        try restoreDense(trainer, shard, path)
        for (stage, optimizer) in zip(trainer.stages, trainer.optimizers) {
            for (l, layer) in stage.expertSlots.enumerated() {
                let b = "block\(layer.block)"
                let row = try shard.integers(b + ".phy2log", path: path)
                guard row.count == layer.slots else { throw PipelineError("checkpoint shard \(path): \(b) has \(row.count) slots, this run \(layer.slots)") }
                var experts: [SwiGLU] = []
                for (k, p) in layer.localSlots.enumerated() {
                    let expert = layer.makeExpert(row[p])
                    try load(try shard.floats(b + ".slot\(p)", path: path), into: expert, path: path, what: "\(b) slot \(p)")
                    experts.append(expert)
                    optimizer.experts[l][k].state = try adam(shard, b + ".slot\(p).adam", path)
                }
                layer.install(phy2log: row, experts: experts)
            }
        }
        if shard.has("loads") { trainer.loads.restore(try shard.doubles("loads", path: path)) }
    }

    /// Dense parameters, their moments and the routing biases of every held stage, from `shard`.
    static func restoreDense(_ trainer: PipelineTrainer, _ shard: ShardFile, _ path: String) throws {
        for (stage, optimizer) in zip(trainer.stages, trainer.optimizers) {
            let s = "stage\(stage.index)"
            try load(try shard.floats(s + ".dense", path: path), into: DenseParameters(stage), path: path, what: s)
            optimizer.dense.state = try adam(shard, s + ".dense.adam", path)
            let blocks = stage.blocks.filter { $0.ffn is MoELayer }.map(\.index)
            try restoreRoutingBiases(stage, Dictionary(uniqueKeysWithValues: blocks.map { ($0, try shard.floats("block\($0).bias", path: path)) }), folder: path)
        }
    }

    static func load(_ values: [Float], into owner: some ParameterOwner, path: String, what: String) throws {
        guard values.count == owner.parameterCount else {
            throw PipelineError("checkpoint shard \(path): \(what) has \(values.count) parameters, this model \(owner.parameterCount)")
        }
        owner.loadParameters(values)
    }

    static func adam(_ shard: ShardFile, _ name: String, _ path: String) throws -> AdamW.State {
        AdamW.State(m: try shard.floats(name + ".m", path: path), v: try shard.floats(name + ".v", path: path),
                    steps: try shard.integers(name + ".steps", path: path).first ?? 0)
    }
}
