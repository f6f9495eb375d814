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

    /// What a run needs of the written dense state: each of `parts` (a stage's dense record cut
    /// by `DenseLayout`, with its moments), the routing biases of `moeBlocks`, and their load
    /// statistics (nil unless the checkpoint has them for every one). Reads the EP-0 shard of
    /// each written pipeline rank that held a part, one at a time.
    func readDense(parts: [DenseLayout.Part], moeBlocks: [Int]) throws -> (pieces: [DenseLayout.Part: DensePart], biases: [Int: [Float]], loads: [Int: [Double]]?) {
        var pieces: [DenseLayout.Part: DensePart] = [:], biases: [Int: [Float]] = [:], loads: [Int: [Double]]? = [:]
        for pp in Set(parts.map(holder)).sorted() {
            let (shard, path) = try shard(pipelineRank: pp, expertRank: 0)
            for stage in configuration.stagesHeld(byPipelineRank: pp) where configuration.primaryPipelineRank(of: stage) == pp {
                let layout = DenseLayout(stage: stage, partition: configuration.partition, model: model)
                let wanted = layout.parts.map(\.part).filter(parts.contains)
                guard !wanted.isEmpty else { continue }
                let name = "stage\(stage).dense"
                let values = try shard.floats(name, path: path), adam = try Checkpointer.adam(shard, name + ".adam", path)
                guard values.count == layout.count, [0, layout.count].contains(adam.m.count), adam.v.count == adam.m.count else {
                    throw PipelineError("checkpoint shard \(path): stage \(stage) has \(values.count) dense parameters (moments \(adam.m.count), \(adam.v.count)), "
                                        + "this model's stage \(stage) of \(configuration.partition.stages) \(layout.count)")
                }
                for part in wanted {
                    let range = layout.range(of: part)!
                    pieces[part] = DensePart(values: Array(values[range]), m: adam.m.isEmpty ? [] : Array(adam.m[range]),
                                             v: adam.v.isEmpty ? [] : Array(adam.v[range]), steps: adam.steps)
                }
            }
            let blocks = self.moeBlocks(ofPipelineRank: pp)
            let saved = shard.has("loads") ? try shard.doubles("loads", path: path) : nil
            for block in moeBlocks where holder(of: .block(block)) == pp {
                biases[block] = try shard.floats("block\(block).bias", path: path)
                let index = blocks.firstIndex(of: block)!
                guard let saved, saved.count >= (index + 1) * model.experts else { loads = nil; continue }
                loads?[block] = Array(saved[(index * model.experts)..<((index + 1) * model.experts)])
            }
        }
        return (pieces, biases, loads)
    }

    /// Hands `supply` each logical expert that `wanted` names for an MoE block ([block: experts]),
    /// once, from the first slot of the written run that held it (in EP rank order, then slot
    /// order): its parameters and AdamW state. Reads one written shard at a time; throws, naming
    /// the block, for an expert no slot held.
    func readExperts(_ wanted: [Int: Set<Int>], supply: (_ block: Int, _ expert: Int, _ values: [Float], _ state: AdamW.State) throws -> Void) throws {
        var missing = wanted
        let oldEP = manifest.expertParallel
        for pp in Set(wanted.keys.map { holder(of: .block($0)) }).sorted() {
            for ep in 0..<oldEP {
                let (shard, path) = try shard(pipelineRank: pp, expertRank: ep)
                for block in wanted.keys.sorted() where holder(of: .block(block)) == pp {
                    let b = "block\(block)"
                    let old = try shard.integers(b + ".phy2log", path: path), perRank = old.count / oldEP
                    for slot in (ep * perRank)..<((ep + 1) * perRank) where missing[block]!.contains(old[slot]) {
                        missing[block]!.remove(old[slot])
                        try supply(block, old[slot], try shard.floats(b + ".slot\(slot)", path: path), try Checkpointer.adam(shard, b + ".slot\(slot).adam", path))
                    }
                }
            }
        }
        if let (block, experts) = missing.sorted(by: { $0.key < $1.key }).first(where: { !$0.value.isEmpty }) {
            throw PipelineError("checkpoint \(folder): no slot of block\(block) holds expert \(experts.sorted().first!)")
        }
    }
}

/// One part of a stage's dense record, with its AdamW moments (empty before the first update)
/// and step count.
struct DensePart {
    var values: [Float], m: [Float], v: [Float], steps: Int

    init(values: [Float], m: [Float], v: [Float], steps: Int) {
        (self.values, self.m, self.v, self.steps) = (values, m, v, steps)
    }

    /// A stage's parts joined in order; their step counts must agree.
    init(joining parts: [DensePart], stage: Int, folder: String) throws {
        let steps = Set(parts.map(\.steps))
        guard steps.count == 1 else {
            throw PipelineError("checkpoint \(folder): the stages that held stage \(stage)'s parts disagree on AdamW's step count (\(steps.sorted()))")
        }
        self.init(values: parts.flatMap(\.values), m: parts.flatMap(\.m), v: parts.flatMap(\.v), steps: steps.first!)
        guard m.isEmpty || m.count == values.count else {
            throw PipelineError("checkpoint \(folder): the stages that held stage \(stage)'s parts disagree on whether AdamW has moments yet")
        }
    }
}
