import Foundation

/// What a run says besides its step lines: once, early, how long the steps left will take (what
/// a batch job's time limit has to cover, and whether it does), and at the end how long the steps
/// took. Times are of whole iterations on rank 0: the step, and any evaluation, rebalance or
/// checkpoint after it; the summary's step time and rates leave the checkpoints out and say
/// what they took beside them (a save every step of a large model would otherwise read as a
/// slow model).
struct RunProgress {
    /// Iterations timed before the estimate; the first warms caches and buffer pools and is left
    /// out of it.
    static let estimateAfter = 10

    /// The batch job's time limit: when it ends the job (Unix seconds), and what becomes of the run.
    struct TimeLimit {
        enum Outcome {
            /// No --checkpoint-dir: what the run trained is lost.
            case lost
            /// --stop-before-limit 0: the limit's SIGTERM stops it with a checkpoint, where it reaches the ranks.
            case stopsAtTheSignal
            /// --stop-before-limit: it stops itself, with a checkpoint, once less than `margin`
            /// seconds and two of its longest iterations are left (`TimeLimitStop`).
            case stopsBefore(margin: Double)
        }
        var end: Double
        var outcome: Outcome
    }

    let firstStep: Int
    /// The step after the last one the run plans (`--steps`).
    let endStep: Int
    /// Moved with the job's end (`JobEndWatch`).
    var timeLimit: TimeLimit?
    /// The model's matmul work per token trained (F, B and W; `FlopCount`), and the ranks that
    /// share it: the summary's GFLOP/s, comparable with `dualpipe bench blas`. 0: not said.
    let flopsPerToken: Double
    let ranks: Int
    private(set) var iterationSeconds: [Double] = []
    private var tokens = 0
    /// The checkpoints saved after steps (rank 0's time in each save).
    private var checkpoints = (count: 0, seconds: 0.0)
    /// Each iteration without its checkpoint.
    private var stepSeconds: [Double] = []

    init(firstStep: Int, endStep: Int, timeLimit: TimeLimit? = nil, flopsPerToken: Double = 0, ranks: Int = 1) {
        (self.firstStep, self.endStep, self.timeLimit) = (firstStep, endStep, timeLimit)
        (self.flopsPerToken, self.ranks) = (flopsPerToken, ranks)
    }

    /// Records the iteration of `step` (`checkpointSeconds` of it in a checkpoint's save, nil for
    /// none); returns the estimate once, after `estimateAfter` iterations when at least as many
    /// steps are left, with a warning when the job's time limit (`now` in Unix seconds) comes
    /// first, or with --stop-before-limit the run's stop before it.
    mutating func record(step: Int, seconds: Double, tokens: Int, checkpointSeconds: Double? = nil,
                         now: Double = Date().timeIntervalSince1970) -> [String] {
        iterationSeconds.append(seconds)
        stepSeconds.append(seconds - (checkpointSeconds ?? 0))
        if let checkpointSeconds { checkpoints = (checkpoints.count + 1, checkpoints.seconds + checkpointSeconds) }
        self.tokens += tokens
        let left = endStep - 1 - step
        guard iterationSeconds.count == Self.estimateAfter, left >= Self.estimateAfter else { return [] }
        let typical = median(Array(iterationSeconds.dropFirst()))
        let needed = typical * Double(left)
        var estimate = "estimate: \(left) more step(s), about \(Self.duration(needed)) at the median step so far (" + decimal(typical, 3) + " s; --steps \(endStep))"
        guard let timeLimit else { return [estimate] }
        let remaining = max(0, timeLimit.end - now)
        estimate += "; the job's time limit is \(Self.duration(remaining)) away"
        // With --stop-before-limit the steps have until the stop, which comes before the limit.
        var available = remaining
        if case .stopsBefore(let margin) = timeLimit.outcome {
            available = TimeLimitStop.timeBeforeStop(end: timeLimit.end, now: now, margin: margin, longestIteration: iterationSeconds.max() ?? 0)
        }
        guard available < needed else { return [estimate] }
        let warning = switch timeLimit.outcome {
        case .lost:
            "the job's time limit comes before the steps left are done; without --checkpoint-dir everything trained is lost then: add it, or ask for a longer --time"
        case .stopsAtTheSignal:
            "the job's time limit comes before the steps left are done; its SIGTERM stops the run with a checkpoint (exit 75) where it reaches the ranks in time (not through mpirun): submit it again with the same flags and --resume"
        case .stopsBefore(let margin):
            "the run stops before the steps left are done, with a checkpoint (exit 75), once less than \(Self.duration(margin)) and two of its longest steps are left before the job's time limit (--stop-before-limit): submit it again with the same flags and --resume"
        }
        return [estimate, "warning: " + warning]
    }

    /// The job's time limit from the environment: Slurm's SLURM_JOB_END_TIME (Slurm 23.02 and
    /// later), else DUALPIPE_JOB_END, which slurm/train.sbatch sets from squeue; both Unix seconds.
    static func jobEnd(_ environment: [String: String]) -> Double? {
        for name in ["SLURM_JOB_END_TIME", "DUALPIPE_JOB_END"] {
            if let text = environment[name], let end = Double(text), end > 0 { return end }
        }
        return nil
    }

    /// The line after the last step this run trained: the wall time, what checkpoints took of
    /// it, and the median step and the rates without them.
    var summary: String {
        guard !iterationSeconds.isEmpty else { return "trained no step" }
        let wall = iterationSeconds.reduce(0, +)
        let last = firstStep + iterationSeconds.count - 1
        let tokensPerSecond = Double(tokens) / stepSeconds.reduce(0, +), gflops = tokensPerSecond * flopsPerToken / 1e9
        let work = flopsPerToken > 0 ? ", " + decimal(gflops, 1) + " GFLOP/s of matmul work, " + decimal(gflops / Double(ranks), 1) + " a rank" : ""
        // A small model's saves take hundredths of a second, which `duration` would round to 0.0 s.
        let saved = checkpoints.seconds < 1 ? decimal(checkpoints.seconds, 2) + " s" : Self.duration(checkpoints.seconds)
        let saves = checkpoints.count == 0 ? "" : ", \(saved) of it in \(checkpoints.count) checkpoint(s)"
        return "trained step(s) \(firstStep)-\(last) in \(Self.duration(wall))\(saves) (median step " + decimal(median(stepSeconds), 3)
            + " s, " + decimal(tokensPerSecond, 0) + " tokens/s" + work + (checkpoints.count == 0 ? "" : "; without the checkpoints") + ")"
    }

    /// `seconds` as people read a wait: `8.4 s`, `42 s`, `3m 05s`, `2h 07m`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return decimal(seconds, 1) + " s" }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60)m " + String(format: "%02ds", whole % 60) }
        let minutes = (whole + 30) / 60
        return "\(minutes / 60)h " + String(format: "%02dm", minutes % 60)
    }
}
