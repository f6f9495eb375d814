import Model
import Schedule

/// A checkpoint as a run of another layout reads it: the configuration it was written on, whose
/// schedule, PP, V and EP cut the model into other stages and put them on other ranks.
struct WrittenLayout {
    let folder: String
    let manifest: CheckpointManifest
    let configuration: PipelineConfiguration
    let model: ModelConfiguration

    init(folder: String, manifest: CheckpointManifest, model: ModelConfiguration) throws {
        guard let kind = ScheduleKind(rawValue: manifest.schedule) else {
            throw PipelineError("checkpoint \(folder): schedule '\(manifest.schedule)' is not one this program knows")
        }
        do {
            configuration = try PipelineConfiguration(kind: kind, pipelineRanks: manifest.pipelineRanks, expertParallel: manifest.expertParallel,
                                                      microBatches: manifest.microBatches, stagesPerRank: manifest.stagesPerRank,
                                                      model: model, replicas: manifest.replicas,
                                                      worldSize: manifest.pipelineRanks * manifest.expertParallel)
                .ordered(manifest.rankOrder ?? .pipeline)
        } catch {
            throw PipelineError("checkpoint \(folder): its manifest describes no layout of this model: \(error)")
        }
        self.folder = folder
        self.manifest = manifest
        self.model = model
    }

    /// The shard of the written run's pipeline rank `pp`, EP rank `ep`.
    func shard(pipelineRank pp: Int, expertRank ep: Int) throws -> (shard: ShardFile, path: String) {
        try Checkpointer.read(folder, rank: manifest.savedGrid.worldRank(pipeline: pp, expert: ep), manifest: manifest)
    }

    /// The written run's pipeline rank that held `part` (the primary copy: DualPipe's mirror holds
    /// an equal one).
    func holder(of part: DenseLayout.Part) -> Int {
        configuration.primaryPipelineRank(of: configuration.partition.stage(holding: part))
    }

    /// The MoE blocks of the written run's pipeline rank `pp`, in the order of its load statistics
    /// (its stages ascending, each stage's blocks in order).
    func moeBlocks(ofPipelineRank pp: Int) -> [Int] {
        configuration.stagesHeld(byPipelineRank: pp).flatMap { configuration.partition.blocks(of: $0).filter(model.moeLayers.contains) }
    }
}

/// One part of a stage's dense record, with its AdamW moments (empty before the first update)
/// and step count.
struct DensePart {
    var values: [Float], m: [Float], v: [Float], steps: Int
}

