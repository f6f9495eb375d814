import Testing
@testable import Schedule

/// Interleaved 1F1B as Megatron-LM schedules it (V model chunks a rank, 2 unless chosen): the
/// order of the paper's figure, its bubble, its memory, its rules.
@Suite struct Interleaved1F1BTests {
    private func tokens(_ schedule: Schedule, rank: Int) -> String {
        schedule.text().split(separator: "\n")[rank + 1].split(separator: "|")[1].trimmingCharacters(in: .whitespaces)
    }

    /// The paper's Figure 4 (4 devices, 8 micro-batches, 2 chunks), written out by hand (ids from 0,
    /// `'` the second chunk): the first device runs the first group's forwards on both chunks and
    /// three of the next group's before its first backward; the last device starts backwards after
    /// one forward on its second chunk.
    @Test func ordersAsTheMegatronFigure() throws {
        let s = try Schedule.generate(kind: .interleaved1F1B, ranks: 4, microBatches: 8)
        #expect(tokens(s, rank: 0) == "F0 F1 F2 F3 F0' F1' F2' F3' F4 F5 F6 BW0' F7 BW1' F4' BW2' F5' BW3' F6' BW0 F7' BW1 BW2 BW3 BW4' BW5' BW6' BW7' BW4 BW5 BW6 BW7")
        #expect(tokens(s, rank: 3) == "F0 F1 F2 F3 F0' BW0' F1' BW1' F2' BW2' F3' BW3' F4 BW0 F5 BW1 F6 BW2 F7 BW3 F4' BW4' F5' BW5' F6' BW6' F7' BW7' BW4 BW5 BW6 BW7")
        #expect(s.stagesHeld(by: 1) == [1, 5])
    }

    /// One group (M = N): every forward before any backward, as Megatron does.
    @Test func oneGroupWarmsUpFully() throws {
        let s = try Schedule.generate(kind: .interleaved1F1B, ranks: 2, microBatches: 2)
        #expect(tokens(s, rank: 1) == "F0 F1 F0' F1' BW0' BW1' BW0 BW1")
    }

    /// (N-1)(F+BW) of idle on the busiest rank for any costs and any V: 1F1B's bubble over the
    /// stage count of a rank, on stages a V-th as large.
    @Test(arguments: [2, 3, 4])
    func bubbleIsRanksMinusOneTimesFPlusB(v: Int) throws {
        for c in [(1.0, 1.0, 1.0), (10, 10, 4), (3, 8, 1), (9, 2, 2)] {
            for (n, m) in [(2, 2), (2, 4), (3, 9), (4, 8), (4, 16), (8, 24)] {
                let costs = Costs(forward: c.0, backwardInput: c.1, backwardWeight: c.2, forwardBackward: c.0 + c.1 + c.2)
                let sim = try Schedule.generate(kind: .interleaved1F1B, ranks: n, microBatches: m, stagesPerRank: v).simulate(costs)
                #expect(sim.bubble == Double(n - 1) * (c.0 + c.1 + c.2), "V \(v) \(n)x\(m) \(c)")
                #expect(sim.bubble == BubbleFormula.readme(.interleaved1F1B, stages: v * n, stagesPerRank: v, costs: costs))
            }
        }
    }

    /// Rank r keeps Megatron's warm-up, 2(N-r-1) + (V-1)N forwards, plus the one of the first pair
    /// alive; it holds V stages.
    @Test(arguments: [2, 3, 5])
    func activationsAreTheWarmUpPlusOne(v: Int) throws {
        for n in [2, 4, 8] {
            for m in [2 * n, 3 * n] {
                let sim = try Schedule.generate(kind: .interleaved1F1B, ranks: n, microBatches: m, stagesPerRank: v)
                    .simulate(Costs(forward: 1, backwardInput: 1, backwardWeight: 1, forwardBackward: 3))
                #expect(sim.peakActivations == (0..<n).map { 2 * (n - $0 - 1) + (v - 1) * n + 1 }, "V = \(v), N = \(n), M = \(m)")
                #expect(sim.parameterCopies == Array(repeating: v, count: n))
            }
        }
    }

    /// Three chunks a rank: stage s on rank s mod N, every forward first at M = N, a `'` for each lap.
    @Test func threeChunksLoopThreeTimes() throws {
        let s = try Schedule.generate(kind: .interleaved1F1B, ranks: 2, microBatches: 2, stagesPerRank: 3)
        #expect(s.stages == 6 && s.stagesHeld(by: 1) == [1, 3, 5])
        #expect(tokens(s, rank: 0) == "F0 F1 F0' F1' F0'' F1'' BW0'' BW1'' BW0' BW1' BW0 BW1")
    }

    /// Between two ranks a micro-batch passes once each lap: the second lap's messages need tags
    /// of their own.
    @Test func eachLapHasItsOwnTags() throws {
        let lowered = try Schedule.generate(kind: .interleaved1F1B, ranks: 2, microBatches: 4).lowered()
        let sends = lowered.programs[0].compactMap { if case .postSend(let t) = $0, t.payload == .activation, t.chunk.microBatch == 1 { t } else { nil } }
        #expect(sends.map(\.chunk.stage) == [1, 3])
        #expect(sends.map(\.tag) == [2, 2 * (4 + 1)])
        let three = try Schedule.generate(kind: .interleaved1F1B, ranks: 2, microBatches: 4, stagesPerRank: 3).lowered()
        let laps = three.programs[0].compactMap { if case .postSend(let t) = $0, t.payload == .activation, t.chunk.microBatch == 1 { t } else { nil } }
        #expect(laps.map(\.chunk.stage) == [1, 3, 5])
        #expect(laps.map(\.tag) == [2, 2 * (4 + 1), 2 * (2 * 4 + 1)])
    }

