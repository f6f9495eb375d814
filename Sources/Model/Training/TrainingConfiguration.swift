/// The optimisation side of a run: steps, gradient accumulation and the optimizer's numbers.
public struct TrainingConfiguration: Sendable, Equatable {
    /// Optimizer steps.
    public var steps: Int
    /// Micro-batches per step (gradient accumulation); the step's loss is their mean.
    public var microBatches: Int
    public var learningRate: Float
    public var minimumLearningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    /// Global gradient-norm limit; 0 turns clipping off.
    public var clipNorm: Float

    public init(steps: Int = 200, microBatches: Int = 4, learningRate: Float = 3e-3, minimumLearningRate: Float = 3e-4,
                warmupSteps: Int = 20, weightDecay: Float = 0.1, beta1: Float = 0.9, beta2: Float = 0.95, clipNorm: Float = 1) {
        self.steps = steps
        self.microBatches = microBatches
        self.learningRate = learningRate
        self.minimumLearningRate = minimumLearningRate
        self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.clipNorm = clipNorm
    }

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: learningRate, minimum: minimumLearningRate, warmup: warmupSteps, total: steps)
    }

    /// The most micro-batches a step may have, the schedules' limit too (docs/inputs.md).
    public static let maximumMicroBatches = 1 << 19

    public func validate() throws(ConfigurationError) {
        guard steps >= 1 else { throw ConfigurationError("steps must be at least 1, got \(steps)") }
        guard microBatches >= 1 else { throw ConfigurationError("micro-batches must be at least 1, got \(microBatches)") }
        guard microBatches <= Self.maximumMicroBatches else {
            throw ConfigurationError("--micro-batches \(microBatches) exceeds the limit of \(Self.maximumMicroBatches) per step (docs/inputs.md): a step would run for hours")
        }
        // The optimizer's numbers, each refused by the `dualpipe train` flag that sets it.
        guard learningRate.isFinite && learningRate > 0 else {
            throw ConfigurationError("--lr \(learningRate): the peak learning rate must be a finite number > 0")
        }
        guard minimumLearningRate.isFinite && minimumLearningRate >= 0 && minimumLearningRate <= learningRate else {
            throw ConfigurationError("--min-lr \(minimumLearningRate): the final learning rate must be a finite number >= 0 and at most --lr (\(learningRate))")
        }
        guard warmupSteps >= 0 else { throw ConfigurationError("--warmup \(warmupSteps): warmup steps must be >= 0") }
        guard weightDecay.isFinite && weightDecay >= 0 else {
            throw ConfigurationError("--weight-decay \(weightDecay): weight decay must be a finite number >= 0")
        }
        guard clipNorm.isFinite && clipNorm >= 0 else {
            throw ConfigurationError("--clip \(clipNorm): the gradient-norm clip must be a finite number >= 0 (0: no clipping)")
        }
        guard (0..<1).contains(beta1) && (0..<1).contains(beta2) else {
            throw ConfigurationError("Adam betas must be in [0, 1), got \(beta1) and \(beta2)")
        }
    }
}
