/// What a configuration needs in memory, in bytes, estimated from its shape before anything is
/// allocated. `parameters`: every weight with its gradient and AdamW's two moments (4 floats per
/// parameter), for the whole model as the reference trainer holds it. `activations`: what one
/// micro-batch keeps from its forward until its backward, plus the attention backward's transient
/// [sequences, heads, T, T] buffers. A pipeline rank holds a share of the parameters (twice that
/// with DualPipe) and several micro-batches; all the ranks of a machine together hold at least this.
public struct ModelMemoryEstimate: Sendable, Equatable {
    /// Parameter count of the whole model (exact).
    public var parameterCount: Double
    public var parameters: Double
    public var activations: Double
    public var total: Double { parameters + activations }
}

extension ModelConfiguration {
    /// The estimate, in Double so that no product overflows whatever the values.
    public var memoryEstimate: ModelMemoryEstimate {
        let h = Double(hidden), ffn = Double(ffnHidden), e = Double(experts), eh = Double(expertHidden)
        let k = Double(topK), v = Double(vocabulary), length = Double(sequenceLength)
        let tokens = Double(microBatchSize) * length
        let scores = Double(microBatchSize) * Double(heads) * length * length  // [sequences * heads, T, T]
        let moeCount = Double(moeLayers.count), denseCount = Double(layers) - moeCount
        let shared = sharedExpert ? 1.0 : 0.0

        // Parameters: embedding (tokens and positions), per block two norms and attention, the
        // feed-forward (dense SwiGLU, or router + experts + shared expert), and the head.
        let block = 4 * h * h + 2 * h
        let dense = 3 * h * ffn
        let moe = h * e + e * 3 * h * eh + shared * 3 * h * eh
        let count = v * h + length * h + Double(layers) * block + denseCount * dense + moeCount * moe + h + h * v

        // Activations saved by one micro-batch's forward, in floats.
        let attention = 7 * tokens * h + scores                 // norm input, x, qkv, attended, residual
        let denseSaved = tokens * (2 * h + 3 * ffn)             // norm input, x, gate/up, h
        let moeSaved = tokens * (2 * h + e + k * (2 * h + 3 * eh) + shared * (h + 3 * eh))
        let saved = tokens * h                                  // embedding output
            + Double(layers) * attention + denseCount * denseSaved + moeCount * moeSaved
            + tokens * (h + 2 * v)                              // head: normed, logits, probabilities
            + 2 * scores                                        // attention backward: dP and dS
        return ModelMemoryEstimate(parameterCount: count, parameters: 16 * count, activations: 4 * saved)
    }
}
