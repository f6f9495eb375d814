import Tensor

/// The single-process oracle of `--model mlp`: every stage in this process, each micro-batch run
/// F through all stages and back (B then W), gradients of the mean loss over the step's
/// micro-batches, global-norm clipping, AdamW. A pipeline run reproduces its losses bit for bit
/// and its gradients up to the order of the micro-batch sums.
public final class MLPReference {
    public let configuration: MLPConfiguration
    public let training: TrainingConfiguration
    public let data: MLPData
    /// [stages] the model, stage 0 first.
    public let stages: [MLPStage]
    private var optimizers: [AdamW]
    public private(set) var nextStep = 0
    /// [micro-batches] the losses of the last `computeGradients`.
    public private(set) var microBatchLosses: [Float] = []

    /// `stages` only changes how the blocks are grouped, never the numbers.
    public init(configuration: MLPConfiguration, training: TrainingConfiguration, stages: Int, blocksPerStage: Int = 1,
                seed: UInt64) throws(ConfigurationError) {
        try configuration.validate()
        try training.validate()
        self.configuration = configuration
        self.training = training
        data = MLPData(configuration: configuration, seed: seed)
        self.stages = (0..<stages).map { MLPStage(index: $0, stages: stages, blocksPerStage: blocksPerStage, configuration: configuration, seed: seed) }
        optimizers = self.stages.map { _ in AdamW(beta1: training.beta1, beta2: training.beta2, weightDecay: training.weightDecay) }
    }

    /// Zeroes the gradients and runs every micro-batch; returns the mean loss.
    public func computeGradients() -> Float {
        for stage in stages { stage.zeroGradients() }
        microBatchLosses = (0..<training.microBatches).map { mb in
            let batch = data.batch(mb)
            var x = batch.input
            for stage in stages { x = stage.forwardPhases(mb, x, targets: stage.isLast ? batch.targets : nil).runAll() }
            var d = Tensor(shape: [1], scalars: [1 / Float(training.microBatches)])
            for stage in stages.reversed() {
                d = stage.backwardInputPhases(mb, d).runAll()
                stage.backwardWeight(mb)
            }
            return x.scalars[0]
        }
        return ReferenceTrainer.meanLoss(microBatchLosses)
    }

    /// Clips by the global norm and applies AdamW at `nextStep`'s learning rate; advances the step.
    public func applyUpdate() -> (gradientNorm: Float, learningRate: Float) {
        let norm = stages.reduce(0.0) { $0 + GradientClipping.sumOfSquares($1) }.squareRoot()
        let factor = GradientClipping.scale(globalNorm: norm, maxNorm: training.clipNorm)
        let lr = training.schedule.rate(at: nextStep)
        for (s, stage) in stages.enumerated() { optimizers[s].update(stage, gradientScale: factor, learningRate: lr) }
        nextStep += 1
        return (Float(norm), lr)
    }

    /// One optimizer step.
    @discardableResult
    public func step() -> StepReport {
        let step = nextStep
        let loss = computeGradients()
        let (norm, lr) = applyUpdate()
        return StepReport(step: step, loss: loss, gradientNorm: norm, learningRate: lr,
                          tokens: training.microBatches * configuration.tokensPerMicroBatch)
    }
}
