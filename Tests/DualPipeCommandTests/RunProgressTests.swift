import Testing
@testable import dualpipe

@Suite struct RunProgressTests {
    @Test func durationsAsPeopleReadThem() {
        #expect(RunProgress.duration(0.04) == "0.0 s")
        #expect(RunProgress.duration(8.44) == "8.4 s")
        #expect(RunProgress.duration(42.4) == "42 s")
        #expect(RunProgress.duration(59.6) == "1m 00s")
        #expect(RunProgress.duration(185) == "3m 05s")
        #expect(RunProgress.duration(3599.4) == "59m 59s")
        #expect(RunProgress.duration(7620) == "2h 07m")
        #expect(RunProgress.duration(7649) == "2h 07m")
        #expect(RunProgress.duration(7650) == "2h 08m")
    }

    /// One estimate, after the tenth iteration, from the median of the nine after the first
    /// (whose warm-up is left out), times the steps left.
    @Test func oneEstimateAfterTheTenthIteration() {
        var progress = RunProgress(firstStep: 0, endStep: 200)
        var lines: [[String]] = []
        for step in 0..<30 { lines.append(progress.record(step: step, seconds: step == 0 ? 9 : (step % 2 == 0 ? 0.5 : 0.4), tokens: 100)) }
        #expect(lines.flatMap { $0 } == ["estimate: 190 more step(s), about 1m 16s at the median step so far (0.400 s; --steps 200)"])
        #expect(!lines[9].isEmpty)
    }

    /// A resumed run counts from its checkpoint's step; a run with fewer than ten steps left after
    /// its tenth gets no estimate.
    @Test func noEstimateNearTheEnd() {
        var progress = RunProgress(firstStep: 100, endStep: 119)
        let lines = (100..<119).map { progress.record(step: $0, seconds: 1, tokens: 512) }
        #expect(lines.allSatisfy { $0.isEmpty })
        #expect(progress.summary == "trained step(s) 100-118 in 19 s (median step 1.000 s, 512 tokens/s)")
        var enough = RunProgress(firstStep: 100, endStep: 120)
        #expect((100..<120).flatMap { enough.record(step: $0, seconds: 1, tokens: 512) }.count == 1)
    }

    @Test func summaryOfAStoppedRun() {
        var progress = RunProgress(firstStep: 0, endStep: 3000)
        for step in 0..<4 { _ = progress.record(step: step, seconds: 0.25, tokens: 1000) }
        #expect(progress.summary == "trained step(s) 0-3 in 1.0 s (median step 0.250 s, 4000 tokens/s)")
        #expect(RunProgress(firstStep: 5, endStep: 5).summary == "trained no step")
    }

    /// With the model's work per token, the summary says the rate of it, in all and a rank: the
    /// tokens/s times the FLOPs per token.
    @Test func summaryWithTheModelsWork() {
        var progress = RunProgress(firstStep: 0, endStep: 4, flopsPerToken: 3e6, ranks: 8)
        for step in 0..<4 { _ = progress.record(step: step, seconds: 0.25, tokens: 1000) }
        #expect(progress.summary == "trained step(s) 0-3 in 1.0 s (median step 0.250 s, 4000 tokens/s, 12.0 GFLOP/s of matmul work, 1.5 a rank)")
    }

