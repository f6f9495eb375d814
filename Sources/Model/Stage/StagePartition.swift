/// How the blocks of a model split into `stages` pipeline stages: the embedding goes with
/// stage 0, the head with stage `stages - 1`, and each stage gets `layers / stages`
/// consecutive blocks. Uneven splits are rejected rather than balanced by guesswork, because
/// the pipeline schedules assume equal stages.
public struct StagePartition: Sendable, Equatable {
    public let layers: Int
    public let stages: Int

    public init(layers: Int, stages: Int) throws(ConfigurationError) {
        guard stages >= 1 else { throw ConfigurationError("pipeline stages must be at least 1, got \(stages)") }
        guard layers >= stages else {
            throw ConfigurationError("\(layers) layers cannot fill \(stages) pipeline stages: each stage needs at least one block")
        }
        guard layers % stages == 0 else {
            throw ConfigurationError("\(layers) layers cannot be split evenly into \(stages) pipeline stages (\(layers) % \(stages) = \(layers % stages))")
        }
        self.layers = layers
        self.stages = stages
    }

    public var blocksPerStage: Int { layers / stages }

    /// The indices of the blocks of `stage`.
    public func blocks(of stage: Int) -> Range<Int> {
        precondition(stage >= 0 && stage < stages, "stage \(stage) outside 0..<\(stages)")
        return (stage * blocksPerStage)..<((stage + 1) * blocksPerStage)
    }

    public func hasEmbedding(_ stage: Int) -> Bool { stage == 0 }
    public func hasHead(_ stage: Int) -> Bool { stage == stages - 1 }
}