extension Checkpointer {
    /// Loads a checkpoint written on another layout (schedule, PP, V or EP; the same model and
    /// micro-batches a step). Each stage's dense parameters and moments are assembled part by part
    /// (embedding, blocks, head) from the records of the stages that held them, the routing biases
    /// and load statistics are taken by block, and every MoE layer's experts, with their moments,
    /// from any slot that held them, placed anew by EPLB from those statistics. The written shards
    /// are read one at a time, so a rank holds at most one of them beside its own state.
    static func restoreAnotherLayout(_ trainer: PipelineTrainer, folder: String, manifest: CheckpointManifest) throws {
        let written = try WrittenLayout(folder: folder, manifest: manifest, model: trainer.model)
        let model = trainer.model, partition = trainer.configuration.partition
        let layouts = trainer.stages.map { DenseLayout(stage: $0.index, partition: partition, model: model) }
        let parts = layouts.flatMap { $0.parts.map(\.part) }
        let moeBlocks = trainer.stages.flatMap { $0.blocks.map(\.index).filter(model.moeLayers.contains) }
        var pieces: [DenseLayout.Part: DensePart] = [:], biases: [Int: [Float]] = [:], loads: [Int: [Double]] = [:]
        var allLoads = true
        for pp in Set(parts.map(written.holder)).sorted() {
            let (shard, path) = try written.shard(pipelineRank: pp, expertRank: 0)
            for stage in written.configuration.stagesHeld(byPipelineRank: pp) where written.configuration.primaryPipelineRank(of: stage) == pp {
                let layout = DenseLayout(stage: stage, partition: written.configuration.partition, model: model)
                let wanted = layout.parts.map(\.part).filter(parts.contains)
                guard !wanted.isEmpty else { continue }
                let name = "stage\(stage).dense"
                let values = try shard.floats(name, path: path), adam = try adam(shard, name + ".adam", path)
                guard values.count == layout.count, [0, layout.count].contains(adam.m.count), adam.v.count == adam.m.count else {
                    throw PipelineError("checkpoint shard \(path): stage \(stage) has \(values.count) dense parameters (moments \(adam.m.count), \(adam.v.count)), "
                                        + "this model's stage \(stage) of \(written.configuration.partition.stages) \(layout.count)")
                }
                for part in wanted {
                    let range = layout.range(of: part)!
                    pieces[part] = DensePart(values: Array(values[range]), m: adam.m.isEmpty ? [] : Array(adam.m[range]),
                                             v: adam.v.isEmpty ? [] : Array(adam.v[range]), steps: adam.steps)
                }
            }
            let blocks = written.moeBlocks(ofPipelineRank: pp)
            let saved = shard.has("loads") ? try shard.doubles("loads", path: path) : nil
            for block in moeBlocks where written.holder(of: .block(block)) == pp {
                biases[block] = try shard.floats("block\(block).bias", path: path)
                let index = blocks.firstIndex(of: block)!
                guard let saved, saved.count >= (index + 1) * model.experts else { allLoads = false; continue }
                loads[block] = Array(saved[(index * model.experts)..<((index + 1) * model.experts)])
            }
        }
        for ((stage, optimizer), layout) in zip(zip(trainer.stages, trainer.optimizers), layouts) {
            let stagePieces = layout.parts.map { pieces[$0.part]! }
            let steps = Set(stagePieces.map(\.steps))
            guard steps.count == 1 else {
                throw PipelineError("checkpoint \(folder): the stages that held stage \(stage.index)'s parts disagree on AdamW's step count (\(steps.sorted()))")
            }
            try load(stagePieces.flatMap(\.values), into: DenseParameters(stage), path: folder, what: "stage \(stage.index)")
            optimizer.dense.state = AdamW.State(m: stagePieces.flatMap(\.m), v: stagePieces.flatMap(\.v), steps: steps.first!)
            for (moe, block) in zip(stage.moeLayers, stage.blocks.map(\.index).filter(model.moeLayers.contains)) {
                guard biases[block]!.count == moe.routingBias.count else {
                    throw PipelineError("checkpoint \(folder): block \(block) has \(biases[block]!.count) routing biases, this model \(moe.routingBias.count)")
                }
                moe.restoreRoutingBias(biases[block]!)
            }
        }
        if allLoads && !moeBlocks.isEmpty { trainer.loads.restore(moeBlocks.flatMap { loads[$0]! }) }
        try restoreExperts(trainer, from: written)
    }

    /// Every MoE layer's experts, placed anew from the load statistics (uniform where the
    /// checkpoint has none), each with its moments from the first slot of the written run that
    /// held it (in EP rank order, then slot order); one written shard at a time.
    private static func restoreExperts(_ trainer: PipelineTrainer, from written: WrittenLayout) throws {
        let layers = zip(trainer.optimizers, trainer.stages).flatMap { optimizer, stage in
            stage.expertSlots.enumerated().map { (optimizer: optimizer, index: $0.offset, slots: $0.element) }
        }
        guard !layers.isEmpty else { return }
        let loads = trainer.loads.average ?? layers.map { [Double](repeating: 1, count: $0.slots.logicalExperts) }
        let rows = try trainer.placer.place(loads: loads, previous: nil)
        let holders = layers.map { written.holder(of: .block($0.slots.block)) }, oldEP = written.manifest.expertParallel
        // [layers][local slots] the expert each slot takes, once found.
        var found: [[SwiGLU?]] = layers.map { [SwiGLU?](repeating: nil, count: $0.slots.localSlots.count) }
        for pp in Set(holders).sorted() {
            for ep in 0..<oldEP {
                let (shard, path) = try written.shard(pipelineRank: pp, expertRank: ep)
                for (l, (optimizer, layerIndex, layer)) in layers.enumerated() where holders[l] == pp {
                    let b = "block\(layer.block)"
                    let old = try shard.integers(b + ".phy2log", path: path), perRank = old.count / oldEP
                    for slot in (ep * perRank)..<((ep + 1) * perRank) {
                        for (k, p) in layer.localSlots.enumerated() where found[l][k] == nil && rows[l][p] == old[slot] {
                            let expert = layer.makeExpert(old[slot])
                            try load(try shard.floats(b + ".slot\(slot)", path: path), into: expert, path: path, what: "\(b) slot \(slot)")
                            optimizer.experts[layerIndex][k].state = try adam(shard, b + ".slot\(slot).adam", path)
                            found[l][k] = expert
                        }
                    }
                }
            }
        }
        for (l, (_, _, layer)) in layers.enumerated() {
            if let k = found[l].firstIndex(where: { $0 == nil }) {
                throw PipelineError("checkpoint \(written.folder): no slot of block\(layer.block) holds expert \(rows[l][layer.localSlots.lowerBound + k])")
            }
            layer.install(phy2log: rows[l], experts: found[l].map { $0! })
        }
    }
}
