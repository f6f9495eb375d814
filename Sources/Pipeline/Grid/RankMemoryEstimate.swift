import Model
import Schedule

/// What one pipeline rank of a run needs in memory, in bytes, estimated before anything is built:
/// its held stages' parameters with gradients, and AdamW moments for those it updates (an EP
/// rank's expert slots only), the most micro-batch contexts the schedule keeps alive on it at once
/// (`Schedule.savedContexts`) each at the size of its largest held stage's, and the attention
/// backward's transient buffers once; and, where the job measured it, the process as it stood
/// before the run allocated. An estimate, not a bound: message buffers and the allocator's slack
/// come on top, while a split B frees part of a context before its W (docs/inputs.md).
public struct RankMemoryEstimate: Sendable, Equatable {
    public var parameters: Double
    /// Micro-batch contexts alive at once at most.
    public var contexts: Int
    /// Bytes of one context: the largest of the held stages'.
    public var contextBytes: Double
    public var transient: Double
    /// Inputs and targets held for the whole step (`--model mlp`'s, drawn before it starts).
    public var data: Double = 0
    /// The resident set of a rank's process before the run allocates (the Swift runtime, Open
    /// MPI, OpenBLAS, the program): measured once the job has started, 0 until then.
    public var process: Double = 0
    public var activations: Double { Double(contexts) * contextBytes }
    /// What the run itself allocates: all but the process.
    public var run: Double { parameters + activations + transient + data }
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

    /// The estimate for pipeline rank `pp` running `schedule` (this configuration's, or a file's for
    /// the same kind, PP and M) on `model`, AdamW sharded over the mirror pairs or not.
    public func memoryEstimate(ofPipelineRank pp: Int, model: ModelConfiguration, schedule: Schedule, shardedOptimizer: Bool = false) -> RankMemoryEstimate {
        let held = stagesHeld(byPipelineRank: pp), updating = stagesUpdated(byPipelineRank: pp, shardedOptimizer: shardedOptimizer)
        let stages = held.map { model.memoryEstimate(ofStage: $0, in: partition, expertSlots: slotsPerRank) }
        // 8 bytes a parameter held (a weight, its gradient), 8 more a parameter updated (two moments).
        let parameters = stages.map(\.parameterCount).reduce(0, +)
        let updated = zip(held, stages).filter { updating.contains($0.0) }.map(\.1.parameterCount).reduce(0, +)
        return RankMemoryEstimate(parameters: 8 * parameters + 8 * updated,
                                  contexts: schedule.savedContexts[pp],
                                  contextBytes: stages.map(\.activations).max() ?? 0,
                                  transient: stages.map(\.transient).max() ?? 0)
    }
}

extension PipelineConfiguration {
    /// `--model mlp`'s estimate for pipeline rank `pp`: per held block 8 x hidden² weights with
    /// their gradients, and two moments each where the rank updates the block; a context per held stage of 9 x hidden floats a row per block (x,
    /// gelu(u) and gelu'(u)); the inputs of the micro-batches whose first stage the rank runs and
    /// the targets of those whose last stage it runs, tokens x hidden each. AdamW's moments only for
    /// the stages the rank updates (`shardedOptimizer`: as in the other estimate).
    public func memoryEstimate(ofPipelineRank pp: Int, mlp: MLPConfiguration, schedule: Schedule, shardedOptimizer: Bool = false) -> RankMemoryEstimate {
        let rows = Double(mlp.tokensPerMicroBatch), hidden = Double(mlp.hidden)
        let blocks = Double(stagesHeld(byPipelineRank: pp).count * partition.blocksPerStage)
        let updatedBlocks = Double(stagesUpdated(byPipelineRank: pp, shardedOptimizer: shardedOptimizer).count * partition.blocksPerStage)
        let dataParts = (0..<microBatches).reduce(0) { parts, mb in
            let ends = self.schedule.runsEnds(of: mb, onRank: pp)
            return parts + (ends.first ? 1 : 0) + (ends.last ? 1 : 0)
        }
        return RankMemoryEstimate(parameters: 4 * 2 * 8 * hidden * hidden * (blocks + updatedBlocks),
                                  contexts: schedule.savedContexts[pp],
                                  contextBytes: 4 * 9 * rows * hidden * Double(partition.blocksPerStage),
                                  transient: 0, data: 4 * Double(dataParts) * rows * hidden)
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
