/// What a configuration needs in memory, in bytes, estimated from its shape before anything is
/// allocated. `parameters`: every weight with its gradient and AdamW's two moments (4 floats per
/// parameter). `activations`: what one micro-batch keeps from its forward until its backward.
/// `transient`: the attention backward's two [sequences, heads, T, T] buffers, which a process
/// needs once, however many micro-batches it keeps. For the whole model (`memoryEstimate`, as the
/// reference trainer holds it) or one pipeline stage (`memoryEstimate(ofStage:in:expertSlots:)`).
public struct ModelMemoryEstimate: Sendable, Equatable {
    /// Parameter count (exact).
    public var parameterCount: Double
    public var parameters: Double
    public var activations: Double
    public var transient: Double
    /// One micro-batch in flight.
    public var total: Double { parameters + activations + transient }
}

extension ModelConfiguration {
    /// The whole model in one process: the only stage of a one-stage partition.
    public var memoryEstimate: ModelMemoryEstimate {
        // A model of no blocks (refused by validate() before it asks) has no partition: nothing.
        guard let whole = try? StagePartition(layers: layers, stages: 1) else {
            return ModelMemoryEstimate(parameterCount: 0, parameters: 0, activations: 0, transient: 0)
        }
        return memoryEstimate(ofStage: 0, in: whole)
    }

    /// One stage of `partition`: its blocks, with the embedding on stage 0 and the head on the last.
    /// `expertSlots`: the expert copies each MoE layer of the stage holds (an EP rank's slots,
    /// R / EP); nil holds every expert once. In Double so that no product overflows whatever the
    /// values.
    public func memoryEstimate(ofStage stage: Int, in partition: StagePartition, expertSlots: Int? = nil) -> ModelMemoryEstimate {
        let h = Double(hidden), ffn = Double(ffnHidden), e = Double(experts), eh = Double(expertHidden)
        let slots = Double(expertSlots ?? experts)
        let k = Double(topK), v = Double(vocabulary), length = Double(sequenceLength)
        let tokens = Double(microBatchSize) * length
        let scores = Double(microBatchSize) * Double(heads) * length * length  // [sequences * heads, T, T]
        let shared = sharedExpert ? 1.0 : 0.0

        // Per block: two norms and attention, then the feed-forward (dense SwiGLU, or router +
        // experts + shared expert). Saved: the norm inputs, x, Q, K and V, the attended rows, the
        // residual and the scores; the feed-forward's rows (each token's top-k experts' rows).
        var count = 0.0, saved = 0.0
        for block in partition.blocks(of: stage) {
            count += 4 * h * h + 2 * h
            saved += 7 * tokens * h + scores
            if moeLayers.contains(block) {
                count += h * e + slots * 3 * h * eh + shared * 3 * h * eh
                saved += tokens * (2 * h + e + k * (2 * h + 3 * eh) + shared * (h + 3 * eh))
            } else {
                count += 3 * h * ffn
                saved += tokens * (2 * h + 3 * ffn)
            }
        }
        if partition.hasEmbedding(stage) {
            count += v * h + length * h   // tokens and positions
            saved += tokens * h
        }
        if partition.hasHead(stage) {
            count += h + h * v            // the final norm and the projection
            saved += tokens * (h + 2 * v) // normed rows, logits, probabilities
        }
        return ModelMemoryEstimate(parameterCount: count, parameters: 16 * count, activations: 4 * saved,
                                   transient: 4 * 2 * scores)
    }
}
