/// One optimizer step of a pipeline run, as rank 0 reports it.
public struct PipelineStepReport: Sendable {
    public var step: Int
    /// Mean of `microBatchLosses`.
    public var loss: Float
    /// [M x EP] by global micro-batch id (EP rank e's micro-batch m is e*M + m).
    public var microBatchLosses: [Float]
    public var gradientNorm: Float
    public var learningRate: Float
    public var tokens: Int
    /// From the barrier that starts the step to the end of the optimizer update, slowest rank.
    public var stepSeconds: Double
    /// From the barrier to the end of the schedule, slowest rank.
    public var pipelineSeconds: Double
    /// [world ranks] time in compute actions and blocked in message waits during the schedule.
    public var computeSeconds: [Double]
    public var waitSeconds: [Double]
    /// [world ranks] bytes of activations and gradients sent by the schedule; of gradient sync.
    public var sentBytes: [Int]
    public var syncBytes: [Int]
    /// [world ranks] resident memory at the end of the step.
    public var residentBytes: [Int]
    /// [world ranks] every span of the step, when a trace was asked for (rank 0 only).
    public var timelines: [[TimelineEvent]]?
    /// [world ranks] seconds in expert dispatch and combine exchanges, and the part spent waiting.
    public var expertExchangeSeconds: [Double] = []
    public var expertExchangeWaitSeconds: [Double] = []

    public init(step: Int, loss: Float, microBatchLosses: [Float], gradientNorm: Float, learningRate: Float, tokens: Int,
                stepSeconds: Double, pipelineSeconds: Double, computeSeconds: [Double], waitSeconds: [Double],
                sentBytes: [Int], syncBytes: [Int], residentBytes: [Int], timelines: [[TimelineEvent]]?) {
        (self.step, self.loss, self.microBatchLosses, self.gradientNorm, self.learningRate, self.tokens) =
            (step, loss, microBatchLosses, gradientNorm, learningRate, tokens)
        (self.stepSeconds, self.pipelineSeconds, self.computeSeconds, self.waitSeconds) = (stepSeconds, pipelineSeconds, computeSeconds, waitSeconds)
        (self.sentBytes, self.syncBytes, self.residentBytes, self.timelines) = (sentBytes, syncBytes, residentBytes, timelines)
    }

    /// Sum over ranks of compute time / (ranks x the schedule's wall time).
    public var efficiency: Double {
        pipelineSeconds > 0 ? computeSeconds.reduce(0, +) / (Double(computeSeconds.count) * pipelineSeconds) : 0
    }
    public var tokensPerSecond: Double { stepSeconds > 0 ? Double(tokens) / stepSeconds : 0 }
}
