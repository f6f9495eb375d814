import Model
import Schedule

/// What one pipeline rank of a run needs in memory, in bytes, estimated before anything is built:
/// its held stages' parameters with gradients, and AdamW moments for those it updates (an EP
/// rank's expert slots only), the most micro-batch contexts the schedule keeps alive on it at once
/// (`Schedule.savedContexts`) each at the size of its largest held stage's, the attention
/// backward's transient buffers once, the flat buffers its gradient sums gather into, and the
/// message buffers its lowered program holds at once (`LoweredSchedule.messageBuffersHeld`); and,
/// where the job measured it, the process as it stood before the run allocated. An estimate, not a
/// bound: the allocator's slack comes on top, while a split B frees part of a context before its W
/// (docs/inputs.md).
public struct RankMemoryEstimate: Sendable, Equatable {
    public var parameters: Double
    /// Micro-batch contexts alive at once at most.
    public var contexts: Int
    /// Bytes of one context: the largest of the held stages'.
    public var contextBytes: Double
    public var transient: Double
    /// Inputs and targets held for the whole step (`--model mlp`'s, drawn before it starts).
    public var data: Double = 0
    /// The gradient sums' flat buffers: a float for each gradient element the rank gathers to sum
    /// with another copy (`GradientArena`, `ExpertGradientSync`: routed experts by logical expert),
    /// another for each it receives from its pair where a stage's sum swaps during the schedule
    /// across nodes (`StageGradientSums`), and the mirror pair's four windows where AdamW is sharded.
    public var sums: Double = 0
    /// Message buffers held at once at most, each `[tokens, hidden]` floats.
    public var messageBuffers = 0
    public var messageBufferBytes: Double = 0
    /// With checkpoints: what a save or a restore holds at once beside the parameters, after a
    /// step when the activations are gone: where AdamW is sharded, the moments of the stage the
    /// partner updates (a shard holds both stages'), and one record (at most a held stage's
    /// parameters) read or written in full. It takes the activations' place in `run`, where larger.
    public var checkpoint: Double = 0
    /// The resident set of a rank's process before the run allocates (the Swift runtime, Open
    /// MPI, OpenBLAS, the program): measured once the job has started, 0 until then.
    public var process: Double = 0
    public var activations: Double { Double(contexts) * contextBytes }
    public var messages: Double { Double(messageBuffers) * messageBufferBytes }
    /// What the run itself allocates: all but the process.
    public var run: Double { parameters + max(activations + transient, checkpoint) + data + sums + messages }
    public var total: Double { run + process }
}

extension Array where Element == RankMemoryEstimate {
    /// The pipeline rank that needs the most, and its estimate (nil for no ranks).
    public var largest: (pipelineRank: Int, estimate: RankMemoryEstimate)? {
        indices.max { self[$0].total < self[$1].total }.map { ($0, self[$0]) }
    }
}

extension PipelineConfiguration {
    /// The held stages of pipeline rank `pp` whose AdamW moments it keeps: all of them, or with
    /// AdamW sharded over DualPipe's mirror pairs (`shardedOptimizer`) its primary stage alone.
    func stagesUpdated(byPipelineRank pp: Int, shardedOptimizer: Bool) -> [Int] {
        shardedOptimizer ? primaryStages(ofPipelineRank: pp) : stagesHeld(byPipelineRank: pp)
    }

