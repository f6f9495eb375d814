import Testing
@testable import Schedule

/// FB pairs timed as the runtime runs them: outputs that leave inside the pair, and a pair that
/// starts with its forward while its gradient is still in flight.
@Suite struct PairTimingTests {
    let parts = PairParts(forward: 1, backwardInput: 2, backwardWeight: 3) // cost 6 splits as 1 + 2 + 3

    /// Start, forward output, input gradient, end.
    func times(_ t: PairTimes) -> [Double] { [t.start, t.forwardOutput, t.inputGradient, t.end] }

    @Test func atomicWaitsForBothInputsAndSendsAtTheEnd() {
        let t = PairTimes(.atomic, ready: 1, gradient: 3, cost: 6, parts: parts)
        #expect(times(t) == [3, 9, 9, 9])
    }

    @Test func anInterleavedPairSendsItsOutputsInsideIt() {
        // Phases alternate: the forward ends after F and half of B; the gradient leaves before W.
        let t = PairTimes(.interleaved(lateGradient: false), ready: 3, gradient: 1, cost: 12, parts: parts)
        #expect(times(t) == [3, 7, 9, 15]) // F 2, B 4, W 6
    }

    @Test func aLateGradientIsAwaitedAfterTheForward() {
        // Gradient at 4, after the forward (1 to 2): the backward runs 4 to 6, W 6 to 9.
        let late = PairTimes(.interleaved(lateGradient: true), ready: 1, gradient: 4, cost: 6, parts: parts)
        #expect(times(late) == [1, 2, 6, 9])
        // Without the late start the pair waits for its gradient first.
        let waits = PairTimes(.interleaved(lateGradient: false), ready: 1, gradient: 4, cost: 6, parts: parts)
        #expect(times(waits) == [4, 6, 7, 10])
        // A gradient that comes during the forward costs the pair nothing.
        let during = PairTimes(.interleaved(lateGradient: true), ready: 0, gradient: 0.5, cost: 6, parts: parts)
        #expect(times(during) == [0, 1, 3, 6])
    }

    @Test func aSequentialPairSendsItsForwardWhenTheForwardEnds() {
        // F 1 to 3, its output leaves then; the gradient (here at 1) is in: B 3 to 7, W 7 to 13.
        let onTime = PairTimes(.sequential, ready: 1, gradient: 1, cost: 12, parts: parts)
        #expect(times(onTime) == [1, 3, 7, 13])
        // A gradient at 5 comes after the forward: the backward waits for it, the forward does not.
        let late = PairTimes(.sequential, ready: 1, gradient: 5, cost: 12, parts: parts)
        #expect(times(late) == [1, 3, 9, 15])
        // The forward's output leaves sooner than in an interleaved pair, the gradient at the same time.
        let interleaved = PairTimes(.interleaved(lateGradient: true), ready: 1, gradient: 1, cost: 12, parts: parts)
        #expect(onTime.forwardOutput < interleaved.forwardOutput && onTime.inputGradient == interleaved.inputGradient)
    }

    @Test func partsThatCostNothingFallBackToAtomic() {
        let t = PairTimes(.interleaved(lateGradient: true), ready: 1, gradient: 2, cost: 5,
                          parts: PairParts(forward: 0, backwardInput: 0, backwardWeight: 0))
        #expect(times(t) == [2, 7, 7, 7])
    }

    /// Every output leaves no later than in the atomic timing and no action starts later, so no
    /// schedule ends later; across a latency the schedules with pairs or BWs end sooner (a BW's
    /// gradient leaves before its W), and ZB1P, whose B and W are actions of their own, is untouched.
    @Test(arguments: ScheduleKind.allCases)
    func interleavedPairsNeverEndLaterThanAtomicOnes(_ kind: ScheduleKind) throws {
        let s = try Schedule.generate(kind: kind, ranks: 4, microBatches: 8)
        for latency in [0.0, 0.3, 2] {
            let costs = Costs(forward: 1, backwardInput: 1.2, backwardWeight: 0.8, forwardBackward: 2.6, latency: latency)
            let atomic = try s.simulate(costs).makespan
            let interleaved = try s.simulate(costs, pairs: .interleaved(lateGradient: false)).makespan
            let late = try s.simulate(costs, pairs: .interleaved(lateGradient: true)).makespan
            let sequential = try s.simulate(costs, pairs: .sequential).makespan
            #expect(late <= interleaved + 1e-9 && interleaved <= atomic + 1e-9, "\(kind), latency \(latency): \(late), \(interleaved), \(atomic)")
            #expect(sequential <= atomic + 1e-9, "\(kind), latency \(latency): sequential \(sequential), atomic \(atomic)")
            let sendsInside = s.program.joined().contains { $0.op == .FB || $0.op == .BW }
            if !sendsInside { #expect(late == atomic && sequential == atomic) }
            if sendsInside && latency == 2 { #expect(interleaved < atomic, "\(kind): actions that send inside them must gain across a latency") }
        }
    }

    /// A pair that starts before its gradient is here is drawn from its start to its end, longer
    /// than its cost; actions on a rank still never overlap. (A pair's two inputs come from one
    /// pair on the other rank, the gradient half a B after the activation: with a short F and a
    /// long B the gradient is still in flight when the forward is done.)
    @Test func aLatePairSpansItsWaitAndRanksStaySequential() throws {
        let s = try Schedule.generate(kind: .dualpipe, ranks: 2, microBatches: 20)
        let costs = Costs(forward: 5, backwardInput: 40, backwardWeight: 5, forwardBackward: 50, latency: 20)
        let sim = try s.simulate(costs, pairs: .interleaved(lateGradient: true))
        let pairs = sim.timeline.joined().filter { $0.action.op == .FB }
        #expect(pairs.contains { $0.end - $0.start > 50 + 1e-9 }, "no pair waited inside itself")
        for row in sim.timeline { for (a, b) in zip(row, row.dropFirst()) { #expect(b.start >= a.end - 1e-9) } }
        #expect(sim.busy == (try s.simulate(costs)).busy)
    }

    /// The measured means split a pair by its rank's own F of the forward's stage and B and W of
    /// the backward's stage.
    @Test func stageCostsSplitAPairByItsStagesMeans() throws {
        let s = try Schedule.generate(kind: .dualpipe, ranks: 2, microBatches: 4)
        var durations: [Action: Double] = [:]
        for action in s.program.joined() {
            durations[action] = switch action.op {
            case .F: Double(10 + action.chunks[0].stage)
            case .B: Double(20 + action.chunks[0].stage)
            case .W: Double(30 + action.chunks[0].stage)
            case .BW: 50
            case .FB: 60
            }
        }
        let costs = StageCosts(durations, of: s)
        let pair = try #require(s.program.joined().first { action in
            guard case .forwardBackward(let f, let b) = action else { return false }
            return f.stage != b.stage
        })
        guard case .forwardBackward(let f, let b) = pair else { return }
        let parts = costs.pairParts(of: pair)
        #expect(parts == PairParts(forward: Double(10 + f.stage), backwardInput: Double(20 + b.stage), backwardWeight: Double(30 + b.stage)))
    }
}
