import Testing
@testable import Schedule

/// ZB-V (the Zero Bubble paper's V schedule): its idle time at the equal costs it is built for,
/// its memory, its layout. Its order is held to PyTorch's `ScheduleZBVZeroBubble` by the golden
/// files (`GoldenTests`).
@Suite struct ZeroBubbleVTests {
    private func simulate(_ n: Int, _ m: Int, f: Double, b: Double, w: Double) throws -> Simulation {
        try Schedule.generate(kind: .zbv, ranks: n, microBatches: m)
            .simulate(Costs(forward: f, backwardInput: b, backwardWeight: w, forwardBackward: f + b + w))
    }

    /// With F = B = W the only idle time is the first forward's way down to the last rank: every
    /// rank idles (N-1)F, and the formula says so.
    @Test func equalCostsLeaveOnlyTheFirstForwardsWay() throws {
        for cost in [1.0, 3, 10] {
            for (n, m) in [(2, 4), (3, 6), (4, 8), (4, 16), (8, 16), (8, 40)] {
                let sim = try simulate(n, m, f: cost, b: cost, w: cost)
                #expect(sim.idle.allSatisfy { $0 == Double(n - 1) * cost }, "\(n)x\(m) at \(cost): idle \(sim.idle)")
                #expect(sim.bubble == BubbleFormula.readme(.zbv, stages: 2 * n, costs: sim.costs))
            }
        }
    }

    /// Other costs have no closed formula: the report says so rather than printing a number.
    @Test func unequalCostsHaveNoFormula() throws {
        let sim = try simulate(4, 8, f: 10, b: 10, w: 4)
        let formula = BubbleFormula.readme(.zbv, stages: 8, costs: sim.costs)
        #expect(formula.isNaN)
        #expect(BubbleFormula.shown(formula, .zbv) == "n/a (costs break F = B = W)")
        #expect(sim.bubble > 0 && sim.bubble < BubbleFormula.readme(.oneFOneB, stages: 8, costs: sim.costs))
    }

    /// The paper's claim: 1F1B's activation memory. 2N activations of stages half as large as
    /// 1F1B's on N ranks, on every rank, once M reaches 2N.
    @Test func activationsMatchOneFOneB() throws {
        for n in [2, 4, 8] {
            for m in [2 * n, 3 * n + 1] {
                let sim = try simulate(n, m, f: 1, b: 1, w: 1)
                #expect(sim.peakActivations == Array(repeating: 2 * n, count: n), "\(n)x\(m)")
                #expect(sim.parameterCopies == Array(repeating: 2, count: n))
            }
        }
    }

    @Test func holdsDualPipeVsStages() throws {
        let s = try Schedule.generate(kind: .zbv, ranks: 4, microBatches: 3)
        #expect((0..<4).map { s.stagesHeld(by: $0) } == [[0, 7], [1, 6], [2, 5], [3, 4]])
        #expect(s.program.allSatisfy { $0.allSatisfy { [.F, .B, .W].contains($0.op) } })
    }
}