    /// Checkpoints are named beside the wall time and left out of the median step and the rates:
    /// a save every step of a large model is not a slower model. The estimate still counts them.
    @Test func summaryWithCheckpoints() {
        var progress = RunProgress(firstStep: 0, endStep: 4, flopsPerToken: 3e6, ranks: 8)
        for step in 0..<4 { _ = progress.record(step: step, seconds: 0.25 + (step % 2 == 1 ? 1.0 : 0), tokens: 1000, checkpointSeconds: step % 2 == 1 ? 1.0 : nil) }
        #expect(progress.summary == "trained step(s) 0-3 in 3.0 s, 2.0 s of it in 2 checkpoint(s) (median step 0.250 s, 4000 tokens/s, 12.0 GFLOP/s of matmul work, 1.5 a rank; without the checkpoints)")
        var everyStep = RunProgress(firstStep: 0, endStep: 40)
        let lines = (0..<10).flatMap { everyStep.record(step: $0, seconds: 1.2, tokens: 100, checkpointSeconds: 1.0) }
        #expect(lines == ["estimate: 30 more step(s), about 36 s at the median step so far (1.200 s; --steps 40)"])
        #expect(everyStep.summary.hasPrefix("trained step(s) 0-9 in 12 s, 10 s of it in 10 checkpoint(s) (median step 0.200 s, 500 tokens/s; "))
        var small = RunProgress(firstStep: 0, endStep: 2)
        _ = small.record(step: 0, seconds: 0.1, tokens: 10)
        _ = small.record(step: 1, seconds: 0.14, tokens: 10, checkpointSeconds: 0.04)
        #expect(small.summary == "trained step(s) 0-1 in 0.2 s, 0.04 s of it in 1 checkpoint(s) (median step 0.100 s, 100 tokens/s; without the checkpoints)")
    }

    /// Under a batch job's time limit the estimate says how far away it is, and warns when it
    /// comes before the steps left are done, with what happens then.
    @Test func theJobsTimeLimit() {
        func estimate(limitIn seconds: Double, _ outcome: RunProgress.TimeLimit.Outcome) -> [String] {
            var progress = RunProgress(firstStep: 0, endStep: 110, timeLimit: .init(end: 1000 + seconds, outcome: outcome))
            return (0..<10).flatMap { progress.record(step: $0, seconds: 1, tokens: 1, now: 1000) }
        }
        #expect(estimate(limitIn: 3600, .lost)
                == ["estimate: 100 more step(s), about 1m 40s at the median step so far (1.000 s; --steps 110); the job's time limit is 1h 00m away"])
        let short = estimate(limitIn: 99, .stopsBefore(margin: 30))
        #expect(short.count == 2 && short[0].hasSuffix("the job's time limit is 1m 39s away"))
        #expect(short[1] == "warning: the run stops before the steps left are done, with a checkpoint (exit 75), once less than 30 s and two of its longest steps are left before the job's time limit (--stop-before-limit): submit it again with the same flags and --resume")
        // 100 s of steps fit before a limit 120 s away, but not before the stop 30 s and two
        // 1 s steps ahead of it: only the run that stops itself is warned.
        #expect(estimate(limitIn: 120, .lost).count == 1)
        #expect(estimate(limitIn: 120, .stopsBefore(margin: 30)).last?.hasPrefix("warning: the run stops before the steps left are done") == true)
        #expect(estimate(limitIn: 140, .stopsBefore(margin: 30)).count == 1)
        #expect(estimate(limitIn: 99, .stopsAtTheSignal).last?.contains("its SIGTERM stops the run with a checkpoint (exit 75) where it reaches the ranks in time") == true)
        #expect(estimate(limitIn: -5, .lost).last == "warning: the job's time limit comes before the steps left are done; without --checkpoint-dir everything trained is lost then: add it, or ask for a longer --time")
    }

    @Test func theTimeLimitFromTheEnvironment() {
        #expect(RunProgress.jobEnd([:]) == nil)
        #expect(RunProgress.jobEnd(["DUALPIPE_JOB_END": "1796170000"]) == 1_796_170_000)
        #expect(RunProgress.jobEnd(["SLURM_JOB_END_TIME": "1796170100", "DUALPIPE_JOB_END": "1796170000"]) == 1_796_170_100)
        #expect(RunProgress.jobEnd(["DUALPIPE_JOB_END": "Unknown"]) == nil)
        #expect(RunProgress.jobEnd(["SLURM_JOB_END_TIME": "0", "DUALPIPE_JOB_END": "1796170000"]) == 1_796_170_000)
    }
}
