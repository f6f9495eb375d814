import Pipeline
import Schedule
import Testing

@Suite struct SumStartsTests {
    func configuration(_ kind: ScheduleKind, pp: Int, m: Int, v: Int? = nil) throws -> (ScheduleConfiguration, [[Instruction]]) {
        let configuration = try ScheduleConfiguration(kind: kind, ranks: pp, microBatches: m, stagesPerRank: v)
        return (configuration, Schedule(configuration).lowered().programs)
    }

    func computes(_ program: [Instruction]) -> [Action] {
        program.compactMap { if case .compute(let action) = $0 { action } else { nil } }
    }

    /// DualPipe at PP 2, M 20: both ranks end with `BW B W`, the BW on stage 1 and the B and W on
    /// stage 0. Stage 1's sums start after the BW (compute 21 of 24); stage 0 has nothing after it.
    @Test func dualPipeAtPP2StartsTheStageFinishedByTheLastBW() throws {
        let (c, programs) = try configuration(.dualpipe, pp: 2, m: 20)
        let held = { (p: Int) in c.stagesHeld(by: p) }
        for rank in 0..<2 {
            let early = SumStarts.early(programs: programs, stagesHeld: held, pipelineRank: rank)
            #expect(early == [1: 21], "rank \(rank): \(early)")
            let actions = computes(programs[rank])
            #expect(actions.count == 24)
            guard case .backward(let chunk) = actions[21] else { Issue.record("rank \(rank): compute 21 is \(actions[21])"); continue }
            #expect(chunk.stage == 1)
        }
    }

    /// Every kind and size: an early stage is early on every rank holding it, starts after the
    /// rank's last compute on it, and leaves compute after it; a stage left for later ends some
    /// holder's program.
    @Test(arguments: ScheduleKind.allCases)
    func holdersAgreeAndComputeRemains(kind: ScheduleKind) throws {
        for pp in [2, 4, 6, 8] {
          for v in kind == .interleaved1F1B ? [nil, 3] : [nil] {
            let m = ScheduleConfiguration.minimumMicroBatches(kind: kind, ranks: pp) + 4
            guard let (c, programs) = try? configuration(kind, pp: pp, m: m + m % 2, v: v) else { continue }
            let held = { (p: Int) in c.stagesHeld(by: p) }
            let early = (0..<pp).map { SumStarts.early(programs: programs, stagesHeld: held, pipelineRank: $0) }
            for stage in Set((0..<pp).flatMap(held)) {
                let holders = (0..<pp).filter { held($0).contains(stage) }
                let earlyOn = holders.filter { early[$0][stage] != nil }
                #expect(earlyOn.isEmpty || earlyOn == holders, "\(kind) PP \(pp) stage \(stage): early on \(earlyOn) of \(holders)")
                for p in holders {
                    let actions = computes(programs[p])
                    let last = actions.lastIndex { $0.chunks.contains { $0.stage == stage } }
                    if let start = early[p][stage] {
                        #expect(start == last && start < actions.count - 1, "\(kind) PP \(pp) rank \(p) stage \(stage): starts after \(start), last touch \(String(describing: last)) of \(actions.count)")
                    }
                }
                if earlyOn.isEmpty {
                    #expect(holders.contains { p in computes(programs[p]).last!.chunks.contains { $0.stage == stage } },
                            "\(kind) PP \(pp) stage \(stage): left for after the schedule though every holder computes after it")
                }
            }
            // The simulator's whole step sums the same stages early, its pairs all across nodes.
            let simulated = try Schedule(c).simulate(placement: NodePlacement(ranksPerNode: 1, worldRanks: Array(0..<pp), latency: 0))
                .wholeStep(GradientSumCosts(inside: 1)).sums.filter(\.early).map(\.stage)
            let runtime = Set(early.flatMap(\.keys)).filter { stage in (0..<pp).filter { held($0).contains(stage) }.count == 2 }
            #expect(Set(simulated) == runtime, "\(kind) PP \(pp): simulated early \(simulated), runtime \(runtime.sorted())")
            if kind == .oneFOneB || kind == .zb1p || kind == .gpipe {
                #expect(early.allSatisfy { $0.isEmpty }, "\(kind) PP \(pp): one stage a rank, so nothing is left after it")
            }
          }
        }
    }
}