    /// The estimate for pipeline rank `pp` running `lowered` (this configuration's schedule, or a
    /// file's for the same kind, PP and M, as the runtime lowers it) on `model`, AdamW sharded over
    /// the mirror pairs or not, its ranks on the nodes `nodeOfRank` gives (every world rank's node
    /// index; nil: all on one), saving or restoring checkpoints or not.
    public func memoryEstimate(ofPipelineRank pp: Int, model: ModelConfiguration, lowered: LoweredSchedule, shardedOptimizer: Bool = false,
                               nodeOfRank: [Int]? = nil, checkpoints: Bool = false) -> RankMemoryEstimate {
        let held = stagesHeld(byPipelineRank: pp), updating = stagesUpdated(byPipelineRank: pp, shardedOptimizer: shardedOptimizer)
        let stages = held.map { model.memoryEstimate(ofStage: $0, in: partition, expertSlots: slotsPerRank) }
        // 8 bytes a parameter held (a weight, its gradient), 8 more a parameter updated (two moments).
        let parameters = stages.map(\.parameterCount).reduce(0, +)
        let updated = zip(held, stages).filter { updating.contains($0.0) }.map(\.1.parameterCount).reduce(0, +)
        let summed = sumBufferStages(byPipelineRank: pp, lowered: lowered, shardedOptimizer: shardedOptimizer, nodeOfRank: nodeOfRank).map {
            model.memoryEstimate(ofStage: $0, in: partition, expertSlots: model.experts).parameterCount
        }
        let largestStage = stages.map(\.parameterCount).max() ?? 0
        var estimate = RankMemoryEstimate(parameters: 8 * parameters + 8 * updated,
                                          contexts: lowered.schedule.savedContexts[pp],
                                          contextBytes: stages.map(\.activations).max() ?? 0,
                                          transient: stages.map(\.transient).max() ?? 0,
                                          sums: sumBuffers(floats: summed.reduce(0, +), largestStage: largestStage, shardedOptimizer: shardedOptimizer),
                                          messageBuffers: lowered.messageBuffersHeld(byRank: pp),
                                          messageBufferBytes: 4 * Double(model.tokensPerMicroBatch) * Double(model.hidden))
        if checkpoints { estimate.checkpoint = 8 * (parameters - updated) + 4 * largestStage }
        return estimate
    }

    /// The held stages whose gradients pipeline rank `pp` gathers into a flat buffer to sum: every
    /// held stage with another copy (DualPipe's mirror, the EP group's replicas), except that the
    /// mirror pair at EP 1 under sharded AdamW gathers only the partner's stage, adding the
    /// partner's part of its own in place.
    func stagesSummed(byPipelineRank pp: Int, shardedOptimizer: Bool) -> [Int] {
        guard replicaGroupSize > 1 else { return [] }
        let held = stagesHeld(byPipelineRank: pp)
        guard shardedOptimizer && expertParallel == 1 else { return held }
        let owned = Set(primaryStages(ofPipelineRank: pp))
        return held.filter { !owned.contains($0) }
    }

    /// The held stages whose sums pipeline rank `pp` swaps with the other copy during the schedule,
    /// receiving it into a second buffer as large as the first: those `SumStarts.early` picks, where
    /// the replica group is two ranks on two nodes of `nodeOfRank` and summing (not, at EP 1, AdamW
    /// sharded over the pair, which sums through its windows), as `StageGradientSums` decides.
    func stagesSwappedEarly(byPipelineRank pp: Int, lowered: LoweredSchedule, shardedOptimizer: Bool, nodeOfRank: [Int]?) -> [Int] {
        guard let nodeOfRank, replicaGroupSize == 2, !(shardedOptimizer && expertParallel == 1) else { return [] }
        let nodes = Set(replicaPipelineRanks(ofPipelineRank: pp).flatMap { p in
            (0..<expertParallel).map { nodeOfRank[grid.worldRank(pipeline: p, expert: $0)] }
        })
        guard nodes.count == 2 else { return [] }
        return SumStarts.early(programs: lowered.programs, stagesHeld: stagesHeld, pipelineRank: pp).keys.sorted()
    }

    /// A held stage for each stage-sized buffer of pipeline rank `pp`'s gradient sums: the stages it
    /// gathers to sum, and once more those whose swap it also receives into.
    func sumBufferStages(byPipelineRank pp: Int, lowered: LoweredSchedule, shardedOptimizer: Bool, nodeOfRank: [Int]?) -> [Int] {
        stagesSummed(byPipelineRank: pp, shardedOptimizer: shardedOptimizer)
            + stagesSwappedEarly(byPipelineRank: pp, lowered: lowered, shardedOptimizer: shardedOptimizer, nodeOfRank: nodeOfRank)
    }

