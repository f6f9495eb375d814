import Model

extension PipelineConfiguration {
    /// The `Stage` objects pipeline rank `pp` holds, ascending by stage index, each initialised
    /// exactly as the reference trainer initialises the stage of the same index (every block
    /// draws from its own streams of `seed`, whatever the cut).
    public func makeStages(pipelineRank pp: Int, model: ModelConfiguration, seed: UInt64) -> [Stage] {
        stagesHeld(byPipelineRank: pp).map { Stage(index: $0, partition: partition, configuration: model, seed: seed) }
    }
}
