import Testing
@testable import Schedule

/// Interleaved 1F1B as Megatron-LM schedules it (two model chunks a rank): the order of the
/// paper's figure, its bubble, its memory, its rules.
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

    /// (N-1)(F+BW) of idle on the busiest rank for any costs: 1F1B's bubble over the stage count of
    /// a rank, on stages half as large.
    @Test func bubbleIsRanksMinusOneTimesFPlusB() throws {
        for c in [(1.0, 1.0, 1.0), (10, 10, 4), (3, 8, 1), (9, 2, 2)] {
            for (n, m) in [(2, 2), (2, 4), (3, 9), (4, 8), (4, 16), (8, 24)] {
                let costs = Costs(forward: c.0, backwardInput: c.1, backwardWeight: c.2, forwardBackward: c.0 + c.1 + c.2)
                let sim = try Schedule.generate(kind: .interleaved1F1B, ranks: n, microBatches: m).simulate(costs)
                #expect(sim.bubble == Double(n - 1) * (c.0 + c.1 + c.2), "\(n)x\(m) \(c)")
                #expect(sim.bubble == BubbleFormula.readme(.interleaved1F1B, stages: 2 * n, costs: costs))
            }
        }
    }

    /// Rank r keeps Megatron's warm-up, 2(N-r-1) + N forwards, plus the one of the first pair alive.
    @Test func activationsAreTheWarmUpPlusOne() throws {
        for n in [2, 4, 8] {
            for m in [2 * n, 3 * n] {
                let sim = try Schedule.generate(kind: .interleaved1F1B, ranks: n, microBatches: m).simulate(Costs(forward: 1, backwardInput: 1, backwardWeight: 1, forwardBackward: 3))
                #expect(sim.peakActivations == (0..<n).map { 2 * (n - $0 - 1) + n + 1 }, "N = \(n), M = \(m)")
                #expect(sim.parameterCopies == Array(repeating: 2, count: n))
            }
        }
    }

    /// Between two ranks a micro-batch passes once each lap: the second lap's messages need tags
    /// of their own.
    @Test func eachLapHasItsOwnTags() throws {
        let lowered = try Schedule.generate(kind: .interleaved1F1B, ranks: 2, microBatches: 4).lowered()
        let sends = lowered.programs[0].compactMap { if case .postSend(let t) = $0, t.payload == .activation, t.chunk.microBatch == 1 { t } else { nil } }
        #expect(sends.map(\.chunk.stage) == [1, 3])
        #expect(sends.map(\.tag) == [2, 2 * (4 + 1)])
    }

    @Test func microBatchesComeInGroupsOfTheRanks() throws {
        #expect(throws: ScheduleError.microBatchesNotInGroups(kind: .interleaved1F1B, microBatches: 5, ranks: 2)) {
            try ScheduleConfiguration(kind: .interleaved1F1B, ranks: 2, microBatches: 5)
        }
        let message = "\(ScheduleError.microBatchesNotInGroups(kind: .interleaved1F1B, microBatches: 7, ranks: 3))"
        #expect(message == "Interleaved 1F1B needs the micro-batches in groups of the ranks (M a multiple of N), got M = 7 with N = 3: e.g. M = 6 or 9")
        #expect("\(ScheduleError.microBatchesNotInGroups(kind: .interleaved1F1B, microBatches: 2, ranks: 3))".hasSuffix("e.g. M = 3"))
        let few = try #require(throws: ScheduleError.self) { try ScheduleConfiguration(kind: .interleaved1F1B, ranks: 4, microBatches: 2) }
        #expect("\(few)".contains("M >= N") && "\(few)".contains("minimum 4"))
        #expect(try ScheduleKind.named("Interleaved1F1B") == .interleaved1F1B)
    }
}
