import Testing
@testable import dualpipe

/// The lines `bench schedules` prints as its rounds run.
@Suite struct RoundProgressTests {
    @Test func theWarmUpRoundIsLeftOutOfTheEstimateOnceATimedRoundExists() {
        var progress = RoundProgress(rounds: 13, now: 100)
        // The warm-up alone: the estimate has nothing else to go by.
        #expect(progress.roundDone(now: 130) == "bench schedules: round 1 of 13 (the warm-up) done, 30 s so far; about 6m 00s left")
        // Then the timed rounds' mean: 20 s for the 11 rounds left; then (20 + 22) / 2 for 10.
        #expect(progress.roundDone(now: 150) == "bench schedules: round 2 of 13 done, 50 s so far; about 3m 40s left")
        #expect(progress.roundDone(now: 172) == "bench schedules: round 3 of 13 done, 1m 12s so far; about 3m 30s left")
    }

    @Test func theOpeningLineSaysWhatTakesTurns() {
        let progress = RoundProgress(rounds: 13, now: 0)
        #expect(progress.opening(trainers: 10, onBothLinks: false)
            == "bench schedules: 10 trainers, 13 rounds of a step each (the first a warm-up); the tables come at the end, on standard output")
        #expect(progress.opening(trainers: 11, onBothLinks: true).hasPrefix("bench schedules: 11 trainers, 13 rounds of a step each (the first a warm-up), each on both links;"))
    }

    @Test func theLastRoundSaysNothingIsLeft() {
        var progress = RoundProgress(rounds: 2, now: 0)
        _ = progress.roundDone(now: 4)
        #expect(progress.roundDone(now: 6) == "bench schedules: round 2 of 2 done, 6.0 s so far")
    }
}
