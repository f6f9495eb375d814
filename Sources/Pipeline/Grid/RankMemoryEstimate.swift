import Model
import Schedule

/// What one pipeline rank of a run needs in memory, in bytes, estimated before anything is built:
/// its held stages' parameters with gradients and AdamW moments (an EP rank's expert slots
/// only), the most micro-batch contexts the schedule keeps alive on it at once
/// (`Schedule.savedContexts`) each at the size of its largest held stage's, and the attention
/// backward's transient buffers once. An estimate, not a bound: the process itself (about 40 MiB),
/// message buffers and the allocator's slack come on top, while a split B frees part of a context
/// before its W; on 2 ranks the resident set ran from 3% below it to 45% above (docs/inputs.md).
public struct RankMemoryEstimate: Sendable, Equatable {
    public var parameters: Double
    /// Micro-batch contexts alive at once at most.
    public var contexts: Int
    /// Bytes of one context: the largest of the held stages'.
    public var contextBytes: Double
    public var transient: Double
    /// Inputs and targets held for the whole step (`--model mlp`'s, drawn before it starts).
    public var data: Double = 0
    public var activations: Double { Double(contexts) * contextBytes }
    public var total: Double { parameters + activations + transient + data }
}

extension Array where Element == RankMemoryEstimate {
    /// The pipeline rank that needs the most, and its estimate (nil for no ranks).
    public var largest: (pipelineRank: Int, estimate: RankMemoryEstimate)? {
        indices.max { self[$0].total < self[$1].total }.map { ($0, self[$0]) }
    }
}

extension PipelineConfiguration {
    /// The estimate for pipeline rank `pp` running `schedule` (this configuration's, or a file's for
    /// the same kind, PP and M) on `model`.
    public func memoryEstimate(ofPipelineRank pp: Int, model: ModelConfiguration, schedule: Schedule) -> RankMemoryEstimate {
        let stages = stagesHeld(byPipelineRank: pp).map {
            model.memoryEstimate(ofStage: $0, in: partition, expertSlots: slotsPerRank)
        }
        return RankMemoryEstimate(parameters: stages.map(\.parameters).reduce(0, +),
                                  contexts: schedule.savedContexts[pp],
                                  contextBytes: stages.map(\.activations).max() ?? 0,
                                  transient: stages.map(\.transient).max() ?? 0)
    }
}

extension PipelineConfiguration {
    /// `--model mlp`'s estimate for pipeline rank `pp`: per held block 8 x hidden² weights with
    /// gradient and two moments; a context per held stage of 9 x hidden floats a row per block (x,
    /// gelu(u) and gelu'(u)); the inputs of the micro-batches whose first stage the rank runs and
    /// the targets of those whose last stage it runs, tokens x hidden each.
    public func memoryEstimate(ofPipelineRank pp: Int, mlp: MLPConfiguration, schedule: Schedule) -> RankMemoryEstimate {
        let rows = Double(mlp.tokensPerMicroBatch), hidden = Double(mlp.hidden)
        let blocks = Double(stagesHeld(byPipelineRank: pp).count * partition.blocksPerStage)
        let dataParts = (0..<microBatches).reduce(0) { parts, mb in
            let ends = self.schedule.runsEnds(of: mb, onRank: pp)
            return parts + (ends.first ? 1 : 0) + (ends.last ? 1 : 0)
        }
        return RankMemoryEstimate(parameters: 4 * 4 * 8 * hidden * hidden * blocks,
                                  contexts: schedule.savedContexts[pp],
                                  contextBytes: 4 * 9 * rows * hidden * Double(partition.blocksPerStage),
                                  transient: 0, data: 4 * Double(dataParts) * rows * hidden)
    }
}
