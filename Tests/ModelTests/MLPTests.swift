import Testing
import Model
import Tensor

/// `--model mlp`: DeepSeek's example block, its exact GELU and MSE loss, and its reference trainer.
@Suite struct MLPTests {
    @Test func exactGELUValues() {
        // Φ(1) = 0.841344746, so gelu(1) = 0.841344746 and gelu(-1) = -(1 - Φ(1)) = -0.158655254.
        let y = geluExact(Tensor(shape: [3], scalars: [1, -1, 0]))
        #expect(abs(y.scalars[0] - 0.841_344_75) < 1e-6)
        #expect(abs(y.scalars[1] + 0.158_655_25) < 1e-6)
        #expect(y.scalars[2] == 0)
    }

    @Test func meanSquaredErrorValue() {
        let (loss, difference) = meanSquaredError(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), Tensor(shape: [2, 2], scalars: [1, 0, 3, 0]))
        #expect(loss == 5) // (0 + 4 + 0 + 16) / 4
        #expect(meanSquaredErrorGradient(difference: difference, scale: 0.5).scalars == [0, 0.5, 0, 1])
    }

    @Test func blockGradients() {
        let block = MLPBlock(index: 0, hidden: 6, seed: 3)
        #expect(GradientCheck.check(block, input: GradientCheck.random([5, 6], seed: 200), seed: 201) == [])
    }

    /// The last stage's B and W against central differences of its MSE loss.
    @Test func lastStageLossGradients() {
        let configuration = MLPConfiguration(hidden: 6, sequenceLength: 5, microBatchSize: 1)
        let stage = MLPStage(index: 1, stages: 2, configuration: configuration, seed: 4)
        let x = GradientCheck.random([5, 6], seed: 202), targets = LossTargets.values(GradientCheck.random([5, 6], seed: 203))
        var nextMicroBatch = 1
        func loss(_ input: Tensor) -> Double {
            defer { stage.discard(nextMicroBatch); nextMicroBatch += 1 }
            return Double(stage.forwardPhases(nextMicroBatch, input, targets: targets).runAll().scalars[0])
        }
        stage.zeroGradients()
        _ = stage.forwardPhases(0, x, targets: targets).runAll()
        let dx = stage.backwardInputPhases(0, Tensor(shape: [1], scalars: [1])).runAll()
        stage.backwardWeight(0)
        #expect(GradientCheck.inputMismatches(input: x, gradient: dx, loss: loss) == [])
        #expect(GradientCheck.parameterMismatches(stage) { loss(x) }.failures == [])
    }

    /// Stage 0's input is the data: its B returns `[0]` without the block's last product, and
    /// its weight gradients are exactly those of the same block run with that product.
    @Test func firstStageSkipsTheDataGradient() {
        let configuration = MLPConfiguration(hidden: 6, sequenceLength: 5, microBatchSize: 1)
        let stage = MLPStage(index: 0, stages: 2, configuration: configuration, seed: 6)
        let block = MLPBlock(index: 0, hidden: 6, seed: 6)
        let x = GradientCheck.random([5, 6], seed: 204), dy = GradientCheck.random([5, 6], seed: 205)
        stage.zeroGradients()
        block.zeroGradients()
        #expect(stage.forwardPhases(0, x, targets: nil).runAll().scalars == block.forward(0, x).scalars)
        #expect(stage.backwardInputPhases(0, dy).runAll().shape == [0])
        #expect(block.backwardInput(0, dy).shape == [5, 6])
        stage.backwardWeight(0)
        block.backwardWeight(0)
        var stageGradients: [[Float]] = [], blockGradients: [[Float]] = []
        stage.visitParameters { stageGradients.append($0.gradient.scalars) }
        block.visitParameters { blockGradients.append($0.gradient.scalars) }
        #expect(stageGradients.count == 2 && stageGradients == blockGradients)
        #expect(stageGradients.allSatisfy { $0.contains { $0 != 0 } })
    }

    /// Random targets can only be fitted, so the loss must fall; and two runs agree bit for bit.
    @Test func referenceTrainsAndRepeats() throws {
        func run() throws -> [Float] {
            let reference = try MLPReference(configuration: MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2),
                                             training: TrainingConfiguration(steps: 30, microBatches: 4, learningRate: 1e-2, warmupSteps: 0),
                                             stages: 2, seed: 5)
            return (0..<30).map { _ in reference.step().loss }
        }
        let losses = try run()
        #expect(losses.last! < 0.8 * losses.first!)
        #expect(try run() == losses)
    }

    /// A rank's parts of a micro-batch are the whole batch's, bit for bit, whichever it asks for
    /// first; a part left out is empty; different micro-batches differ.
    @Test func dataPartsAreTheWholeBatchs() {
        let configuration = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2)
        let whole = MLPData(configuration: configuration, seed: 5).batch(3)
        let parts = MLPData(configuration: configuration, seed: 5)
        let targetsOnly = parts.batch(3, input: false, targets: true)
        let inputOnly = parts.batch(3, input: true, targets: false)
        func values(_ targets: LossTargets) -> [Float] {
            if case .values(let t) = targets { return t.scalars }
            return []
        }
        #expect(inputOnly.input.scalars == whole.input.scalars && values(targetsOnly.targets) == values(whole.targets))
        #expect(targetsOnly.input.count == 0 && values(inputOnly.targets).isEmpty)
        #expect(whole.input.count == 8 * 8 && values(whole.targets).count == 8 * 8)
        #expect(parts.batch(4).input.scalars != whole.input.scalars)
    }

    @Test func configurationLimits() {
        #expect(throws: ConfigurationError.self) { try MLPConfiguration(hidden: 0).validate() }
        #expect(throws: ConfigurationError.self) { try MLPConfiguration(sequenceLength: 1 << 16, microBatchSize: 1 << 10).validate() }
        #expect(throws: Never.self) { try MLPConfiguration().validate() }
    }

    /// The example's shape (768 rows, hidden 512, two blocks): each product is 2 x 768 x 512 x
    /// 2048 FLOPs; F, B and W have two each, less the data's gradient: 11 products, 17.7 GFLOP.
    @Test func flopsOfAMicroBatch() {
        let product = 2.0 * 768 * 512 * 2048
        #expect(MLPConfiguration().flopsPerMicroBatch(blocks: 2) == 11 * product)
        #expect(MLPConfiguration().flopsPerMicroBatch(blocks: 1) == 5 * product)
    }
}
