import Model
import Schedule

/// What one pipeline rank of a run needs in memory, in bytes, estimated before anything is built:
/// its held stages' parameters with gradients and AdamW moments (an EP rank's expert slots
/// only), the most micro-batch contexts the schedule keeps alive on it at once
/// (`Schedule.savedContexts`) each at the size of its largest held stage's, and the attention
/// backward's transient buffers once. A lower bound: message buffers, the data and the
/// allocator's slack come on top (measured resident sets run 5 to 20% above).
public struct RankMemoryEstimate: Sendable, Equatable {
    public var parameters: Double
    /// Micro-batch contexts alive at once at most.
    public var contexts: Int
    /// Bytes of one context: the largest of the held stages'.
    public var contextBytes: Double
    public var transient: Double
    public var activations: Double { Double(contexts) * contextBytes }
    public var total: Double { parameters + activations + transient }
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
