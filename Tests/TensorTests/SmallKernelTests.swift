import Testing
import Tensor
import Foundation

@Suite struct SmallKernelTests {
    @Test func topKOrdersLargestFirstAndBreaksTiesByIndex() {
        let v = Tensor(shape: [2, 5], scalars: [0.1, 0.9, 0.5, 0.9, 0.2,
                                                 3, 1, 2, 5, 4])
        #expect(topK(v, k: 3) == [1, 3, 2, 3, 4, 0])
        #expect(topK(v, k: 1) == [1, 3])
    }

    @Test func topKSkipsWhatIsNotAllowed() {
        let v = Tensor(shape: [1, 4], scalars: [4, 3, 2, 1])
        #expect(topK(v, k: 2, allowed: [false, true, false, true]) == [1, 3])
    }

    /// Initial weights are the generator's normals in element order, scaled: the draw's order is
    /// what makes a stage's weights the same on every rank and in every cut of the model.
    @Test func normalTensorIsTheGeneratorsSequenceScaled() {
        var drawing = SplitMix64(seed: 7, streams: [5, 1, 0])
        let t = Tensor(shape: [3, 37], normalStandardDeviation: 0.25, rng: &drawing)
        var one = SplitMix64(seed: 7, streams: [5, 1, 0])
        #expect(t.scalars == (0..<111).map { _ in 0.25 * one.nextNormal() })
        #expect(drawing.next() == one.next())
    }

    @Test func addAndScale() {
        var a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        add(Tensor(shape: [4], scalars: [1, 1, 1, 1]), scaledBy: 2, into: &a)
        #expect(a.scalars == [3, 4, 5, 6])
        scale(&a, by: 0.5)
        #expect(a.scalars == [1.5, 2, 2.5, 3])
        #expect(adding(a, a).scalars == [3, 4, 5, 6])
    }

    @Test func gatherAndWeightedScatterOfRows() {
        let x = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        let g = gatherRows(x, [2, 0, 2])
        #expect(g.scalars == [5, 6, 1, 2, 5, 6])
        #expect(gatherRows(x, [1, 0], weights: [2, -1]).scalars == [6, 8, -1, -2])
        var y = Tensor(shape: [3, 2])
        scatterAddRows(g, [1, 1, 0], weights: [1, 2, 0.5], into: &y)
        #expect(y.scalars == [2.5, 3, 7, 10, 0, 0])
        #expect(rowDots(x, rows: [1, 2], Tensor(shape: [2, 2], scalars: [1, 1, 2, 0])) == [7, 10])
    }

    @Test func contiguousRowsOutAndBack() {
        let x = Tensor(shape: [4, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        let middle = rows(1..<3, of: x)
        #expect(middle.shape == [2, 2] && middle.scalars == [3, 4, 5, 6])
        #expect(rows(4..<4, of: x).shape == [0, 2])
        var y = Tensor(shape: [4, 2], repeating: -1)
        setRows(startingAt: 2, of: &y, to: middle)
        setRows(startingAt: 0, of: &y, to: rows(3..<4, of: x))
        #expect(y.scalars == [7, 8, -1, -1, 3, 4, 5, 6])
        #expect(y.shape == [4, 2])
    }

    @Test func randomStreamsAreReproducibleAndDistinct() {
        var a = SplitMix64(seed: 7, streams: [1, 2]), b = SplitMix64(seed: 7, streams: [1, 2])
        var c = SplitMix64(seed: 7, streams: [2, 1]), d = SplitMix64(seed: 8, streams: [1, 2])
        let first = (0..<4).map { _ in a.next() }
        #expect(first == (0..<4).map { _ in b.next() })
        #expect(first != (0..<4).map { _ in c.next() })
        #expect(first != (0..<4).map { _ in d.next() })
    }

    @Test func normalDrawsHaveUnitVariance() {
        // 20 000 draws: the sample mean and variance are within 5 standard errors of 0 and 1.
        let x = randomTensor([20_000], seed: 9)
        let mean = x.scalars.reduce(0.0) { $0 + Double($1) } / 20_000
        let variance = x.scalars.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 20_000
        #expect(abs(mean) < 5 / 20_000.0.squareRoot())
        #expect(abs(variance - 1) < 5 * (2 / 20_000.0).squareRoot())
        var rng = SplitMix64(seed: 3)
        #expect((0..<1000).allSatisfy { _ in (0..<7).contains(rng.nextInt(below: 7)) })
    }
}

/// The lane kernels' exact GELU and its derivative (their exponential and normal CDF) against
/// libm, over the range activations take, at a length that leaves a partial vector.
@Suite struct GELUAccuracyTests {
    static let inputs: [Float] = (0..<4001).map { Float($0 - 2000) / 200 } // -10 ... 10 in steps of 0.005

    @Test func geluMatchesERF() {
        let y = geluExact(Tensor(shape: [Self.inputs.count], scalars: Self.inputs))
        for (x, got) in zip(Self.inputs, y.scalars) {
            let want = 0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))
            #expect(abs(Double(got) - want) <= 2e-7 * max(1, abs(Double(x))), "gelu(\(x)) = \(got), want \(want)")
        }
    }

    @Test func geluDerivativeMatchesERF() {
        let dx = geluExactBackward(Tensor(shape: [Self.inputs.count], scalars: Self.inputs),
                                   outputGradient: Tensor(shape: [Self.inputs.count], repeating: 2))
        for (x, got) in zip(Self.inputs, dx.scalars) {
            let t = Double(x)
            let want = 2 * (0.5 * (1 + erf(t / 2.0.squareRoot())) + t * exp(-t * t / 2) / (2 * Double.pi).squareRoot())
            #expect(abs(Double(got) - want) <= 1e-6 * max(1, abs(t)), "gelu'(\(x)) x 2 = \(got), want \(want)")
        }
    }
}

@Suite struct GELUWithDerivativeTests {
    /// The fused pass gives the same bits as the two separate ones, also on a partial group.
    @Test func fusedEqualsSeparate() {
        let x = Tensor(shape: [37], scalars: (0..<37).map { Float($0 - 18) / 4 })
        var y = x
        let d = geluExactInPlaceWithDerivative(&y)
        #expect(y == geluExact(x))
        #expect(d == geluExactBackward(x, outputGradient: Tensor(shape: [37], repeating: 1)))
    }
}