    /// Bytes of the sums' buffers for `floats` gathered gradient elements, with sharded AdamW's four
    /// windows (each a piece, or the largest held stage where it is smaller).
    func sumBuffers(floats: Double, largestStage: Double, shardedOptimizer: Bool) -> Double {
        4 * floats + (shardedOptimizer ? Double(4 * 4 * MirrorShardedUpdate.window(stageFloats: Int(largestStage))) : 0)
    }
}

extension PipelineConfiguration {
    /// `--model mlp`'s estimate for pipeline rank `pp`: per held block 8 x hidden² weights with
    /// their gradients, and two moments each where the rank updates the block (`shardedOptimizer`:
    /// as in the other estimate); a context of 10 x hidden floats a row per block of a stage, the
    /// larger of F's (x, gelu(u), gelu'(u)) and what B leaves for W (x, gelu(u), du, dy), and B's
    /// du beside gelu'(u) once; the inputs of the micro-batches whose first stage the rank runs and
    /// the targets of those whose last stage it runs, tokens x hidden each; the sums' buffers.
    public func memoryEstimate(ofPipelineRank pp: Int, mlp: MLPConfiguration, lowered: LoweredSchedule, shardedOptimizer: Bool = false,
                               nodeOfRank: [Int]? = nil) -> RankMemoryEstimate {
        let rows = Double(mlp.tokensPerMicroBatch), hidden = Double(mlp.hidden)
        let blocks = Double(stagesHeld(byPipelineRank: pp).count * partition.blocksPerStage)
        let updatedBlocks = Double(stagesUpdated(byPipelineRank: pp, shardedOptimizer: shardedOptimizer).count * partition.blocksPerStage)
        let dataParts = (0..<microBatches).reduce(0) { parts, mb in
            let ends = self.schedule.runsEnds(of: mb, onRank: pp)
            return parts + (ends.first ? 1 : 0) + (ends.last ? 1 : 0)
        }
        let summedBlocks = Double(sumBufferStages(byPipelineRank: pp, lowered: lowered, shardedOptimizer: shardedOptimizer, nodeOfRank: nodeOfRank).count
                                  * partition.blocksPerStage)
        return RankMemoryEstimate(parameters: 4 * 2 * 8 * hidden * hidden * (blocks + updatedBlocks),
                                  contexts: lowered.schedule.savedContexts[pp],
                                  contextBytes: 4 * 10 * rows * hidden * Double(partition.blocksPerStage),
                                  transient: 4 * 4 * rows * hidden, data: 4 * Double(dataParts) * rows * hidden,
                                  sums: sumBuffers(floats: 8 * hidden * hidden * summedBlocks, largestStage: 8 * hidden * hidden * Double(partition.blocksPerStage),
                                                   shardedOptimizer: shardedOptimizer),
                                  messageBuffers: lowered.messageBuffersHeld(byRank: pp), messageBufferBytes: 4 * rows * hidden)
    }
}

extension RankMemoryEstimate {
    /// `--model mlp`'s whole model in one process as `MLPReference` holds it (`train --model mlp
    /// --reference`, and each rank's copy under `--check-reference`): `blocks` blocks with gradients
    /// and AdamW moments, one micro-batch's context through every block (it runs each micro-batch
    /// forward and back before the next), and the inputs and targets of all `microBatches`, drawn
    /// once and kept.
    public static func mlpReference(_ mlp: MLPConfiguration, blocks: Int, microBatches: Int) -> RankMemoryEstimate {
        let rows = Double(mlp.tokensPerMicroBatch), hidden = Double(mlp.hidden)
        return RankMemoryEstimate(parameters: 4 * 4 * 8 * hidden * hidden * Double(blocks), contexts: 1,
                                  contextBytes: 4 * 9 * rows * hidden * Double(blocks), transient: 0,
                                  data: 4 * 2 * Double(microBatches) * rows * hidden)
    }
}
