import Testing
import Model
import Tensor

/// Finite-difference checks of B and W for every layer (tolerance: see `GradientCheck`).
@Suite struct LayerGradientTests {
    static let configuration = ModelConfiguration(
        hidden: 8, heads: 2, layers: 2, moeLayers: [1], ffnHidden: 12, experts: 4, expertHidden: 6,
        topK: 2, groups: 2, topKGroups: 1, sharedExpert: true, sequenceLength: 4, microBatchSize: 2)

    var x: Tensor { GradientCheck.random([8, 8], seed: 100) }

    @Test func rmsNorm() {
        let layer = RMSNormLayer(name: "norm", width: 8, epsilon: 1e-5)
        layer.gain.value = GradientCheck.random([8], seed: 101)
        #expect(GradientCheck.check(layer, input: x, seed: 102) == [])
    }

    @Test func attention() {
        let layer = Attention(name: "attention", Self.configuration, seed: 1, stream: [0])
        #expect(GradientCheck.check(layer, input: x, seed: 103) == [])
    }

    @Test func denseSwiGLU() {
        let layer = SwiGLU(name: "mlp", hidden: 8, inner: 12, layers: 1, seed: 1, stream: [1])
        #expect(GradientCheck.check(layer, input: x, seed: 104) == [])
    }

    @Test(arguments: [RouterScoring.sigmoid, .softmax])
    func moe(scoring: RouterScoring) {
        var c = Self.configuration
        c.scoring = scoring
        c.normalizeGates = scoring == .sigmoid
        c.routedScaling = 1.5
        let layer = MoELayer(name: "moe", c, dispatcher: MoELayer.localExperts(name: "moe", c, seed: 2, stream: [2]),
                             seed: 2, stream: [2])
        // Larger router weights make the gates (and so the router gradient) clearly non-trivial.
        scale(&layer.router.value, by: 3)
        #expect(GradientCheck.check(layer, input: x, seed: 105) == [])
    }

    @Test func embeddingWeights() {
        let layer = Embedding(Self.configuration, seed: 3)
        let tokens = Tensor(shape: [8], scalars: [3, 200, 3, 7, 0, 255, 7, 7])
        #expect(GradientCheck.check(layer, input: tokens, checkInput: false, seed: 106) == [])
    }

    @Test func head() {
        let head = LMHead(Self.configuration, seed: 4)
        let targets = [1, 2, 3, 250, 0, 9, 9, 100]
        let x = self.x
        _ = head.forward(0, x, targets: targets)
        let dx = head.backwardInput(0, lossGradient: 3)
        head.backwardWeight(0)
        var mb = 1
        func loss(_ input: Tensor) -> Double {
            defer { mb += 1 }
            return 3 * Double(head.forward(mb, input, targets: targets))
        }
        #expect(GradientCheck.inputMismatches(input: x, gradient: dx, loss: loss) == [])
        #expect(GradientCheck.parameterMismatches(head, loss: { loss(x) }).failures == [])
    }
}
