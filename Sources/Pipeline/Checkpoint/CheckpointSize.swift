import Model

extension PipelineConfiguration {
    /// About the bytes one checkpoint of this run writes, over all its shards: each world rank's
    /// held stages with their expert slots, 12 bytes a parameter (the weight and both AdamW
    /// moments; a shard holds both of a rank's stages' moments even where AdamW is sharded), and
    /// each MoE layer's routing biases and placement. Record names and headers, a few kilobytes a
    /// shard, and the load statistics (8 bytes an expert a layer, where kept) are left out.
    public func checkpointBytes(model: ModelConfiguration) -> Double {
        let perPipelineRank = (0..<pipelineRanks).map { pp in
            stagesHeld(byPipelineRank: pp).reduce(0.0) { bytes, stage in
                let parameters = model.memoryEstimate(ofStage: stage, in: partition, expertSlots: slotsPerRank).parameterCount
                let moeLayers = partition.blocks(of: stage).filter { model.moeLayers.contains($0) }.count
                return bytes + 12 * parameters + Double(moeLayers) * (4 * Double(model.experts) + 8 * Double(slotsPerRank))
            }
        }
        return Double(expertParallel) * perPipelineRank.reduce(0, +)
    }
}
