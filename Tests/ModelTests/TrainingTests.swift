import Testing
import Model
import Tensor

@Suite struct TrainingTests {
    static let model = ModelConfiguration(
        hidden: 8, heads: 2, layers: 2, moeLayers: [1], ffnHidden: 12, experts: 4, expertHidden: 6,
        topK: 2, groups: 2, topKGroups: 1, sequenceLength: 8, microBatchSize: 2)
    static let corpus = ByteCorpus(bytes: Array("the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ".utf8),
                                   source: "test text")

    static func trainer(seed: UInt64, stages: Int = 1) throws -> ReferenceTrainer {
        let training = TrainingConfiguration(steps: 4, microBatches: 2, learningRate: 1e-2, minimumLearningRate: 1e-3, warmupSteps: 1)
        let sampler = try MicroBatchSampler(corpus: corpus, sequenceLength: 8, sequences: 2, seed: seed)
        return try ReferenceTrainer(model: model, training: training, sampler: sampler, seed: seed, stageCount: stages)
    }

    static func losses(_ trainer: ReferenceTrainer) -> [Float] { (0..<4).map { _ in trainer.step().loss } }

    @Test func sameSeedGivesBitIdenticalLosses() throws {
        let first = Self.losses(try Self.trainer(seed: 11)), second = Self.losses(try Self.trainer(seed: 11))
        #expect(first == second)
        #expect(first != Self.losses(try Self.trainer(seed: 12)))
    }

    /// Cutting the model into stages changes where the blocks live, not a single bit of the numbers.
    @Test func twoStagesTrainExactlyLikeOne() throws {
        let one = try Self.trainer(seed: 13), two = try Self.trainer(seed: 13, stages: 2)
        #expect(two.stages.count == 2 && two.stages[0].blocks.count == 1)
        #expect(Self.losses(one) == Self.losses(two))
        #expect(one.stages[0].flatParameters() == two.stages[0].flatParameters() + two.stages[1].flatParameters())
    }

    @Test func theLossFalls() throws {
        let trainer = try Self.trainer(seed: 14)
        let losses = Self.losses(trainer)
        #expect(losses[3] < losses[0])
    }

    @Test func adamWMatchesTheHandComputation() {
        // p = 1, lr 0.1, λ 0.1, β = (0.9, 0.999): step 1 with g = 0.5 moves by lr·(λp + 1) to 0.89;
        // step 2 with g = -0.5: m̂ = -0.005/0.19, v̂ = 0.00049975/0.001999 = 0.25, so
        // p = 0.89 - 0.1·0.1·0.89 + 0.1·0.005/0.19/0.5 = 0.886363...
        var adam = AdamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1)
        var p: [Float] = [1, 1]
        adam.update(parameters: &p, gradients: [0.5, 0.5], decayMask: [true, false], learningRate: 0.1)
        #expect(abs(p[0] - 0.89) < 1e-6 && abs(p[1] - 0.9) < 1e-6)
        adam.update(parameters: &p, gradients: [-0.5, -0.5], decayMask: [true, false], learningRate: 0.1)
        #expect(abs(p[0] - 0.886_363_16) < 1e-6)
        #expect(abs(p[1] - (0.9 + 0.1 * 0.005 / 0.19 / 0.5)) < 1e-6)
        #expect(adam.steps == 2)
    }

    /// The in-place update of a stage and the flat-buffer update agree bit for bit, clipping included.
    @Test func inPlaceAndFlatAdamWAgree() throws {
        let partition = try StagePartition(layers: 2, stages: 1)
        let a = Stage(index: 0, partition: partition, configuration: Self.model, seed: 3)
        let b = Stage(index: 0, partition: partition, configuration: Self.model, seed: 3)
        let gradients = GradientCheck.random([a.parameterCount], seed: 4).scalars
        a.loadGradients(gradients)
        b.loadGradients(gradients)
        var adamA = AdamW(), adamB = AdamW()
        for _ in 0..<2 {
            let norm = GradientClipping.sumOfSquares(a).squareRoot()
            #expect(norm == GradientClipping.sumOfSquares(gradients).squareRoot())
            let factor = GradientClipping.scale(globalNorm: norm, maxNorm: 1)
            #expect(factor < 1)
            adamA.update(a, gradientScale: factor, learningRate: 0.01)
            var flat = b.flatParameters(), clipped = gradients
            GradientClipping.apply(factor, to: &clipped)
            adamB.update(parameters: &flat, gradients: clipped, decayMask: b.decayMask(), learningRate: 0.01)
            b.loadParameters(flat)
        }
        #expect(a.flatParameters() == b.flatParameters())
    }

    @Test func clippingScalesToTheGlobalNorm() {
        // Two stages' gradients [3] and [4]: global norm 5.
        let norm = (GradientClipping.sumOfSquares([3]) + GradientClipping.sumOfSquares([4])).squareRoot()
        #expect(norm == 5)
        var g: [Float] = [3, 4]
        GradientClipping.apply(GradientClipping.scale(globalNorm: norm, maxNorm: 1), to: &g)
        #expect(abs(g[0] - 0.6) < 1e-7 && abs(g[1] - 0.8) < 1e-7)
        #expect(GradientClipping.scale(globalNorm: norm, maxNorm: 10) == 1)
        #expect(GradientClipping.scale(globalNorm: norm, maxNorm: 0) == 1)
    }

    /// Each optimizer number is refused on its own, by the flag that sets it, infinities included.
    @Test func optimizerNumbersAreRefusedByTheirFlags() {
        let refusals: [(TrainingConfiguration, String)] = [
            (TrainingConfiguration(learningRate: .infinity), "--lr inf: the peak learning rate must be a finite number > 0"),
            (TrainingConfiguration(learningRate: 0), "--lr 0.0: the peak learning rate must be a finite number > 0"),
            (TrainingConfiguration(learningRate: 1e-3, minimumLearningRate: 2e-3), "--min-lr 0.002: the final learning rate must be a finite number >= 0 and at most --lr (0.001)"),
            (TrainingConfiguration(warmupSteps: -2), "--warmup -2: warmup steps must be >= 0"),
            (TrainingConfiguration(weightDecay: .nan), "--weight-decay nan: weight decay must be a finite number >= 0"),
            (TrainingConfiguration(clipNorm: .infinity), "--clip inf: the gradient-norm clip must be a finite number >= 0 (0: no clipping)"),
        ]
        for (training, message) in refusals {
            #expect(throws: ConfigurationError(message)) { try training.validate() }
        }
        #expect(throws: Never.self) { try TrainingConfiguration(minimumLearningRate: 0, clipNorm: 0).validate() }
    }

    @Test func warmupThenCosine() {
        let s = LearningRateSchedule(peak: 1, minimum: 0.1, warmup: 4, total: 14)
        #expect(s.rate(at: 0) == 0.25)
        #expect(s.rate(at: 3) == 1)
        #expect(s.rate(at: 4) == 1)
        #expect(abs(s.rate(at: 9) - 0.55) < 1e-6)          // half way: 0.1 + 0.9 · (1 + cos(π/2)) / 2
        #expect(abs(s.rate(at: 14) - 0.1) < 1e-6)
        #expect(abs(s.rate(at: 40) - 0.1) < 1e-6)
    }
}

