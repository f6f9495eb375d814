import Testing
import Tensor

@Suite struct MatmulTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesTheTextbookProduct(transposeA: Bool, transposeB: Bool) {
        let (m, k, n) = (5, 7, 3)
        let a = randomTensor(transposeA ? [k, m] : [m, k], seed: 1)
        let b = randomTensor(transposeB ? [n, k] : [k, n], seed: 2)
        let c = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        #expect(c.shape == [m, n])
        let expected = naiveMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
        for i in 0..<c.count { #expect(abs(Double(c.scalars[i]) - expected[i]) < 1e-5) }
    }

    @Test func accumulatesIntoAnExistingResult() {
        let a = randomTensor([4, 6], seed: 3), b = randomTensor([6, 2], seed: 4)
        var c = Tensor(shape: [4, 2], repeating: 1)
        matmul(a, b, accumulatingInto: &c, alpha: 2)
        let expected = naiveMatmul(a, b, transposeA: false, transposeB: false)
        for i in 0..<c.count { #expect(abs(Double(c.scalars[i]) - (1 + 2 * expected[i])) < 1e-5) }
    }

    @Test func emptyOperandsLeaveOrScaleTheResult() {
        var c = Tensor(shape: [3, 2], repeating: 4)
        matmul(Tensor(shape: [3, 0]), Tensor(shape: [0, 2]), accumulatingInto: &c, beta: 0.5)
        #expect(c.scalars == [Float](repeating: 2, count: 6))
        #expect(matmul(Tensor(shape: [0, 5]), randomTensor([5, 2], seed: 1)).shape == [0, 2])
    }

    @Test func perHeadBatchesMultiplyEachHeadOfEachSequence() {
        // Two sequences of length 3, two heads of width 2, in [6, 4] activations.
        let (sequences, length, heads, headDim) = (2, 3, 2, 2)
        let q = randomTensor([sequences * length, heads * headDim], seed: 5)
        let k = randomTensor([sequences * length, heads * headDim], seed: 6)
        let views = MatrixView.heads(sequences: sequences, sequenceLength: length, heads: heads, headDim: headDim,
                                     rowStride: heads * headDim)
        var scores = Tensor(shape: [sequences * heads, length, length])
        batchedMatmul(q, views, k, views, transposeB: true, into: &scores,
                      MatrixView.stacked(count: sequences * heads, rows: length, columns: length))
        for s in 0..<sequences {
            for h in 0..<heads {
                for i in 0..<length {
                    for j in 0..<length {
                        var expected: Float = 0
                        for d in 0..<headDim { expected += q[s * length + i, h * headDim + d] * k[s * length + j, h * headDim + d] }
                        let got = scores.scalars[((s * heads + h) * length + i) * length + j]
                        #expect(abs(got - expected) < 1e-5)
                    }
                }
            }
        }
    }
    /// Attention's six products through the causal kernels equal sgemm's dense products wherever
    /// the causal softmax reads them, on per-head views of a fused `[tokens, 3 · hidden]` tensor
    /// (heads of 24: a vector of 16 and a tail; sequences of 20: row blocks and a remainder).
    @Test func causalProductsEqualTheDenseOnesOnAttentionViews() {
        let (sequences, t, heads, headDim) = (2, 20, 3, 24)
        let hidden = heads * headDim, count = sequences * heads
        let qkv = randomTensor([sequences * t, 3 * hidden], seed: 11)
        let dO = randomTensor([sequences * t, hidden], seed: 12)
        let views = AttentionViews(sequences: sequences, sequenceLength: t, heads: heads, headDim: headDim)
        let (q, k, v, out, scores) = (views.q, views.k, views.v, views.out, views.scores)

        func both(_ a: Tensor, _ av: [MatrixView], transposeA: Bool = false, _ b: Tensor, _ bv: [MatrixView],
                  transposeB: Bool = false, shape: [Int], _ cv: [MatrixView], _ causal: CausalProductShape) -> (Tensor, Tensor) {
            var dense = Tensor(shape: shape), fast = Tensor(shape: shape)
            batchedMatmul(a, av, transposeA: transposeA, b, bv, transposeB: transposeB, into: &dense, cv)
            causalBatchedMatmul(a, av, transposeA: transposeA, b, bv, transposeB: transposeB, into: &fast, cv, shape: causal)
            return (dense, fast)
        }
        func expectEqual(_ pair: (Tensor, Tensor), _ what: String, readable: (Int) -> Bool = { _ in true }) {
            for index in 0..<pair.0.count where readable(index) {
                let (want, got) = (pair.0.scalars[index], pair.1.scalars[index])
                #expect(abs(got - want) <= 1e-5 * max(1, abs(want)), "\(what)[\(index)]: \(got), want \(want)")
            }
        }
        // What the causal softmax reads of a [T, T] score: row i through min(T, roundUp(i + 1, 16)).
        let read: (Int) -> Bool = { index in index % t < min(t, (index / t % t + 16) / 16 * 16) }

        let s = both(qkv, q, qkv, k, transposeB: true, shape: [count, t, t], scores, .columnsToRow)
        expectEqual(s, "S = Q·Kᵀ", readable: read)
        var p = s.0
        causalSoftmax(&p, scale: 0.2)
        expectEqual(both(p, scores, qkv, v, shape: [sequences * t, hidden], out, .termsToRow), "O = P·V")
        let dp = both(dO, out, qkv, v, transposeB: true, shape: [count, t, t], scores, .columnsToRow)
        expectEqual(dp, "dP = dO·Vᵀ", readable: read)
        expectEqual(both(p, scores, transposeA: true, dO, out, shape: [sequences * t, 3 * hidden], v, .termsFromRow), "dV = Pᵀ·dO")
        let ds = causalSoftmaxBackward(probabilities: p, outputGradient: dp.0, scale: 0.2)
        expectEqual(both(ds, scores, qkv, k, shape: [sequences * t, 3 * hidden], q, .termsToRow), "dQ = dS·K")
        expectEqual(both(ds, scores, transposeA: true, qkv, q, shape: [sequences * t, 3 * hidden], k, .termsFromRow), "dK = dSᵀ·Q")
    }
}
