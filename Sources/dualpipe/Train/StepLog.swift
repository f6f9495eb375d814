import Foundation
import Pipeline

/// What rank 0 keeps across the steps of a run, the MoE model's and `--model mlp`'s alike: the
/// --metrics file, the progress estimate, the job's end as slurm/train.sbatch re-reads it, and for
/// the memory line after the last step the resident set after the first and what the run was
/// estimated to need.
struct StepLog {
    let metrics: LineWriter?
    private(set) var progress: RunProgress
    private var endWatch: JobEndWatch?
    private var firstResident = 0
    /// Bytes on the rank estimated to need the most (with --check-reference's copy where held).
    private let estimatedBytes: Double
    /// The message buffers rank 0's estimate counted.
    private let estimatedBuffers: Int

    /// `jobEnd`: the job's end when the run started (`RunProgress.jobEnd`), nil outside a job that
    /// has one. `memory`: [PP] the estimates the run was checked with, `reference` the
    /// --check-reference copy, `rankZeroPipelineRank` where world rank 0 sits.
    init(metrics: LineWriter?, progress: RunProgress, jobEnd: Double?,
         memory: [RankMemoryEstimate], reference: ReferenceCopy?, rankZeroPipelineRank: Int) {
        self.metrics = metrics
        self.progress = progress
        endWatch = JobEndWatch(ProcessInfo.processInfo.environment, start: jobEnd)
        estimatedBytes = reference?.largestTotal(memory, rankZeroPipelineRank: rankZeroPipelineRank) ?? memory.largest?.estimate.total ?? 0
        estimatedBuffers = memory[rankZeroPipelineRank].messageBuffers
    }

    /// Before a step: the job's end, if it moved since the last look; the estimate goes by it from
    /// now on.
    mutating func movedJobEnd() -> Double? {
        guard let end = endWatch?.moved() else { return nil }
        progress.timeLimit?.end = end
        return end
    }

    /// After a step: on the run's last, what the ranks held beside what was estimated before the
    /// start, with the most any held at any time (between steps too: a checkpoint's save or
    /// restore), and rank 0's message buffers beside the count its estimate took from its lowered
    /// program.
    mutating func memoryLine(after step: Int, _ report: PipelineStepReport, messageBuffers: Int) -> String? {
        let largest = report.residentBytes.max() ?? 0
        if step == progress.firstStep { firstResident = largest }
        guard step == progress.endStep - 1 else { return nil }
        let peak = report.peakResidentBytes.max().map { "; the peak so far \(mebibytes($0))" } ?? ""
        return "memory: largest resident set \(mebibytes(firstResident)) after step \(progress.firstStep), \(mebibytes(largest)) after step \(step) (estimated before the start: \(mebibytes(Int(estimatedBytes))) on the rank that needs the most\(peak)); \(messageBuffers) message buffers on rank 0 (\(estimatedBuffers) estimated)"
    }

    /// After a step: its --metrics line, then the progress lines due (`seconds`: the whole
    /// iteration, its output included; `checkpointSeconds`: what a save after it took of that).
    mutating func record(step: Int, _ report: PipelineStepReport, evalLoss: Float?, seconds: Double, checkpointSeconds: Double? = nil) throws {
        try metrics?.write(try MetricsRecord(report, evalLoss: evalLoss).jsonLine())
        for line in progress.record(step: step, seconds: seconds, tokens: report.tokens, checkpointSeconds: checkpointSeconds) { print(line) }
    }
}
