import Model
import Tensor

/// `bench model --attention`: attention's six per-head products of one micro-batch, each timed
/// as sgemm computes it (dense, the masked half included) and as the model computes it (the
/// causal lane kernels), taking turns so that both see the same machine.
enum AttentionProducts {
    struct Timing {
        var product: String
        var shape: String   // op(a) x op(b), per (sequence, head)
        var dense = Double.infinity, causal = Double.infinity  // seconds, all heads of the micro-batch
    }

    static func measure(_ c: ModelConfiguration, repetitions: Int) -> [Timing] {
        let t = c.sequenceLength, d = c.headDim, hidden = c.hidden, sequences = c.microBatchSize
        let count = sequences * c.heads, tokens = sequences * t
        let qkv = random([tokens, 3 * hidden], seed: 1), dO = random([tokens, hidden], seed: 2)
        let views = AttentionViews(sequences: sequences, sequenceLength: t, heads: c.heads, headDim: d)
        let (q, k, v, out, scores) = (views.q, views.k, views.v, views.out, views.scores)
        // Causal operands as the model has them: probabilities and their gradient, 0 above the diagonal.
        var p = Tensor(shape: [count, t, t])
        causalBatchedMatmul(qkv, q, qkv, k, transposeB: true, into: &p, scores, shape: .columnsToRow)
        causalSoftmax(&p, scale: 1 / Float(d).squareRoot())
        var dp = Tensor(shape: [count, t, t])
        causalBatchedMatmul(dO, out, qkv, v, transposeB: true, into: &dp, scores, shape: .columnsToRow)
        let ds = causalSoftmaxBackward(probabilities: p, outputGradient: dp, scale: 1 / Float(d).squareRoot())

        struct Product {
            var name: String, shape: String
            var a: Tensor, aViews: [MatrixView], transposeA: Bool
            var b: Tensor, bViews: [MatrixView], transposeB: Bool
            var cShape: [Int], cViews: [MatrixView], causal: CausalProductShape
        }
        let products = [
            Product(name: "S = Q·Kᵀ", shape: "\(t)x\(d) x \(d)x\(t)", a: qkv, aViews: q, transposeA: false, b: qkv, bViews: k,
                    transposeB: true, cShape: [count, t, t], cViews: scores, causal: .columnsToRow),
            Product(name: "O = P·V", shape: "\(t)x\(t) x \(t)x\(d)", a: p, aViews: scores, transposeA: false, b: qkv, bViews: v,
                    transposeB: false, cShape: [tokens, hidden], cViews: out, causal: .termsToRow),
            Product(name: "dP = dO·Vᵀ", shape: "\(t)x\(d) x \(d)x\(t)", a: dO, aViews: out, transposeA: false, b: qkv, bViews: v,
                    transposeB: true, cShape: [count, t, t], cViews: scores, causal: .columnsToRow),
            Product(name: "dV = Pᵀ·dO", shape: "\(t)x\(t) x \(t)x\(d)", a: p, aViews: scores, transposeA: true, b: dO, bViews: out,
                    transposeB: false, cShape: [tokens, 3 * hidden], cViews: v, causal: .termsFromRow),
            Product(name: "dQ = dS·K", shape: "\(t)x\(t) x \(t)x\(d)", a: ds, aViews: scores, transposeA: false, b: qkv, bViews: k,
                    transposeB: false, cShape: [tokens, 3 * hidden], cViews: q, causal: .termsToRow),
            Product(name: "dK = dSᵀ·Q", shape: "\(t)x\(t) x \(t)x\(d)", a: ds, aViews: scores, transposeA: true, b: qkv, bViews: q,
                    transposeB: false, cShape: [tokens, 3 * hidden], cViews: k, causal: .termsFromRow),
        ]
        var timings = products.map { Timing(product: $0.name, shape: $0.shape) }
        var outputs = products.map { Tensor(shape: $0.cShape) }  // written in place: no page faults in the timing
        for repetition in 0..<(2 * repetitions) {
            for (index, x) in products.enumerated() {
                func dense() -> Double {
                    let start = ContinuousClock.now
                    batchedMatmul(x.a, x.aViews, transposeA: x.transposeA, x.b, x.bViews, transposeB: x.transposeB,
                                  into: &outputs[index], x.cViews)
                    return (ContinuousClock.now - start).inSeconds
                }
                func causal() -> Double {
                    let start = ContinuousClock.now
                    causalBatchedMatmul(x.a, x.aViews, transposeA: x.transposeA, x.b, x.bViews, transposeB: x.transposeB,
                                        into: &outputs[index], x.cViews, shape: x.causal)
                    return (ContinuousClock.now - start).inSeconds
                }
                // Each goes first every other time: the second finds the operands in cache.
                if repetition % 2 == 0 {
                    timings[index].dense = min(timings[index].dense, dense())
                    timings[index].causal = min(timings[index].causal, causal())
                } else {
                    timings[index].causal = min(timings[index].causal, causal())
                    timings[index].dense = min(timings[index].dense, dense())
                }
            }
        }
        return timings
    }

    private static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: shape, normalStandardDeviation: 1, rng: &rng)
    }
}