    /// V is Interleaved 1F1B's to choose, from 2 to the limit; the other kinds' is fixed.
    @Test func stagesPerRankRules() throws {
        let one = try #require(throws: ScheduleError.self) { try ScheduleConfiguration(kind: .interleaved1F1B, ranks: 2, microBatches: 4, stagesPerRank: 1) }
        #expect("\(one)" == "Interleaved 1F1B needs at least 2 stages a rank (V >= 2; with one it is 1F1B), got V = 1")
        let v = try #require(throws: ScheduleError.self) { try ScheduleConfiguration(kind: .dualpipev, ranks: 2, microBatches: 4, stagesPerRank: 3) }
        #expect("\(v)" == "DualPipeV needs 2 stages a rank (V = 2; only Interleaved 1F1B, Interleaved ZB and Looped BFS take another V), got V = 3")
        let plain = try #require(throws: ScheduleError.self) { try ScheduleConfiguration(kind: .oneFOneB, ranks: 2, microBatches: 4, stagesPerRank: 2) }
        #expect("\(plain)".hasPrefix("1F1B needs 1 stage a rank (V = 1;"))
        let limit = ScheduleConfiguration.maximumStagesPerRank
        #expect(throws: ScheduleError.tooLarge(kind: .interleaved1F1B, "V = \(limit + 1) stages a rank exceeds the limit of \(limit)")) {
            try ScheduleConfiguration(kind: .interleaved1F1B, ranks: 2, microBatches: 4, stagesPerRank: limit + 1)
        }
        #expect(try ScheduleConfiguration(kind: .interleaved1F1B, ranks: 2, microBatches: 4, stagesPerRank: limit).stages == 2 * limit)
        #expect(try ScheduleConfiguration(kind: .zbv, ranks: 2, microBatches: 4, stagesPerRank: 2).stagesPerRank == 2)
        #expect(try ScheduleConfiguration(kind: .interleaved1F1B, ranks: 2, microBatches: 4).stagesPerRank == 2)
    }

    /// The JSON form keeps V in its stage count.
    @Test func jsonKeepsTheStagesPerRank() throws {
        let s = try Schedule.generate(kind: .interleaved1F1B, ranks: 3, microBatches: 6, stagesPerRank: 4)
        let back = try Schedule(json: s.json())
        #expect(back == s && back.stagesPerRank == 4)
        #expect(throws: ScheduleError.self) { try Schedule(json: #"{"kind":"interleaved1f1b","ranks":2,"stages":5,"microbatches":4,"program":[]}"#) }
    }

    /// M in PyTorch's max(1, M / N) rounds of equal groups: any M below 2N (one group, fewer than
    /// N too), every multiple of N, and M = 10 on 4 ranks (two groups of 5); not M = 9 or 14.
    @Test func microBatchesComeInRoundsOfEqualGroups() throws {
        #expect(throws: ScheduleError.microBatchesNotInGroups(kind: .interleaved1F1B, microBatches: 5, ranks: 2)) {
            try ScheduleConfiguration(kind: .interleaved1F1B, ranks: 2, microBatches: 5)
        }
        let message = "\(ScheduleError.microBatchesNotInGroups(kind: .interleaved1F1B, microBatches: 14, ranks: 4))"
        #expect(message == "Interleaved 1F1B needs M in max(1, M / N) rounds of equal groups (M a multiple of the rounds), got M = 14 with N = 4: 3 rounds do not divide it; e.g. M = 12 or 15")
        for m in [1, 2, 3, 5, 6, 7, 8, 10, 12, 15, 16, 20] {
            #expect((try? ScheduleConfiguration(kind: .interleaved1F1B, ranks: 4, microBatches: m)) != nil, "N = 4, M = \(m)")
        }
        for m in [9, 11, 13, 14, 17, 18, 19] {
            #expect(throws: ScheduleError.microBatchesNotInGroups(kind: .interleaved1F1B, microBatches: m, ranks: 4)) {
                try ScheduleConfiguration(kind: .interleaved1F1B, ranks: 4, microBatches: m)
            }
        }
        #expect(Interleaved1F1BGenerator.groupSize(ranks: 4, microBatches: 10) == 5)
        #expect(Interleaved1F1BGenerator.groupSize(ranks: 4, microBatches: 6) == 6)
        #expect(Interleaved1F1BGenerator.groupSize(ranks: 4, microBatches: 12) == 4)
        #expect(try ScheduleKind.named("Interleaved1F1B") == .interleaved1F1B)
    }

    /// PyTorch's groups of more than N deadlock with one message in flight per channel under MPI's
    /// strict reading: for N = 5, M = 14 (two groups of 7) every rank ends up waiting. Two in
    /// flight run it, and the lowering picks that depth by itself; the other kinds keep one.
    @Test func largerGroupsRunOnDeeperChannels() throws {
        try expectChannelDepth(Schedule.generate(kind: .interleaved1F1B, ranks: 5, microBatches: 14), 2)
        // Nine ranks in two groups of 13 need three.
        try expectChannelDepth(Schedule.generate(kind: .interleaved1F1B, ranks: 9, microBatches: 26), 3)
        // Groups of N: one message a channel, as before.
        #expect(try Schedule.generate(kind: .interleaved1F1B, ranks: 5, microBatches: 10).lowered().channelDepth == 1)
    }
}