// Serialized: the sgemm counters follow one thread at a time.
@Suite(.serialized) struct FlopCountTests {
    @Test func countsEveryMatmulOfADenseBlockAndTheHead() {
        // One dense block, hidden 8, ffn 12, T = 4, one sequence. Per token:
        // qkv 2·8·24 + out 2·8·8 + SwiGLU 6·8·12 + head 2·8·256 = 5184. Attention, causal: the
        // 4 positions meet 1 + 2 + 3 + 4 = 10 positions in all, 2·8·10 per product, 2 products in F.
        let c = ModelConfiguration(hidden: 8, heads: 2, layers: 1, moeLayers: [], ffnHidden: 12, sequenceLength: 4, microBatchSize: 1)
        let flops = FlopCount(c)
        #expect(flops.attentionForward == 2 * 2 * 8 * 10)
        #expect(flops.attentionBackwardInput == 4 * 2 * 8 * 10)
        #expect(flops.forward == 4 * 5184 + 320)
        #expect(flops.backwardInput == 4 * 5184 + 640)
        #expect(flops.backwardWeight == 4 * 5184)
        // An MoE block instead: router 2·8·4, two experts and a shared one at 6·8·6 each.
        let moe = ModelConfiguration(hidden: 8, heads: 2, layers: 1, moeLayers: [0], experts: 4, expertHidden: 6,
                                     topK: 2, groups: 1, topKGroups: 1, sharedExpert: true, sequenceLength: 4, microBatchSize: 1)
        let perToken: Double = 384 + 128 + 64 + 3 * 288 + 4096
        #expect(FlopCount(moe).backwardWeight == 4 * perToken)
    }

    /// What `bench model` divides by time is the work its sgemm calls really do, pass by pass,
    /// with attention's causal products besides.
    @Test(arguments: [false, true]) func equalsTheWorkOfEverySgemmCall(sharedExpert: Bool) throws {
        let c = ModelConfiguration(hidden: 16, heads: 2, layers: 2, moeLayers: [1], experts: 4, expertHidden: 8, topK: 2,
                                   groups: 2, topKGroups: 1, sharedExpert: sharedExpert, sequenceLength: 8, microBatchSize: 2)
        let stage = Stage(index: 0, partition: try StagePartition(layers: c.layers, stages: 1), configuration: c, seed: 3)
        let tokens = (0..<c.tokensPerMicroBatch).map { ($0 * 7) % 256 }
        defer { SgemmAccounting.stop() }
        SgemmAccounting.start()
        _ = stage.forward(0, Tensor(shape: [tokens.count], scalars: tokens.map(Float.init)), targets: tokens)
        let forward = SgemmAccounting.flops
        SgemmAccounting.start()
        _ = stage.backwardInput(0, Tensor(shape: [1], scalars: [1]))
        let backwardInput = SgemmAccounting.flops
        SgemmAccounting.start(byShape: true)
        stage.backwardWeight(0)
        let flops = FlopCount(c)
        #expect(forward == flops.forward - flops.attentionForward)
        #expect(backwardInput == flops.backwardInput - flops.attentionBackwardInput)
        #expect(SgemmAccounting.flops == flops.backwardWeight)
        // The per-shape account adds up to the same work, each shape's from its own dimensions.
        let shapes = SgemmAccounting.byShape
        #expect(shapes.values.reduce(0) { $0 + $1.flops } == flops.backwardWeight)
        for (shape, work) in shapes {
            #expect(work.flops == Double(work.calls) * 2 * Double(shape.m) * Double(shape.n) * Double(shape.k), "\(shape)")
        }
    }
}
