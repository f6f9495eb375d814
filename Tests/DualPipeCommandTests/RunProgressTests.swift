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
        var lines: [String?] = []
        for step in 0..<30 { lines.append(progress.record(step: step, seconds: step == 0 ? 9 : (step % 2 == 0 ? 0.5 : 0.4), tokens: 100)) }
        #expect(lines.compactMap { $0 } == ["estimate: 190 more step(s), about 1m 16s at the median step so far (0.400 s; --steps 200)"])
        #expect(lines[9] != nil)
    }

    /// A resumed run counts from its checkpoint's step; a run with fewer than ten steps left after
    /// its tenth gets no estimate.
    @Test func noEstimateNearTheEnd() {
        var progress = RunProgress(firstStep: 100, endStep: 119)
        let lines = (100..<119).map { progress.record(step: $0, seconds: 1, tokens: 512) }
        #expect(lines.allSatisfy { $0 == nil })
        #expect(progress.summary == "trained step(s) 100-118 in 19 s (median step 1.000 s, 512 tokens/s)")
        var enough = RunProgress(firstStep: 100, endStep: 120)
        #expect((100..<120).compactMap { enough.record(step: $0, seconds: 1, tokens: 512) }.count == 1)
    }

    @Test func summaryOfAStoppedRun() {
        var progress = RunProgress(firstStep: 0, endStep: 3000)
        for step in 0..<4 { _ = progress.record(step: step, seconds: 0.25, tokens: 1000) }
        #expect(progress.summary == "trained step(s) 0-3 in 1.0 s (median step 0.250 s, 4000 tokens/s)")
        #expect(RunProgress(firstStep: 5, endStep: 5).summary == "trained no step")
    }
}
