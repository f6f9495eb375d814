import Testing
@testable import Schedule

@Suite struct LoopedBFSTests {
    /// Every micro-batch through a rank's first stage, then its next; the backwards in reverse.
    @Test func aRankRunsEachLoopWhole() throws {
        let s = try Schedule.generate(kind: .loopedBFS, ranks: 2, microBatches: 3)
        #expect(s.stagesHeld(by: 1) == [1, 3])
        #expect(s.program[1].map(\.description) == ["F1:0", "F1:1", "F1:2", "F3:0", "F3:1", "F3:2",
                                                    "BW3:2", "BW3:1", "BW3:0", "BW1:2", "BW1:1", "BW1:0"])
        #expect(try Schedule.generate(kind: .loopedBFS, ranks: 3, microBatches: 2, stagesPerRank: 4).stagesHeld(by: 2) == [2, 5, 8, 11])
    }

    /// GPipe's bubble on N = PP/V ranks, (N-1)(F+BW), for M >= N; with fewer micro-batches than
    /// ranks each loop waits for the last to come round. Every activation of the step is alive.
    @Test func itsBubbleIsGPipesOnStagesAVthAsLarge() throws {
        let costs = Costs(forward: 2, backwardInput: 3, backwardWeight: 1)
        for (n, v) in [(2, 2), (4, 2), (3, 3), (4, 4)] {
            for m in [n, n + 1, 2 * n] {
                let sim = try Schedule.generate(kind: .loopedBFS, ranks: n, microBatches: m, stagesPerRank: v).simulate(costs)
                #expect(sim.bubble == Double(n - 1) * (2 + 4), "N \(n), V \(v), M \(m)")
                #expect(sim.peakActivations.allSatisfy { $0 == v * m })
                #expect(BubbleFormula.readme(.loopedBFS, stages: n * v, stagesPerRank: v, costs: costs) == sim.bubble)
            }
        }
        let short = try Schedule.generate(kind: .loopedBFS, ranks: 4, microBatches: 2).simulate(costs)
        #expect(short.bubble > 3 * 6)
    }

    /// One message in flight a channel deadlocks (a rank sends a loop to a neighbour still on its
    /// own); two run, but `lowered()` gives a channel M, a whole loop, so no send waits on the
    /// neighbour.
    @Test func itsChannelsHoldAWholeLoop() throws {
        let s = try Schedule.generate(kind: .loopedBFS, ranks: 2, microBatches: 8)
        let failure = try #require(throws: ScheduleValidationError.self) { try s.lowered(channelDepth: 1).validate() }
        #expect(failure.rule == "deadlock freedom")
        try s.lowered(channelDepth: 2).validate()
        let lowered = s.lowered()
        #expect(lowered.channelDepth == 8)
        try lowered.validate()
        #expect(try Schedule.generate(kind: .loopedBFS, ranks: 4, microBatches: 1).lowered().channelDepth == 1)
    }
}
