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
}
