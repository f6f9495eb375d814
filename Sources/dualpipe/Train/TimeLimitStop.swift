import Foundation

/// `--stop-before-limit`: a run with checkpoints, inside a batch job whose end it knows, stops
/// itself before the time limit, as a stop signal would stop it (after the step, with a
/// checkpoint, exit 75). The signal at the limit itself is not always enough: mpirun ends its
/// ranks at once on its own SIGTERM, and a step longer than a third of Slurm's KillWait leaves too
/// little time to finish it and write the checkpoint. Rank 0 alone decides, on its clock, and asks
/// for the stop in the step's loss sum like a signal, so every rank stops after the same step.
struct TimeLimitStop {
    static let defaultMargin = 60.0

    /// The job's end, Unix seconds (moved when the job's time limit is, `JobEndWatch`).
    var end: Double
    /// Seconds to leave before it, besides two of the longest iterations (the step the stop
    /// comes in and the checkpoint after it).
    let margin: Double
    /// The longest iteration when `due` said yes (nil: it has not).
    private(set) var longestAtStop: Double?
    var reached: Bool { longestAtStop != nil }

    init(end: Double, margin: Double) {
        (self.end, self.margin) = (end, margin)
    }

    /// The stop for a run with `options`, where rank 0 runs (`lead`) and the job ends at `jobEnd`
    /// (`RunProgress.jobEnd`), starting at `now`; nil where there is nothing to do. The default
    /// margin is at most a quarter of the time left at the start, so that a short job (a minute's
    /// test) still trains most of its time.
    static func forRun(_ options: TrainCommand, lead: Bool, jobEnd: Double?,
                       now: Double = Date().timeIntervalSince1970) -> TimeLimitStop? {
        guard lead, options.recovery.checkpointDir != nil, options.stopsBeforeLimit, let end = jobEnd else { return nil }
        let margin = options.recovery.stopBeforeLimit ?? min(defaultMargin, max(0, end - now) / 4)
        return TimeLimitStop(end: end, margin: margin)
    }

    /// Whether the step ending at `now` (Unix seconds) must be the last, the longest iteration so
    /// far (a step and whatever followed it) having taken `longestIteration` seconds.
    mutating func due(longestIteration: Double, now: Double = Date().timeIntervalSince1970) -> Bool {
        if !reached, Self.timeBeforeStop(end: end, now: now, margin: margin, longestIteration: longestIteration) < 0 {
            longestAtStop = longestIteration
        }
        return reached
    }

    /// Seconds the steps still have before the stop, the job ending at `end` (both Unix seconds,
    /// as `now`): the time left less `margin` and two of the longest iterations. The stop is due
    /// once it is below 0; the run's estimate (`RunProgress`) warns when the steps left need more.
    static func timeBeforeStop(end: Double, now: Double, margin: Double, longestIteration: Double) -> Double {
        end - now - (margin + 2 * longestIteration)
    }

    /// The part of the stop line that says why, at `now`.
    func reason(now: Double = Date().timeIntervalSince1970) -> String {
        "the job's time limit is \(RunProgress.duration(max(0, end - now))) away (--stop-before-limit \(RunProgress.duration(margin)) and two of the longest steps, "
            + decimal(longestAtStop ?? 0, 3) + " s each)"
    }

    /// The header's line: when the job ends and when the run will stop.
    func announcement(now: Double = Date().timeIntervalSince1970) -> String {
        "time limit: the job ends \(Self.when(end, now: now)); " + stopsWhen
    }

    /// When the run stops, as the header and a moved end say it after the job's end.
    var stopsWhen: String {
        "the run stops with a checkpoint once less than \(RunProgress.duration(margin)) and two of its longest steps are left (--stop-before-limit)"
    }

    /// `2026-12-02 02:40:00 UTC, in 1h 02m`: the end `end` (Unix seconds), and how far from `now`.
    static func when(_ end: Double, now: Double = Date().timeIntervalSince1970) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss zzz"
        return "\(formatter.string(from: Date(timeIntervalSince1970: end))), in \(RunProgress.duration(max(0, end - now)))"
    }
}
