import Testing
@testable import Schedule

/// The DualPipe README table, measured by the simulator with zero communication cost.
/// Bubble = the largest idle time of any rank (makespan minus the rank's busy time).
@Suite struct FormulaTests {
    // (F, B, W, FB): W <= B, and FB between max(F, BW) and F + BW.
    static let costSets: [(Double, Double, Double, Double)] = [
        (1, 1, 1, 3), (10, 10, 4, 17), (7, 7, 2, 12), (5, 5, 5, 15), (12, 12, 3, 20),
    ]

    private func simulate(_ kind: ScheduleKind, _ n: Int, _ m: Int, _ c: (Double, Double, Double, Double)) throws -> Simulation {
        try Schedule.generate(kind: kind, ranks: n, microBatches: m)
            .simulate(Costs(forward: c.0, backwardInput: c.1, backwardWeight: c.2, forwardBackward: c.3))
    }

    @Test func oneFOneBAndGPipeBubbleIsPPMinusOneTimesFPlusB() throws {
        // Any costs: the formula holds for every rank, not only the worst.
        for c in Self.costSets + [(3, 8, 1, 9), (9, 2, 2, 10)] {
            for (n, m) in [(2, 3), (4, 8), (8, 20), (5, 11), (8, 3)] {
                for kind in [ScheduleKind.oneFOneB, .gpipe] {
                    let sim = try simulate(kind, n, m, c)
                    let bw = c.1 + c.2
                    #expect(sim.idle.allSatisfy { $0 == Double(n - 1) * (c.0 + bw) }, "\(kind) \(n)x\(m) \(c)")
                }
            }
        }
    }

    @Test func zb1pBubbleIsPPMinusOneTimesFPlusBMinusTwoW() throws {
        for c in Self.costSets + [(3, 8, 1, 9), (9, 4, 2, 10)] {
            for (n, m) in [(2, 2), (4, 8), (8, 20), (5, 11)] {
                let sim = try simulate(.zb1p, n, m, c)
                let bw = c.1 + c.2
                #expect(sim.idle.allSatisfy { $0 == Double(n - 1) * (c.0 + bw - 2 * c.2) }, "\(n)x\(m) \(c)")
                #expect(sim.bubble == BubbleFormula.readme(.zb1p, stages: n, costs: sim.costs))
            }
        }
    }

    @Test func dualPipeBubbleIsHalfPPMinusOneTimesFBPlusBMinusThreeW() throws {
        // The README's DualPipe formula holds when F = B, the setting of its figure.
        for c in Self.costSets {
            for (n, m) in [(2, 4), (4, 8), (6, 18), (8, 20), (8, 40), (10, 24)] {
                let sim = try simulate(.dualpipe, n, m, c)
                let bw = c.1 + c.2
                #expect(sim.bubble == (Double(n) / 2 - 1) * (c.3 + bw - 3 * c.2), "\(n)x\(m) \(c)")
            }
            for (n, m) in [(1, 2), (2, 4), (3, 9), (4, 20), (5, 10)] {   // PP = 2N stages
                let sim = try simulate(.dualpipev, n, m, c)
                let bw = c.1 + c.2
                #expect(sim.bubble == (Double(2 * n) / 2 - 1) * (c.3 + bw - 3 * c.2), "V \(n)x\(m) \(c)")
            }
        }
    }

    @Test func activationsPerRankArePPPPandPPPlusOne() throws {
        for n in [2, 4, 6, 8, 16] {
            let m = 3 * n
            #expect(try simulate(.oneFOneB, n, m, (1, 1, 1, 3)).peakActivations.max() == n)
            #expect(try simulate(.zb1p, n, m, (1, 1, 1, 3)).peakActivations.max() == n)
            #expect(try simulate(.dualpipe, n, 2 * m, (1, 1, 1, 3)).peakActivations.max() == n + 1)
            #expect(try simulate(.dualpipev, n / 2, 2 * m, (1, 1, 1, 3)).peakActivations.max() == n + 1)
            // 1F1B's first stage holds the most; the last holds one.
            #expect(try simulate(.oneFOneB, n, m, (1, 1, 1, 3)).peakActivations == (0..<n).map { n - $0 })
        }
    }

    @Test func parametersAreOneOrTwoStagesPerRank() throws {
        #expect(try simulate(.oneFOneB, 4, 8, (1, 1, 1, 3)).parameterCopies == [1, 1, 1, 1])
        #expect(try simulate(.zb1p, 4, 8, (1, 1, 1, 3)).parameterCopies == [1, 1, 1, 1])
        #expect(try simulate(.dualpipe, 4, 8, (1, 1, 1, 3)).parameterCopies == [2, 2, 2, 2])
        #expect(try simulate(.dualpipev, 2, 4, (1, 1, 1, 3)).parameterCopies == [2, 2])
        let dual = try Schedule.generate(kind: .dualpipe, ranks: 6, microBatches: 12)
        #expect(dual.stagesHeld(by: 1) == [1, 4])
    }
}
