import Testing
@testable import dualpipe

/// When rank 0 asks for the stop before the job's time limit.
@Suite struct TimeLimitStopTests {
    func due(_ stop: inout TimeLimitStop, _ now: Double, longest: Double) -> Bool { stop.due(longestIteration: longest, now: now) }

    @Test func stopsOnceTheMarginAndTwoStepsAreAllThatIsLeft() {
        var stop = TimeLimitStop(end: 1000, margin: 60)
        #expect(!due(&stop, 900, longest: 0))
        #expect(!due(&stop, 920, longest: 10))  // 80 s left: the margin and two steps of 10 s fit
        #expect(due(&stop, 921, longest: 10))
        #expect(stop.reached)
        #expect(due(&stop, 0, longest: 0))  // once reached, it stays
        #expect(stop.reason(now: 921) == "the job's time limit is 1m 19s away (--stop-before-limit 1m 00s and two of the longest steps, 10.000 s each)")
    }

    /// The longest iteration comes from the stop signals' record of every step, which keeps the longest.
    @Test func theLongestStepCounts() {
        StopSignals.noteStep(seconds: 10)
        StopSignals.noteStep(seconds: 4)
        #expect(StopSignals.longestStepSeconds == 10)
    }

    @Test func aJobAlreadyPastItsEndStopsAfterTheFirstStep() {
        var stop = TimeLimitStop(end: 1000, margin: 1)
        #expect(due(&stop, 1500, longest: 0))
        #expect(stop.reason(now: 1500).hasPrefix("the job's time limit is 0.0 s away"))
    }

    /// Only rank 0 decides, and only with checkpoints, a margin and a known end.
    @Test func whoStops() throws {
        let end = RunProgress.jobEnd(["DUALPIPE_JOB_END": "1796170000"])
        let withCheckpoints = try TrainCommand.parse(["--checkpoint-dir", "ckpt"])
        #expect(TimeLimitStop.forRun(withCheckpoints, lead: true, jobEnd: end, now: 1_796_160_000)?.margin == 60)
        // A short job keeps three quarters of its time: a minute's job stops 15 s early, not 60.
        #expect(TimeLimitStop.forRun(withCheckpoints, lead: true, jobEnd: end, now: 1_796_169_940)?.margin == 15)
        #expect(TimeLimitStop.forRun(try TrainCommand.parse(["--checkpoint-dir", "ckpt", "--stop-before-limit", "45"]), lead: true,
                                     jobEnd: end, now: 1_796_169_940)?.margin == 45)
        #expect(TimeLimitStop.forRun(withCheckpoints, lead: false, jobEnd: end) == nil)
        #expect(TimeLimitStop.forRun(withCheckpoints, lead: true, jobEnd: nil) == nil)
        #expect(TimeLimitStop.forRun(try TrainCommand.parse([]), lead: true, jobEnd: end) == nil)
        #expect(TimeLimitStop.forRun(try TrainCommand.parse(["--checkpoint-dir", "ckpt", "--stop-before-limit", "0"]), lead: true, jobEnd: end) == nil)
        #expect(TimeLimitStop.forRun(try TrainCommand.parse(["--checkpoint-dir", "ckpt", "--stop-before-limit", "300"]), lead: true, jobEnd: end)?.end == 1_796_170_000)
    }

    @Test func badValuesAreRefused() {
        #expect(throws: (any Error).self) { try TrainCommand.parse(["--stop-before-limit", "60"]) }  // no --checkpoint-dir
        #expect(throws: (any Error).self) { try TrainCommand.parse(["--checkpoint-dir", "ckpt", "--stop-before-limit", "-1"]) }
        #expect(throws: (any Error).self) { try TrainCommand.parse(["--checkpoint-dir", "ckpt", "--stop-before-limit", "inf"]) }
    }
}
