import Model
import Pipeline
import Schedule
import Testing

extension ModelConfiguration {
    /// The default model with `layers` blocks.
    static func layers(_ count: Int) -> ModelConfiguration { ModelConfiguration(layers: count) }
}

@Suite struct ConfigurationTests {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test func gridMustMatchTheWorld() {
        let text = message { _ = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 4, expertParallel: 2, microBatches: 8, model: .layers(4), worldSize: 6) }
        #expect(text.contains("PP 4 x EP 2 = 8 ranks does not match the 6 ranks"))
    }

    @Test func layersThatDoNotCutSayWhatWould() {
        let text = message { _ = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 8, expertParallel: 1, microBatches: 16, model: .layers(4), worldSize: 8) }
        #expect(text.contains("4 layers cannot be cut into the 8 stages of DualPipe on PP 8"))
        #expect(text.contains("--layers 8, 16, 24"))
        let v = message { _ = try PipelineConfiguration(kind: .dualpipev, pipelineRanks: 2, expertParallel: 1, microBatches: 4, model: .layers(6), worldSize: 2) }
        #expect(v.contains("6 layers cannot be cut into the 4 stages of DualPipeV on PP 2"))
    }

    @Test func scheduleRulesNameTheFlags() {
        let text = message { _ = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 3, expertParallel: 1, microBatches: 6, model: .layers(3), worldSize: 3) }
        #expect(text.contains("DualPipe needs an even number of ranks") && text.contains("--pp 3"))
    }

    /// The grids an error names: DualPipe needs an even PP that cuts the layers evenly.
    @Test func gridsThatRun() {
        let four = ModelConfiguration.layers(4), twelve = ModelConfiguration.layers(12)
        #expect(PipelineConfiguration.grids(kind: .dualpipe, model: four, worldSize: 6).map { [$0.pp, $0.ep] } == [[2, 3]])
        #expect(PipelineConfiguration.grids(kind: .dualpipe, model: twelve, worldSize: 6).map { [$0.pp, $0.ep] } == [[6, 1], [2, 3]])
        #expect(PipelineConfiguration.grids(kind: .dualpipe, model: four, worldSize: 3).isEmpty)
        #expect(PipelineConfiguration.grids(kind: .oneFOneB, model: four, worldSize: 3).map { [$0.pp, $0.ep] } == [[1, 3]])
        #expect(PipelineConfiguration.grids(kind: .dualpipe, model: four, worldSize: 8, expertParallel: 2).map { [$0.pp, $0.ep] } == [[4, 2]])
        #expect(PipelineConfiguration.grids(kind: .dualpipe, model: four, worldSize: 8, pipelineRanks: 8).isEmpty)
    }

    @Test func defaults() {
        #expect(PipelineConfiguration.defaultExpertParallel(kind: .dualpipe, worldSize: 8) == 2)
        #expect(PipelineConfiguration.defaultExpertParallel(kind: .dualpipe, worldSize: 2) == 1)
        #expect(PipelineConfiguration.defaultExpertParallel(kind: .oneFOneB, worldSize: 6) == 2)
        // DualPipe's PP must be even: 6 ranks run PP 6 x EP 1, not PP 3 x EP 2.
        #expect(PipelineConfiguration.defaultExpertParallel(kind: .dualpipe, worldSize: 6) == 1)
        #expect(PipelineConfiguration.defaultExpertParallel(kind: .dualpipe, worldSize: 12) == 2)
        for kind in ScheduleKind.allCases {
            for world in 1...32 {
                let ep = PipelineConfiguration.defaultExpertParallel(kind: kind, worldSize: world)
                #expect(world % ep == 0 && (ep == 1 || world / ep >= 2), "\(kind) on \(world) ranks: EP \(ep)")
                if kind == .dualpipe && world % 2 == 0 { #expect((world / ep) % 2 == 0, "DualPipe on \(world) ranks: PP \(world / ep)") }
            }
        }
        #expect(PipelineConfiguration.defaultMicroBatches(kind: .dualpipe, pipelineRanks: 4) == 8)
        #expect(PipelineConfiguration.defaultMicroBatches(kind: .dualpipe, pipelineRanks: 1) == 4)
        #expect(PipelineConfiguration.defaultMicroBatches(kind: .oneFOneB, pipelineRanks: 8) == 4)
        #expect(PipelineConfiguration.defaultMicroBatches(kind: .zb1p, pipelineRanks: 8) == 8)
        // Interleaved 1F1B: groups of PP, two of them.
        #expect([1, 2, 3, 8].map { PipelineConfiguration.defaultMicroBatches(kind: .interleaved1F1B, pipelineRanks: $0) } == [4, 4, 6, 16])
        // --model mlp's floor of 20 keeps each kind's rule.
        #expect(PipelineConfiguration.defaultMicroBatches(kind: .interleaved1F1B, pipelineRanks: 3, atLeast: 20) == 21)
        #expect(PipelineConfiguration.defaultMicroBatches(kind: .dualpipe, pipelineRanks: 12, atLeast: 20) == 24)
        #expect(PipelineConfiguration.defaultMicroBatches(kind: .zbv, pipelineRanks: 3, atLeast: 20) == 20)
        for kind in ScheduleKind.allCases {
            for pp in 1...32 where kind != .dualpipe || pp % 2 == 0 {
                let m = PipelineConfiguration.defaultMicroBatches(kind: kind, pipelineRanks: pp, atLeast: 20)
                #expect(m >= 20 && (try? ScheduleConfiguration(kind: kind, ranks: pp, microBatches: m)) != nil, "\(kind) PP \(pp): M \(m)")
            }
        }
        for pp in 1...32 {
            let m = PipelineConfiguration.defaultMicroBatches(kind: .interleaved1F1B, pipelineRanks: pp)
            #expect((try? ScheduleConfiguration(kind: .interleaved1F1B, ranks: pp, microBatches: m)) != nil, "PP \(pp): default M \(m)")
        }
    }

    /// Stage ownership follows the schedule: what each rank's program touches is what it holds.
    @Test(arguments: ScheduleKind.allCases)
    func stagesHeldMatchTheSchedule(_ kind: ScheduleKind) throws {
        let c = try PipelineConfiguration(kind: kind, pipelineRanks: 4, expertParallel: 2, microBatches: 8, model: .layers(8), worldSize: 8)
        let schedule = Schedule(c.schedule)
        for pp in 0..<4 {
            #expect(c.stagesHeld(byPipelineRank: pp) == schedule.stagesHeld(by: pp))
            for stage in c.primaryStages(ofPipelineRank: pp) { #expect(c.primaryPipelineRank(of: stage) == pp) }
        }
        // Every stage has exactly one primary copy.
        let primaries = (0..<4).flatMap { c.primaryStages(ofPipelineRank: $0) }.sorted()
        #expect(primaries == Array(0..<c.schedule.stages))
    }

    @Test func gridCoordinatesPutTheEPIndexFastest() {
        let grid = GridShape(pipeline: 4, expert: 2)
        #expect(grid.worldRank(pipeline: 2, expert: 1) == 5)
        #expect(grid.coordinates(of: 5) == (2, 1))
        #expect((0..<8).map { grid.coordinates(of: $0).expert } == [0, 1, 0, 1, 0, 1, 0, 1])
    }

    @Test func theMirrorOrderPutsEachMirrorPairSideBySide() {
        for pp in [2, 4, 6, 8] {
            for ep in [1, 2, 3] {
                let grid = GridShape(pipeline: pp, expert: ep, order: .mirror)
                // A bijection between world ranks and grid cells, EP fastest.
                let cells = (0..<grid.worldSize).map { grid.coordinates(of: $0) }
                #expect(Set(cells.map { $0.pipeline * ep + $0.expert }).count == grid.worldSize)
                for rank in 0..<grid.worldSize {
                    #expect(grid.worldRank(pipeline: cells[rank].pipeline, expert: cells[rank].expert) == rank)
                    #expect(cells[rank].expert == rank % ep)
                }
                // Each block of 2 x EP consecutive ranks is one mirror pair, pp and PP-1-pp.
                for block in 0..<(pp / 2) {
                    let held = Set((0..<(2 * ep)).map { cells[block * 2 * ep + $0].pipeline })
                    #expect(held == [block, pp - 1 - block], "PP \(pp) x EP \(ep): block \(block) holds \(held)")
                }
            }
        }
        #expect((0..<4).map(GridShape(pipeline: 4, expert: 1, order: .mirror).pipelineRank(ofSlot:)) == [0, 3, 1, 2])
        #expect((0..<4).map(GridShape(pipeline: 4, expert: 1).pipelineRank(ofSlot:)) == [0, 1, 2, 3])
    }

    /// `--rank-order auto`: mirror exactly where it keeps more of DualPipe's pairs on a node.
    @Test func theAutomaticOrderKeepsMirrorPairsOnNodes() {
        func order(_ pp: Int, _ ep: Int, nodes: [Int], dualPipe: Bool = true) -> GridShape.RankOrder {
            .automatic(isDualPipe: dualPipe, pipeline: pp, expert: ep, nodeOfRank: nodes)
        }
        // One node: nothing crosses, the pipeline order stays.
        #expect(order(4, 2, nodes: [Int](repeating: 0, count: 8)) == .pipeline)
        // Two nodes of 4 (a hostfile's packing): pipeline order splits both pairs, mirror none.
        #expect(order(4, 1, nodes: [0, 0, 1, 1]) == .mirror)
        #expect(order(4, 2, nodes: [0, 0, 0, 0, 1, 1, 1, 1]) == .mirror)
        #expect(GridShape(pipeline: 4, expert: 2).mirrorPairsAcrossNodes(nodeOfRank: [0, 0, 0, 0, 1, 1, 1, 1]).map { [$0.0, $0.1] } == [[0, 3], [1, 2]])
        #expect(GridShape(pipeline: 4, expert: 2, order: .mirror).mirrorPairsAcrossNodes(nodeOfRank: [0, 0, 0, 0, 1, 1, 1, 1]).isEmpty)
        // At PP 2 the pair is the whole pipeline: no order helps.
        #expect(order(2, 1, nodes: [0, 1]) == .pipeline)
        // Round-robin placement (--map-by node): ranks alternate nodes, every pair spans them either way.
        #expect(order(4, 1, nodes: [0, 1, 0, 1]) == .pipeline)
        // Nodes of 3 ranks: the mirror order leaves 1 pair of 3 across, the pipeline order all 3.
        #expect(order(6, 1, nodes: [0, 0, 0, 1, 1, 1]) == .mirror)
        // Other schedules hold one copy of each stage, and an odd PP has no pairs to order.
        #expect(order(4, 1, nodes: [0, 0, 1, 1], dualPipe: false) == .pipeline)
        #expect(order(3, 1, nodes: [0, 0, 1]) == .pipeline)
    }

    /// The gradient norm's world sum adds the ranks' parts in grid order, so a run in mirror order
    /// gets the bits of one in pipeline order. These parts by pp (1e16, 1, -1e16, 1) sum to 1 in
    /// grid order; in the mirror order's world ranks (pp 0, 3, 1, 2) they would sum to 0.
    @Test func theNormSumsInGridOrderInEveryRankOrder() {
        let byPipelineRank: [Double] = [1e16, 1, -1e16, 1]
        for order in GridShape.RankOrder.allCases {
            let grid = GridShape(pipeline: 4, expert: 1, order: order)
            let byWorldRank = (0..<4).map { byPipelineRank[grid.coordinates(of: $0).pipeline] }
            #expect(grid.sumInGridOrder(byWorldRank) == 1, "\(order)")
        }
        let mirror = GridShape(pipeline: 4, expert: 1, order: .mirror)
        #expect((0..<4).map { byPipelineRank[mirror.coordinates(of: $0).pipeline] }.reduce(0, +) == 0)
    }

    @Test func replicaGroupsPairDualPipeMirrors() throws {
        let c = try PipelineConfiguration(kind: .dualpipe, pipelineRanks: 4, expertParallel: 1, microBatches: 8, model: .layers(4), worldSize: 4)
        #expect((0..<4).map(c.replicaGroup(ofPipelineRank:)) == [0, 1, 1, 0])
    }
}
