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
        guard learningRate > 0 && minimumLearningRate >= 0 && minimumLearningRate <= learningRate else {
            throw ConfigurationError("learning rate \(learningRate) must be positive and at least the minimum \(minimumLearningRate) (which must be >= 0)")
        }
        guard warmupSteps >= 0 else { throw ConfigurationError("warmup steps must be >= 0, got \(warmupSteps)") }
        guard weightDecay >= 0 && clipNorm >= 0 else {
            throw ConfigurationError("weight decay (\(weightDecay)) and clip norm (\(clipNorm)) must be >= 0")
        }
        guard (0..<1).contains(beta1) && (0..<1).contains(beta2) else {
            throw ConfigurationError("Adam betas must be in [0, 1), got \(beta1) and \(beta2)")
        }
    }
}
