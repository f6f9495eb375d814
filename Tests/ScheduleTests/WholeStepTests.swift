import Testing
@testable import Schedule

@Suite struct WholeStepTests {
    let costs = Costs(forward: 1, backwardInput: 1.5, backwardWeight: 0.5, forwardBackward: 2.5, latency: 0.2)

    /// On one node every sum runs after the schedule: a DualPipe rank and its mirror (pp and
    /// PP-1-pp) hold the same two stages, so each pair ends two sums after the later of the two.
    @Test(arguments: [2, 4, 6, 8])
    func onOneNodeEachMirrorPairSumsItsTwoStagesAfterTheSchedule(ranks: Int) throws {
        let simulation = try Schedule.generate(kind: .dualpipe, ranks: ranks, microBatches: 2 * ranks).simulate(costs)
        let whole = simulation.wholeStep(GradientSumCosts(inside: 3))
        #expect(whole.sums.map(\.stage) == Array(0..<ranks))
        #expect(whole.sums.allSatisfy { !$0.early && $0.end == $0.start + 3 && $0.ranks == [min($0.stage, ranks - 1 - $0.stage), max($0.stage, ranks - 1 - $0.stage)] })
        for r in 0..<ranks {
            let pairEnd = max(simulation.timeline[r].last!.end, simulation.timeline[ranks - 1 - r].last!.end)
            #expect(whole.end[r] == pairEnd + 6, "rank \(r)")
        }
        #expect(whole.makespan == simulation.makespan + 6)
    }

    /// One copy of each stage: nothing to sum, whatever a sum would cost.
    @Test(arguments: [ScheduleKind.oneFOneB, .zb1p, .gpipe, .dualpipev, .zbv, .interleaved1F1B])
    func aKindWithOneCopyOfEachStageHasNoSums(kind: ScheduleKind) throws {
        let simulation = try Schedule.generate(kind: kind, ranks: 4, microBatches: 8).simulate(costs)
        let whole = simulation.wholeStep(GradientSumCosts(inside: 5, between: 50))
        #expect(whole.sums.isEmpty)
        #expect(whole.end == simulation.timeline.map { $0.last!.end })
    }

    /// Across nodes a stage final on both ranks before their last action is summed during the
    /// schedule, from the later of the two last touches; with sums dear between nodes, DualPipe's
    /// mirror order (each pair on one node) ends its step sooner than the pipeline order, whose
    /// pairs span the nodes, though the pipeline order crosses fewer pipeline hops.
    @Test func acrossNodesTheMirrorOrderKeepsTheSumsOffTheNetwork() throws {
        let schedule = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8)
        let sums = GradientSumCosts(inside: 0.5, between: 20)
        let pipeline = try schedule.simulate(costs, placement: NodePlacement(ranksPerNode: 2, worldRanks: [0, 1, 2, 3], latency: 1))
        let mirror = try schedule.simulate(costs, placement: NodePlacement(ranksPerNode: 2, worldRanks: [0, 2, 3, 1], latency: 1))
        let (acrossWhole, insideWhole) = (pipeline.wholeStep(sums), mirror.wholeStep(sums))
        #expect(insideWhole.sums.allSatisfy { !$0.early })
        #expect(insideWhole.makespan < acrossWhole.makespan)
        // The stage a rank ends with is left until after the schedule: at least one sum across the link.
        #expect(acrossWhole.makespan >= pipeline.makespan + 20)
        let early = acrossWhole.sums.filter(\.early)
        #expect(!early.isEmpty)
        for sum in early {
            let lastTouches = sum.ranks.map { r in pipeline.timeline[r].last { $0.action.chunks.contains { $0.stage == sum.stage } }!.end }
            #expect(sum.start == lastTouches.max()! && sum.end == sum.start + 20, "stage \(sum.stage)")
            #expect(sum.ranks.allSatisfy { r in pipeline.timeline[r].last!.end > sum.start }, "stage \(sum.stage) is early though a rank ends with it")
        }
        // Two sums between the same ranks take turns on their link: the late one after the early.
        for late in acrossWhole.sums where !late.early {
            let before = early.filter { $0.ranks == late.ranks }
            #expect(before.count == 1, "stage \(late.stage): the pair's other stage should have been summed early")
            #expect(before.allSatisfy { late.start >= $0.end } && late.end == late.start + 20, "stage \(late.stage)")
        }
    }

    /// The picture draws each sum on each rank summing it: a grey box after the actions, or a bar
    /// beneath the row while the actions run; without sums nothing grey is drawn.
    @Test func thePictureDrawsTheSums() throws {
        let schedule = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8)
        var simulation = try schedule.simulate(costs, placement: NodePlacement(ranksPerNode: 2, worldRanks: [0, 1, 2, 3], latency: 1))
        let grey = { (svg: String) in svg.split(separator: "\n").filter { $0.contains("#c4c4c4") } }
        #expect(grey(simulation.svg()).isEmpty)
        simulation.gradientSums = GradientSumCosts(inside: 0.5, between: 20)
        let whole = try #require(simulation.wholeStep)
        let spans = whole.spans(ranks: 4)
        #expect(spans.map(\.count) == [2, 2, 2, 2])
        #expect(spans.joined().filter(\.alongside).count == 2 * whole.sums.filter(\.early).count)
        let svg = simulation.svg()
        let lines = grey(svg)
        // Every span, and the legend's box.
        #expect(lines.count == 8 + 1)
        #expect(lines.filter { $0.contains(#"height="4""#) }.count == spans.joined().filter(\.alongside).count)
        #expect(svg.contains("whole step \(fmt(whole.makespan)) with the gradient sums"))
    }

    @Test func costsAreCheckedByRule() {
        #expect(throws: ScheduleError.self) { try GradientSumCosts(inside: -1).validate() }
        #expect(throws: ScheduleError.self) { try GradientSumCosts(inside: 1, between: .nan).validate() }
        #expect(throws: Never.self) { try GradientSumCosts(inside: 0, between: 4).validate() }
    }
}
