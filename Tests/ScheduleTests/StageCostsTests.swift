import Testing
@testable import Schedule

@Suite struct StageCostsTests {
    /// Per-stage means keep a costly last stage on its own rank: 1F1B on 2 ranks, where stage 1's
    /// F and BW take three times stage 0's, is predicted exactly, where one mean per kind is not.
    @Test func aCostlyLastStageIsPredictedWhereOneMeanPerKindIsNot() throws {
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 4)
        func truth(_ action: Action) -> Double {
            let base: Double = action.op == .F ? 1 : 2
            return action.chunks[0].stage == 1 ? 3 * base : base
        }
        var durations: [Action: Double] = [:]
        var byOp: [Action.Op: [Double]] = [:]
        for action in s.program.joined() {
            durations[action] = truth(action)
            byOp[action.op, default: []].append(truth(action))
        }
        let exact = try s.replay(latency: 0.25, duration: truth).makespan
        #expect(try s.simulate(StageCosts(durations, of: s), latency: 0.25).makespan == exact)
        var kindMeans = Costs(measured: byOp)
        kindMeans.latency = 0.25
        #expect(try s.simulate(kindMeans).makespan != exact)
    }

    /// With a link and nodes: a replay of the same durations on the same placement, and the
    /// report's costs each kind's mean with the link's latency.
    @Test func theLinkAndTheNodesPriceTheMessages() throws {
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 4, microBatches: 6)
        let truth = { (action: Action) -> Double in (action.op == .F ? 1 : 2) * Double(1 + action.chunks[0].stage) }
        let durations = Dictionary(uniqueKeysWithValues: s.program.joined().map { ($0, truth($0)) })
        let link = Costs(latency: 0.5, transfer: 0)
        let placement = NodePlacement(ranksPerNode: 2, worldRanks: [0, 1, 2, 3], latency: 3)
        let simulated = try s.simulate(StageCosts(durations, of: s), link: link, placement: placement)
        let replayed = try s.replay(links: placement.links(inside: link), duration: truth)
        #expect(simulated.makespan == replayed.makespan)
        #expect(simulated.placement == placement && simulated.costs.latency == 0.5)
        // The report says its costs are only the legend, and a plain simulation does not.
        #expect(simulated.costsPerStage && simulated.reportJSON().contains(#""costsPerStage":true"#))
        #expect(simulated.report().contains("every action costed at its own stage's and rank's"))
        let plain = try s.simulate(link)
        #expect(!plain.costsPerStage && plain.reportJSON().contains(#""costsPerStage":false"#))
        #expect(simulated.makespan > (try s.simulate(StageCosts(durations, of: s), link: link)).makespan)
    }

    /// Micro-batches of one (rank, kind, stage) are averaged; a (rank, kind, stage) that never ran
    /// costs its kind's mean; a kind that never ran costs what the others imply.
    /// Kinds' means from a trace can break the simulator's rules (a BW averaged over cheap stages
    /// below a B that includes the head's): lifted, BW reaches max(B, W) and then FB max(F, BW),
    /// each named; costs within the rules come back unchanged.
    @Test func measuredMeansAreLiftedToTheRules() throws {
        let below = Costs(measured: [.F: [2, 4], .B: [3, 5], .W: [1], .BW: [2, 2], .FB: [3]])
        #expect(throws: ScheduleError.self) { try below.validate() }
        let (lifted, raised) = below.liftedToItsRules()
        #expect(lifted.backward == 4 && lifted.forwardBackward == 4)
        #expect(lifted.forward == 3 && lifted.backwardInput == 4 && lifted.backwardWeight == 1)
        #expect(raised == ["BW 2.0 -> 4.0", "FB 3.0 -> 4.0"])
        try lifted.validate()
        let within = Costs(forward: 1, backwardInput: 1, backwardWeight: 1, backward: 1.5, forwardBackward: 2.5)
        #expect(within.liftedToItsRules().costs == within && within.liftedToItsRules().raised.isEmpty)
    }

    /// A flag over a trace's costs moves the kinds built from it: the CI run that found this had
    /// a trace's B 0.16, W 0.04, BW 0.2, FB 0.32 and `--cost-w 0.2`, which made BW = 0.36 but left
    /// FB at 0.32, and the simulator refused the FB no flag had given.
    @Test func aGivenKindMovesTheKindsBuiltFromIt() throws {
        let trace = Costs(forward: 0.13, backwardInput: 0.16, backwardWeight: 0.04, backward: 0.2, forwardBackward: 0.32)
        let (heavierW, moved) = trace.overridden(forward: nil, backwardInput: nil, backwardWeight: 0.2, backward: nil, forwardBackward: nil)
        #expect(moved == ["BW 0.2 -> 0.36", "FB 0.32 -> 0.48"])
        #expect(abs(heavierW.backward - 0.36) < 1e-12)
        #expect(abs(heavierW.forwardBackward - 0.48) < 1e-12)   // the trace's saving F + BW - FB = 0.01 kept
        try heavierW.validate()
        let fasterF = trace.overridden(forward: 0.01, backwardInput: nil, backwardWeight: nil, backward: nil, forwardBackward: nil).costs
        #expect(fasterF.backward == 0.2 && abs(fasterF.forwardBackward - 0.2) < 1e-12)  // 0.32 - 0.12, max(F, BW)
        let muchFasterBW = trace.overridden(forward: nil, backwardInput: 0.05, backwardWeight: 0.01, backward: 0.06, forwardBackward: nil).costs
        #expect(abs(muchFasterBW.forwardBackward - 0.18) < 1e-12)
        let saving = Costs(forward: 1, backwardInput: 1, backwardWeight: 1, backward: 2, forwardBackward: 2.2)
        #expect(saving.overridden(forward: 0.1, backwardInput: nil, backwardWeight: nil, backward: nil, forwardBackward: nil)
            .costs.forwardBackward == 2)   // 2.2 - 0.9 = 1.3 lies below BW: floored at max(F, BW)
        let given = trace.overridden(forward: nil, backwardInput: nil, backwardWeight: 0.2, backward: nil, forwardBackward: 0.3).costs
        #expect(given.forwardBackward == 0.3)
        #expect(throws: ScheduleError.self) { try given.validate() }   // a flag is judged as given
        let unchanged = trace.overridden(forward: nil, backwardInput: nil, backwardWeight: nil, backward: nil, forwardBackward: nil)
        #expect(unchanged.costs == trace && unchanged.moved.isEmpty)
    }

    @Test func meansFallBackFromStageToKindToImplied() throws {
        let f0 = Action.forward(Chunk(stage: 0, microBatch: 0)), f1 = Action.forward(Chunk(stage: 0, microBatch: 1))
        let f2 = Action.forward(Chunk(stage: 2, microBatch: 0))
        let bw = Action.backward(Chunk(stage: 0, microBatch: 0))
        let costs = StageCosts([f0: 1, f1: 3, f2: 8, bw: 6], of: try Schedule.generate(kind: .gpipe, ranks: 3, microBatches: 3))
        #expect(costs.cost(of: .forward(Chunk(stage: 0, microBatch: 2))) == 2)
        #expect(costs.cost(of: .forward(Chunk(stage: 1, microBatch: 0))) == 4)      // (1 + 3 + 8) / 3
        #expect(costs.cost(of: .backwardInput(Chunk(stage: 0, microBatch: 0))) == 3) // half of BW
        let fb = Action.forwardBackward(forward: Chunk(stage: 0, microBatch: 0), backward: Chunk(stage: 1, microBatch: 0))
        #expect(costs.cost(of: fb) == 4 + 6)                                        // F + BW
    }

    /// DualPipe runs stage s on two ranks, one per direction; a slower rank is kept apart.
    @Test func dualPipesTwoCopiesOfAStageKeepTheirRanksCosts() throws {
        let s = try Schedule.generate(kind: .dualpipe, ranks: 2, microBatches: 8)
        func truth(_ action: Action) -> Double {
            let rank = s.program.firstIndex { $0.contains(action) }!
            return (rank == 1 ? 1.5 : 1) * Double(action.chunks.count)
        }
        var durations: [Action: Double] = [:]
        for action in s.program.joined() { durations[action] = truth(action) }
        #expect(try s.simulate(StageCosts(durations, of: s), latency: 0.1).makespan
                == s.replay(latency: 0.1, duration: truth).makespan)
    }
}
