import Tensor

/// What one optimizer step did.
public struct StepReport: Sendable, Equatable {
    public var step: Int
    /// Mean loss over the step's micro-batches (before the update).
    public var loss: Float
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    public var learningRate: Float
    /// Tokens the step trained on.
    public var tokens: Int
}

/// The single-process oracle: every stage in this process, micro-batches one after another
/// (F through all stages, then the full backward), gradients accumulated over the step's
/// micro-batches, global-norm clipping, AdamW. Every parallel run must reproduce its losses.
public final class ReferenceTrainer {
    public let model: ModelConfiguration
    public let training: TrainingConfiguration
    public let sampler: MicroBatchSampler
    public let stages: [Stage]
    private var optimizers: [AdamW]
    public private(set) var nextStep = 0
    /// DeepSeek-V3's auxiliary-loss-free balancing speed γ (0: off); see `balanceRouting`.
    public var routerBiasSpeed: Float = 0
    /// [micro-batches] the losses of the last `computeGradients`, in micro-batch order.
    public private(set) var microBatchLosses: [Float] = []

    /// `stageCount` only changes how the model is cut, never the numbers: each stage's
    /// parameters are initialised from their own streams of `seed`. The model's memory estimate
    /// is held to `memory` (nil: not at all, as after `--skip-memory-check`).
    public init(model: ModelConfiguration, training: TrainingConfiguration, sampler: MicroBatchSampler,
                seed: UInt64, stageCount: Int = 1, memory: MemoryLimit? = PhysicalMemory.limit) throws(ConfigurationError) {
        try model.validate(memory: memory)
        try training.validate()
        guard sampler.sequenceLength == model.sequenceLength && sampler.sequences == model.microBatchSize else {
            throw ConfigurationError("sampler draws \(sampler.sequences) x \(sampler.sequenceLength) tokens, model wants \(model.microBatchSize) x \(model.sequenceLength)")
        }
        let partition = try StagePartition(layers: model.layers, stages: stageCount)
        self.model = model
        self.training = training
        self.sampler = sampler
        stages = (0..<stageCount).map { Stage(index: $0, partition: partition, configuration: model, seed: seed) }
        optimizers = stages.map { _ in
            AdamW(beta1: training.beta1, beta2: training.beta2, weightDecay: training.weightDecay)
        }
    }

    /// Runs F and the full backward of micro-batch `index` of `step`; returns its loss.
    /// Gradients are scaled by 1/M so that the step's gradient is that of the mean loss.
    public func accumulate(step: Int, microBatch index: Int) -> Float {
        let batch = sampler.microBatch(step: step, index: index)
        var x = batch.input
        for stage in stages { x = stage.forward(index, x, targets: stage.isLast ? batch.targets : nil) }
        var d = Tensor(shape: [1], scalars: [1 / Float(training.microBatches)])
        for stage in stages.reversed() { d = stage.backward(index, d) }
        return x.scalars[0]
    }

    /// The gradient of step `step`: zeroes the gradients, runs every micro-batch (F, then the
    /// full backward) and returns the mean loss. The stages' gradients are then those of the mean
    /// loss, before clipping: what a parallel run's gradients are compared with.
    public func computeGradients(step: Int) -> Float {
        for stage in stages {
            stage.zeroGradients()
            for layer in stage.moeLayers { layer.resetLoad() }
        }
        microBatchLosses = (0..<training.microBatches).map { accumulate(step: step, microBatch: $0) }
        return Self.meanLoss(microBatchLosses)
    }

    /// The step's loss: the mean of its micro-batch losses, summed in Double in micro-batch order
    /// (a parallel run gathers its losses by global micro-batch id and calls this too).
    public static func meanLoss(_ losses: [Float]) -> Float {
        Float(losses.reduce(0.0) { $0 + Double($1) } / Double(losses.count))
    }

    /// Clips the accumulated gradients by their global norm and applies AdamW at step `step`'s
    /// learning rate. Returns the norm before clipping and the learning rate.
    public func applyUpdate(step: Int) -> (gradientNorm: Float, learningRate: Float) {
        let norm = stages.reduce(0.0) { $0 + GradientClipping.sumOfSquares($1) }.squareRoot()
        let factor = GradientClipping.scale(globalNorm: norm, maxNorm: training.clipNorm)
        let lr = training.schedule.rate(at: step)
        for (s, stage) in stages.enumerated() {
            optimizers[s].update(stage, gradientScale: factor, learningRate: lr)
        }
        return (Float(norm), lr)
    }

    /// The forward-only loss of `training.microBatches` micro-batches of `sampler` (held-out
    /// data): F through every stage, each micro-batch's saved context freed at once, no gradient.
    /// Returns the mean and the losses in micro-batch order.
    public func evaluate(sampler: MicroBatchSampler) -> (loss: Float, microBatchLosses: [Float]) {
        let losses = (0..<training.microBatches).map { index -> Float in
            let batch = sampler.microBatch(step: 0, index: index)
            var x = batch.input
            for stage in stages {
                x = stage.forward(index, x, targets: stage.isLast ? batch.targets : nil)
                stage.discard(index)
            }
            return x.scalars[0]
        }
        return (Self.meanLoss(losses), losses)
    }

        /// After an update: each MoE layer's routing bias moves toward balance by the tokens its
    /// experts got in the last `computeGradients` (nothing when `routerBiasSpeed` is 0).
    public func balanceRouting() {
        for layer in stages.flatMap(\.moeLayers) {
            layer.balanceRouting(loads: layer.expertLoad.map(Double.init), speed: routerBiasSpeed)
        }
    }

    /// Continues a saved run: each stage's AdamW state (moments over the stage's parameters in
    /// visiting order) and the next step. The caller has loaded the parameters.
    public func restore(optimizerStates: [AdamW.State], nextStep: Int) {
        precondition(optimizerStates.count == stages.count, "\(optimizerStates.count) optimizer states for \(stages.count) stages")
        for (s, state) in optimizerStates.enumerated() { optimizers[s].state = state }
        self.nextStep = nextStep
    }

    /// One optimizer step over `training.microBatches` micro-batches.
    @discardableResult
    public func step() -> StepReport {
        let step = nextStep
        let loss = computeGradients(step: step)
        let (norm, lr) = applyUpdate(step: step)
        balanceRouting()
        nextStep += 1
        return StepReport(step: step, loss: loss, gradientNorm: norm, learningRate: lr,
                          tokens: training.microBatches * model.tokensPerMicroBatch)
    }
}
