import Testing
@testable import Schedule

/// Interleaved ZB as PyTorch's `ScheduleInterleavedZeroBubble` orders it (its program is in the
/// golden files): Interleaved 1F1B's layout and groups with B and W split, W held back on rank r
/// until r input gradients have gone, so it fills the wait for the next gradient.
@Suite struct InterleavedZeroBubbleTests {
    /// ZB1P's bubble, (N-1)(F+BW-2W), on N = PP/V ranks, for any V and costs with F + B >= W.
    @Test(arguments: [2, 3, 4])
    func bubbleIsZB1POnStagesAVthAsLarge(v: Int) throws {
        for c in [(1.0, 1.0, 1.0), (10, 10, 4), (3, 8, 1), (9, 2, 2), (1, 2, 1)] {
            for (n, m) in [(2, 4), (3, 9), (4, 8), (4, 16), (8, 24)] {
                let costs = Costs(forward: c.0, backwardInput: c.1, backwardWeight: c.2, forwardBackward: c.0 + c.1 + c.2)
                let sim = try Schedule.generate(kind: .interleavedZB, ranks: n, microBatches: m, stagesPerRank: v).simulate(costs)
                #expect(sim.bubble == Double(n - 1) * (c.0 + c.1 - c.2), "V \(v) \(n)x\(m) \(c)")
                #expect(sim.bubble == BubbleFormula.readme(.interleavedZB, stages: v * n, stagesPerRank: v, costs: costs))
            }
        }
    }

    /// Rank r warms up with (V-1)G + N-r-1 forwards, runs r input gradients before its first W,
    /// then keeps W r behind B, and ends with the r it held back.
    @Test func weightGradientsTrailTheInputGradientsByTheRank() throws {
        for (n, m, v) in [(4, 8, 2), (3, 9, 3), (5, 14, 2)] {
            let s = try Schedule.generate(kind: .interleavedZB, ranks: n, microBatches: m, stagesPerRank: v)
            let g = Interleaved1F1BGenerator.groupSize(ranks: n, microBatches: m)
            for rank in 0..<n {
                let actions = s.program[rank]
                let firstB = try #require(actions.firstIndex { if case .backwardInput = $0 { true } else { false } })
                #expect(firstB == (v - 1) * g + n - rank, "\(n)x\(m) V \(v) rank \(rank): warm-up")
                let firstW = try #require(actions.firstIndex { if case .backwardWeight = $0 { true } else { false } })
                let inputGradientsBefore = actions[..<firstW].filter { if case .backwardInput = $0 { true } else { false } }.count
                #expect(inputGradientsBefore == rank + 1, "\(n)x\(m) V \(v) rank \(rank)")
                let tail = actions.suffix(rank).allSatisfy { if case .backwardWeight = $0 { true } else { false } }
                #expect(tail, "\(n)x\(m) V \(v) rank \(rank): the held-back W last")
                #expect(s.stagesHeld(by: rank) == (0..<v).map { $0 * n + rank })
            }
        }
    }

    /// The interleaved kinds share V and M's rules; the JSON form keeps V.
    @Test func takesTheInterleavedRules() throws {
        #expect(try Schedule.generate(kind: .interleavedZB, ranks: 4, microBatches: 8, stagesPerRank: 5).stages == 20)
        #expect(throws: ScheduleError.self) { try ScheduleConfiguration(kind: .interleavedZB, ranks: 4, microBatches: 8, stagesPerRank: 1) }
        #expect(throws: ScheduleError.microBatchesNotInGroups(kind: .interleavedZB, microBatches: 9, ranks: 4)) {
            try ScheduleConfiguration(kind: .interleavedZB, ranks: 4, microBatches: 9)
        }
        let s = try Schedule.generate(kind: .interleavedZB, ranks: 3, microBatches: 6, stagesPerRank: 3)
        #expect(try Schedule(json: s.json()) == s)
        #expect(s.configuration.title == "Interleaved ZB (V = 3)")
        #expect(try ScheduleKind.named("InterleavedZB") == .interleavedZB && ScheduleKind.interleavedZB.isLooped)
    }

    /// Its warm-up is half Interleaved 1F1B's slope, so a rank sends its neighbour gradients
    /// further ahead of their use: with one message in flight a channel, 5 ranks and 10
    /// micro-batches deadlock under MPI's strict reading; two run, and the lowering picks two.
    @Test func needsDeeperChannelsFromFiveRanks() throws {
        try expectChannelDepth(Schedule.generate(kind: .interleavedZB, ranks: 5, microBatches: 10), 2)
        #expect(try Schedule.generate(kind: .interleavedZB, ranks: 4, microBatches: 8).lowered().channelDepth == 1)
    }
}
