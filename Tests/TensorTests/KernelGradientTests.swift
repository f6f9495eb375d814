import Testing
import Tensor

/// Every kernel with a backward is checked against central differences of its forward
/// (tolerances: see `finiteDifferenceGradient`).
@Suite struct KernelGradientTests {
    @Test func geluDerivative() {
        let x = randomTensor([3, 5], seed: 10, std: 2), w = randomTensor([3, 5], seed: 11)
        let analytic = geluExactBackward(x, outputGradient: w)
        let numeric = finiteDifferenceGradient(at: x) { projection(geluExact($0), w) }
        #expect(gradientsAgree(analytic.scalars, numeric))
    }

    @Test func siluDerivative() {
        let x = randomTensor([3, 5], seed: 12, std: 2), w = randomTensor([3, 5], seed: 13)
        let analytic = siluBackward(x, outputGradient: w)
        let numeric = finiteDifferenceGradient(at: x) { projection(silu($0), w) }
        #expect(gradientsAgree(analytic.scalars, numeric))
        #expect(abs(silu(Tensor(shape: [1], scalars: [1])).scalars[0] - 0.731_058_6) < 1e-6)
    }

    @Test func swiGLUGateDerivative() {
        let u = randomTensor([4, 6], seed: 14), w = randomTensor([4, 3], seed: 15)
        let analytic = swiGLUBackward(u, outputGradient: w)
        let numeric = finiteDifferenceGradient(at: u) { projection(swiGLU($0), w) }
        #expect(gradientsAgree(analytic.scalars, numeric))
    }

    @Test func causalSoftmaxMasksTheFutureAndNormalises() {
        var p = randomTensor([2, 4, 4], seed: 16)
        causalSoftmax(&p, scale: 0.5)
        for r in 0..<8 {
            let i = r % 4
            let row = p.scalars[(r * 4)..<(r * 4 + 4)]
            #expect(abs(row.reduce(0, +) - 1) < 1e-6)
            for j in (i + 1)..<4 { #expect(row[r * 4 + j] == 0) }
        }
        #expect(p.scalars[0] == 1)  // the first position can only attend to itself
    }

    @Test func causalSoftmaxDerivative() {
        let s = randomTensor([2, 4, 4], seed: 17), w = randomTensor([2, 4, 4], seed: 18)
        var p = s
        causalSoftmax(&p, scale: 0.7)
        let analytic = causalSoftmaxBackward(probabilities: p, outputGradient: w, scale: 0.7)
        let numeric = finiteDifferenceGradient(at: s) { x in
            var q = x
            causalSoftmax(&q, scale: 0.7)
            return projection(q, w)
        }
        #expect(gradientsAgree(analytic.scalars, numeric))
    }

    @Test func rowSoftmaxDerivative() {
        let x = randomTensor([3, 5], seed: 19), w = randomTensor([3, 5], seed: 20)
        let analytic = softmaxRowsBackward(probabilities: softmaxRows(x), outputGradient: w)
        let numeric = finiteDifferenceGradient(at: x) { projection(softmaxRows($0), w) }
        #expect(gradientsAgree(analytic.scalars, numeric))
    }

    @Test func rmsNormForwardAndBothGradients() {
        let x = randomTensor([3, 6], seed: 21), g = randomTensor([6], seed: 22), w = randomTensor([3, 6], seed: 23)
        let (y, inverse) = rmsNorm(x, gain: g, epsilon: 1e-5)
        // Row 0 by hand.
        let meanSquare = (0..<6).reduce(Float(0)) { $0 + x[0, $1] * x[0, $1] } / 6
        #expect(abs(y[0, 2] - g.scalars[2] * x[0, 2] / (meanSquare + 1e-5).squareRoot()) < 1e-5)

        let dx = rmsNormBackwardInput(x, inverseRMS: inverse, gain: g, outputGradient: w)
        let numericX = finiteDifferenceGradient(at: x) { projection(rmsNorm($0, gain: g, epsilon: 1e-5).output, w) }
        #expect(gradientsAgree(dx.scalars, numericX))

        var dg = Tensor(shape: [6])
        rmsNormGainGradient(x, inverseRMS: inverse, outputGradient: w, accumulatingInto: &dg)
        let numericG = finiteDifferenceGradient(at: g) { projection(rmsNorm(x, gain: $0, epsilon: 1e-5).output, w) }
        #expect(gradientsAgree(dg.scalars, numericG))
    }

    @Test func crossEntropyValueAndGradient() {
        // Equal logits: the loss is log(vocabulary) whatever the targets.
        let flat = crossEntropy(logits: Tensor(shape: [2, 4], repeating: 3), targets: [1, 3])
        #expect(abs(flat.loss - 1.386_294_4) < 1e-6)

        let logits = randomTensor([3, 5], seed: 24), targets = [4, 0, 2]
        let (_, p) = crossEntropy(logits: logits, targets: targets)
        let analytic = crossEntropyGradient(probabilities: p, targets: targets, scale: 2)
        let numeric = finiteDifferenceGradient(at: logits) { 2 * Double(crossEntropy(logits: $0, targets: targets).loss) }
        #expect(gradientsAgree(analytic.scalars, numeric))
    }
}

@Suite struct SigmoidGradientTests {
    @Test func sigmoidDerivative() {
        let x = randomTensor([3, 4], seed: 25, std: 2), w = randomTensor([3, 4], seed: 26)
        let analytic = sigmoidBackward(sigmoidOutput: sigmoid(x), outputGradient: w)
        let numeric = finiteDifferenceGradient(at: x) { projection(sigmoid($0), w) }
        #expect(gradientsAgree(analytic.scalars, numeric))
    }
}
