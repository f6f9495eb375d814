import Tensor

/// Causal multi-head self-attention over `[sequences · T, hidden]`, each sequence attending
/// only to its own earlier positions. Q, K and V come from one fused `[hidden, 3·hidden]`
/// projection; heads are `MatrixView`s into it, so no head is ever copied out.
public final class Attention: Layer {
    public var wqkv: Parameter // [hidden, 3 * hidden]: Q columns, then K, then V; head h at h·headDim in each
    public var wo: Parameter   // [hidden, hidden]
    public let heads: Int
    public let sequenceLength: Int

    private struct ForwardSaved {
        var x: Tensor             // [n, hidden]
        var qkv: Tensor           // [n, 3 * hidden]
        var probabilities: Tensor // [sequences * heads, T, T]
        var attended: Tensor      // [n, hidden]: heads' outputs side by side, the input of wo
    }
    private struct WeightSaved { var x: Tensor; var dqkv: Tensor; var attended: Tensor; var dy: Tensor }
    private var forwardContexts: [Int: ForwardSaved] = [:]
    private var weightContexts: [Int: WeightSaved] = [:]

    public init(name: String, _ configuration: ModelConfiguration, seed: UInt64, stream: [UInt64]) {
        let hidden = configuration.hidden
        // Heads are column views of width hidden / heads: a remainder would leave columns unwritten.
        precondition(hidden % configuration.heads == 0, "hidden \(hidden) must be divisible by heads \(configuration.heads)")
        heads = configuration.heads
        sequenceLength = configuration.sequenceLength
        wqkv = .normal(name + ".wqkv", shape: [hidden, 3 * hidden], std: 1 / Float(hidden).squareRoot(),
                       seed: seed, stream: stream + [0])
        wo = .normal(name + ".wo", shape: [hidden, hidden],
                     std: 1 / (Float(hidden) * Float(2 * configuration.layers)).squareRoot(), seed: seed, stream: stream + [1])
    }

    private func views(tokens: Int) -> AttentionViews {
        let hidden = wo.value.rows
        precondition(tokens % sequenceLength == 0, "attention: \(tokens) tokens is not a whole number of \(sequenceLength)-token sequences")
        return AttentionViews(sequences: tokens / sequenceLength, sequenceLength: sequenceLength, heads: heads, headDim: hidden / heads)
    }

    private var scale: Float { 1 / Float(wo.value.rows / heads).squareRoot() }

    public func forward(_ mb: Int, _ input: Tensor) -> Tensor {
        let n = input.rows, hidden = wo.value.rows
        let v = views(tokens: n)
        let qkv = Linear.forward(input, wqkv)
        var p = Tensor(uninitializedShape: [v.scores.count, sequenceLength, sequenceLength])
        causalBatchedMatmul(qkv, v.q, qkv, v.k, transposeB: true, into: &p, v.scores, shape: .columnsToRow) // S = Q·Kᵀ
        causalSoftmax(&p, scale: scale)
        var attended = Tensor(uninitializedShape: [n, hidden])
        causalBatchedMatmul(p, v.scores, qkv, v.v, into: &attended, v.out, shape: .termsToRow)               // O = P·V
        forwardContexts.store(mb, ForwardSaved(x: input, qkv: qkv, probabilities: p, attended: attended),
                              "attention forward")
        return Linear.forward(attended, wo)
    }

    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        let saved = forwardContexts.take(mb, "attention backwardInput")
        let n = saved.x.rows
        let v = views(tokens: n)
        let dAttended = Linear.backwardInput(outputGradient, wo)                    // [n, hidden]
        var dp = Tensor(uninitializedShape: saved.probabilities.shape)
        causalBatchedMatmul(dAttended, v.out, saved.qkv, v.v, transposeB: true, into: &dp, v.scores,
                            shape: .columnsToRow)                                          // dP = dO·Vᵀ
        var dqkv = Tensor(uninitializedShape: saved.qkv.shape)  // the dQ, dK and dV views cover every column
        causalBatchedMatmul(saved.probabilities, v.scores, transposeA: true, dAttended, v.out, into: &dqkv, v.v,
                            shape: .termsFromRow)                                          // dV = Pᵀ·dO
        let ds = causalSoftmaxBackward(probabilities: saved.probabilities, outputGradient: consume dp, scale: scale)
        causalBatchedMatmul(ds, v.scores, saved.qkv, v.k, into: &dqkv, v.q, shape: .termsToRow)           // dQ = dS·K
        causalBatchedMatmul(ds, v.scores, transposeA: true, saved.qkv, v.q, into: &dqkv, v.k, shape: .termsFromRow) // dK = dSᵀ·Q
        weightContexts.store(mb, WeightSaved(x: saved.x, dqkv: dqkv, attended: saved.attended, dy: outputGradient),
                             "attention backwardInput")
        return Linear.backwardInput(dqkv, wqkv)
    }

    public func backwardWeight(_ mb: Int) {
        let saved = weightContexts.take(mb, "attention backwardWeight")
        Linear.backwardWeight(saved.attended, saved.dy, &wo)
        Linear.backwardWeight(saved.x, saved.dqkv, &wqkv)
    }

    public func discard(_ mb: Int) {
        forwardContexts[mb] = nil
        weightContexts[mb] = nil
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        body(&wqkv)
        body(&wo)
    }
}
