import Testing
@testable import Schedule

@Suite struct NodePlacementTests {
    /// 1F1B on 4 ranks, one micro-batch: six hops (three forward, three back). In pipeline order on
    /// nodes of 2 only the hops between ranks 1 and 2 cross; with pipeline ranks 0 and 3 on one node
    /// (DualPipe's mirror order, imposed here on 1F1B's chain) four of the six cross.
    @Test func onlyTheHopsBetweenNodesPayTheirLatency() throws {
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 4, microBatches: 1)
        let inside = Costs(forward: 1, backwardInput: 1, backwardWeight: 1, latency: 0.5)
        // Compute: 4 F + 4 BW = 12.
        let pipeline = NodePlacement(ranksPerNode: 2, worldRanks: [0, 1, 2, 3], latency: 3)
        #expect(try s.simulate(inside, placement: pipeline).makespan == 12 + 4 * 0.5 + 2 * 3)
        let mirror = NodePlacement(ranksPerNode: 2, worldRanks: [0, 2, 3, 1], latency: 3)
        #expect(mirror.nodes == [[0, 3], [1, 2]])
        #expect(try s.simulate(inside, placement: mirror).makespan == 12 + 2 * 0.5 + 4 * 3)
        // A node as large as the pipeline: every hop inside, as without a placement.
        let one = NodePlacement(ranksPerNode: 4, worldRanks: [0, 1, 2, 3], latency: 3)
        #expect(try s.simulate(inside, placement: one).makespan == s.simulate(inside).makespan)
    }

    @Test func linksTakeEachSideOfANodeBoundaryItsOwnCosts() {
        let placement = NodePlacement(ranksPerNode: 2, worldRanks: [0, 2, 3, 1], latency: 4, transfer: 1.5)
        let links = placement.links(inside: Costs(latency: 0.25, transfer: 0.1))
        #expect(links.latency(from: 0, to: 3) == 0.25 && links.transfer(from: 3, to: 0) == 0.1)
        #expect(links.latency(from: 1, to: 2) == 0.25)
        #expect(links.latency(from: 0, to: 1) == 4 && links.transfer(from: 2, to: 3) == 1.5)
        #expect(placement.node(of: 3) == 0 && placement.node(of: 2) == 1)
        #expect(placement.nodesSummary == "0,3 | 1,2")
    }

    /// The same cost across nodes as inside them: every action at the same time as without nodes,
    /// for DualPipe's interleaved pairs and a busy link too.
    @Test func nodesCostingTheSameChangeNothing() throws {
        let s = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8)
        let costs = Costs(forward: 1, backwardInput: 1.5, backwardWeight: 0.5, forwardBackward: 2.5, latency: 0.2, transfer: 0.3)
        let placement = NodePlacement(ranksPerNode: 2, worldRanks: [0, 2, 3, 1], latency: 0.2, transfer: 0.3)
        for pairs in [PairTiming.atomic, .interleaved(lateGradient: true)] {
            let plain = try s.simulate(costs, pairs: pairs)
            let placed = try s.simulate(costs, pairs: pairs, placement: placement)
            #expect(placed.timeline.map { $0.map(\.start) } == plain.timeline.map { $0.map(\.start) })
            #expect(placed.placement == placement && plain.placement == nil)
        }
    }

    @Test func aPlacementIsCheckedAgainstTheSchedule() throws {
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 3, microBatches: 3)
        #expect(throws: ScheduleError.invalidCosts("ranks per node = 0: a node holds at least 1 rank")) {
            try s.simulate(Costs(), placement: NodePlacement(ranksPerNode: 0, worldRanks: [0, 1, 2], latency: 1))
        }
        #expect(throws: ScheduleError.invalidCosts("world ranks [0, 2, 2]: the schedule's 3 ranks need each of 0..<3 once")) {
            try s.simulate(Costs(), placement: NodePlacement(ranksPerNode: 2, worldRanks: [0, 2, 2], latency: 1))
        }
        #expect(throws: ScheduleError.invalidCosts("world ranks [0, 1]: the schedule's 3 ranks need each of 0..<3 once")) {
            try s.simulate(Costs(), placement: NodePlacement(ranksPerNode: 2, worldRanks: [0, 1], latency: 1))
        }
        #expect(throws: ScheduleError.invalidCosts("latency between nodes = -1.0: every cost must be a finite number >= 0")) {
            try s.simulate(Costs(), placement: NodePlacement(ranksPerNode: 2, worldRanks: [0, 1, 2], latency: -1))
        }
        #expect(throws: ScheduleError.invalidCosts("transfer between nodes = inf: every cost must be a finite number >= 0")) {
            try s.simulate(Costs(), placement: NodePlacement(ranksPerNode: 2, worldRanks: [0, 1, 2], latency: 1, transfer: .infinity))
        }
    }

    /// Each kind of a comparison sits on its own ranks' nodes, and the reports say where.
    @Test func aComparisonPlacesEachKindOnItsOwnRanks() throws {
        let costs = Costs(forward: 1, backwardInput: 1, backwardWeight: 1)
        let comparison = Comparison(stages: 4, microBatches: 8, costs: costs) { schedule in
            NodePlacement(ranksPerNode: 2, worldRanks: Array(0..<schedule.ranks), latency: 5)
        }
        let unplaced = Comparison(stages: 4, microBatches: 8, costs: costs)
        for (row, plain) in zip(comparison.rows, unplaced.rows) {
            let sim = try #require(row.simulation)
            #expect(sim.placement?.worldRanks.count == row.ranks)
            let baseline = try #require(plain.simulation).makespan
            // Two ranks fit on one node; on four, the hops between ranks 1 and 2 cost 5 each.
            if row.ranks == 2 { #expect(sim.makespan == baseline, "\(row.kind)") } else { #expect(sim.makespan > baseline, "\(row.kind)") }
        }
        let report = comparison.report()
        #expect(report.contains("nodes: 2 ranks a node; between nodes latency=5"))
        #expect(report.contains("0,1 | 2,3"))
        #expect(!unplaced.report().contains("nodes"))
        #expect(comparison.reportJSON().contains(#""nodes":{"ranksPerNode":2,"latency":5,"transfer":0}"#))
        let single = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8)
            .simulate(costs, placement: NodePlacement(ranksPerNode: 2, worldRanks: [0, 2, 3, 1], latency: 5))
        #expect(single.report().contains("nodes: 0,3 | 1,2 (pipeline ranks)"))
        #expect(single.reportJSON().contains(#""nodes":{"ranksPerNode":2,"latency":5,"transfer":0,"nodes":[[0,3],[1,2]]}"#))
    }
}
