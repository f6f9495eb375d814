import Foundation
import Testing
import Tensor

/// The reductions that run on sixteen lanes (softmax, cross-entropy, RMSNorm, row dots) against
/// plain loops in Double, at widths that are shorter than a group, exactly one or two groups, and
/// groups plus a partial one: a lane lost, counted twice or left unmasked shows here.
@Suite struct LaneKernelTests {
    static let widths = [1, 7, 15, 16, 17, 32, 40, 77]

    func close(_ a: Float, _ b: Double, _ tolerance: Double = 1e-5) -> Bool {
        abs(Double(a) - b) <= tolerance * max(1, abs(b))
    }


    @Test(arguments: widths) func rowSoftmaxAndCrossEntropy(width: Int) {
        let x = randomTensor([3, width], seed: UInt64(40 + width), std: 3)
        let targets = (0..<3).map { ($0 * 5) % width }
        let p = softmaxRows(x)
        let (loss, q) = crossEntropy(logits: x, targets: targets)
        var expectedLoss = 0.0
        for r in 0..<3 {
            let row = (0..<width).map { Double(x[r, $0]) }
            let expected = softmaxInDouble(row)
            for j in 0..<width {
                #expect(close(p[r, j], expected[j]), "row \(r), column \(j) of \(width)")
                #expect(close(q[r, j], expected[j]), "cross-entropy row \(r), column \(j) of \(width)")
            }
            expectedLoss -= Foundation.log(expected[targets[r]]) / 3
        }
        #expect(close(loss, expectedLoss))
    }

    @Test(arguments: [1, 16, 40]) func causalSoftmaxRows(length: Int) {
        let scale: Float = 0.3
        let s = randomTensor([2, length, length], seed: UInt64(60 + length), std: 4)
        var p = s
        causalSoftmax(&p, scale: scale)
        let w = randomTensor([2, length, length], seed: UInt64(61 + length))
        let ds = causalSoftmaxBackward(probabilities: p, outputGradient: w, scale: scale)
        for m in 0..<2 {
            for i in 0..<length {
                let base = (m * length + i) * length
                let expected = softmaxInDouble((0...i).map { Double(s.scalars[base + $0] * scale) })
                let inner = (0...i).reduce(0.0) { $0 + expected[$1] * Double(w.scalars[base + $1]) }
                for j in 0..<length {
                    let want = j <= i ? expected[j] : 0
                    let wantGradient = j <= i ? Double(scale) * expected[j] * (Double(w.scalars[base + j]) - inner) : 0
                    #expect(close(p.scalars[base + j], want), "matrix \(m), row \(i), column \(j)")
                    #expect(close(ds.scalars[base + j], wantGradient), "gradient: matrix \(m), row \(i), column \(j)")
                }
            }
        }
    }

    @Test(arguments: widths) func rmsNormBothWays(width: Int) {
        let x = randomTensor([3, width], seed: UInt64(80 + width)), g = randomTensor([width], seed: UInt64(81 + width))
        let dy = randomTensor([3, width], seed: UInt64(82 + width))
        let (y, inverse) = rmsNorm(x, gain: g, epsilon: 1e-5)
        let dx = rmsNormBackwardInput(x, inverseRMS: inverse, gain: g, outputGradient: dy)
        for r in 0..<3 {
            let row = (0..<width).map { Double(x[r, $0]) }
            let inv = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(width) + 1e-5).squareRoot()
            let inner = (0..<width).reduce(0.0) { $0 + Double(g.scalars[$1]) * Double(dy[r, $1]) * row[$1] }
            let c = inner * inv * inv / Double(width)
            #expect(close(inverse.scalars[r], inv))
            for j in 0..<width {
                #expect(close(y[r, j], Double(g.scalars[j]) * row[j] * inv), "row \(r), column \(j) of \(width)")
                #expect(close(dx[r, j], inv * (Double(g.scalars[j]) * Double(dy[r, j]) - row[j] * c), 1e-4),
                        "gradient row \(r), column \(j) of \(width)")
            }
        }
    }

    @Test(arguments: widths) func rowDotsOfChosenRows(width: Int) {
        let a = randomTensor([4, width], seed: UInt64(90 + width)), b = randomTensor([3, width], seed: UInt64(91 + width))
        let rows = [2, 0, 3]
        let dots = rowDots(a, rows: rows, b)
        for i in 0..<3 {
            let expected = (0..<width).reduce(0.0) { $0 + Double(a[rows[i], $1]) * Double(b[i, $1]) }
            #expect(close(dots[i], expected), "row \(i) of \(width)")
        }
    }

    @Test(arguments: widths) func swiGLUBothWays(width: Int) {
        let gateUp = randomTensor([2, 2 * width], seed: UInt64(100 + width), std: 2)
        let dh = randomTensor([2, width], seed: UInt64(101 + width))
        let h = swiGLU(gateUp), d = swiGLUBackward(gateUp, outputGradient: dh)
        for r in 0..<2 {
            for j in 0..<width {
                let a = Double(gateUp[r, j]), b = Double(gateUp[r, width + j]), g = Double(dh[r, j])
                let sigma = 1 / (1 + Foundation.exp(-a))
                #expect(close(h[r, j], a * sigma * b), "row \(r), column \(j) of \(width)")
                #expect(close(d[r, j], g * b * sigma * (1 + a * (1 - sigma))), "gate gradient row \(r), column \(j)")
                #expect(close(d[r, width + j], g * a * sigma), "up gradient row \(r), column \(j)")
            }
        }
    }

    @Test(arguments: widths) func geluInPlaceWithItsDerivative(width: Int) {
        let x = randomTensor([3, width], seed: UInt64(110 + width), std: 2)
        var y = x
        let d = geluExactInPlaceWithDerivative(&y)
        for i in 0..<x.count {
            let v = Double(x.scalars[i])
            let cdf = 0.5 * (1 + erf(v / 2.squareRoot())), density = Foundation.exp(-v * v / 2) / (2 * Double.pi).squareRoot()
            #expect(close(y.scalars[i], v * cdf, 1e-6), "element \(i) of \(x.count)")
            #expect(close(d.scalars[i], cdf + v * density, 1e-6), "derivative, element \(i) of \(x.count)")
        }
    }
}
