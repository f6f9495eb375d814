import MPI
import Model

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
    /// [world ranks] resident memory at the end of the step, and the most held at any time so far.
    public var residentBytes: [Int]
    public var peakResidentBytes: [Int] = []
    /// [world ranks] every span of the step, when a trace was asked for (rank 0 only).
    public var timelines: [[TimelineEvent]]?
    /// [world ranks] seconds in expert dispatch and combine exchanges, and the part spent waiting.
    public var expertExchangeSeconds: [Double] = []
    public var expertExchangeWaitSeconds: [Double] = []
    /// [world ranks] the schedule's sends: seconds in flight (post to seen complete), summed, and
    /// the part blocked in their waits.
    public var sendSeconds: [Double] = []
    public var sendBlockedSeconds: [Double] = []
    /// How many ranks asked the run to stop during this step (`PipelineTrainer.stopRequested`).
    public var stopRequests = 0
    /// [extra values][world ranks] what a trainer added to `gathered`, in its order.
    var extraColumns: [[Double]] = []

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

extension PipelineStepReport {
    /// The report of a step, from every rank's numbers in one allgather: its recorder, the times
    /// it took (`start`: the barrier; `pipelineEnd`: the schedule's end; `end`: the update's end),
    /// the gradient-sum bytes, and `extra` values a trainer adds (in `extraColumns`). Collective.
    static func gathered(world: Communicator, step: Int, losses: [Float], gradientNorm: Double, learningRate: Float, tokens: Int,
                         recorder: StepRecorder, start: Double, pipelineEnd: Double, end: Double, syncBytes: Int,
                         keepTrace: Bool, extra: [Double] = []) throws -> PipelineStepReport {
        let own = [recorder.computeSeconds, recorder.waitSeconds, pipelineEnd - start, end - start, Double(recorder.sentBytes),
                   Double(syncBytes), Double(Pipeline.residentBytes()), recorder.sendSeconds, recorder.sendBlockedSeconds,
                   Double(Pipeline.peakResidentBytes())] + extra
        let all = try world.allgather(own)
        func column(_ k: Int) -> [Double] { stride(from: k, to: all.count, by: own.count).map { all[$0] } }
        var report = PipelineStepReport(
            step: step, loss: ReferenceTrainer.meanLoss(losses), microBatchLosses: losses, gradientNorm: Float(gradientNorm),
            learningRate: learningRate, tokens: tokens, stepSeconds: column(3).max()!, pipelineSeconds: column(2).max()!,
            computeSeconds: column(0), waitSeconds: column(1),
            sentBytes: column(4).map { Int($0) }, syncBytes: column(5).map { Int($0) }, residentBytes: column(6).map { Int($0) },
            timelines: keepTrace ? try world.gatherTimelines(recorder.events) : nil)
        report.sendSeconds = column(7)
        report.sendBlockedSeconds = column(8)
        report.peakResidentBytes = column(9).map { Int($0) }
        report.extraColumns = (0..<extra.count).map { column(10 + $0) }
        return report
    }
}
