import Testing
@testable import Schedule

@Suite struct LoweringTests {
    private func transfers(_ lowered: LoweredSchedule) -> [Transfer] {
        lowered.programs.joined().compactMap { if case .postSend(let t) = $0 { t } else { nil } }
    }

    @Test func everyStageBoundaryBetweenRanksCarriesOneMessageEachWay() throws {
        // DualPipe: each micro-batch crosses N-1 rank boundaries forward and N-1 backward.
        let dual = try Schedule.generate(kind: .dualpipe, ranks: 6, microBatches: 14).lowered()
        #expect(transfers(dual).count == 14 * 2 * 5)
        // DualPipeV: 2N-1 stage boundaries, one of them (the turn) inside rank N-1.
        let v = try Schedule.generate(kind: .dualpipev, ranks: 4, microBatches: 9).lowered()
        #expect(transfers(v).count == 9 * 2 * 6)
        #expect(!transfers(v).contains { $0.source == $0.destination })
        #expect(!transfers(v).contains { $0.chunk.stage == 4 && $0.payload == .activation })
        #expect(!transfers(v).contains { $0.chunk.stage == 3 && $0.payload == .gradient })
    }

    @Test func messagesGoToTheNeighbourHoldingTheNextStage() throws {
        let s = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8)
        // F(1,5): micro-batch 5 entered at rank 3, so stage 1 is on rank 2 and stage 2 on rank 1.
        let sends = s.sends(of: .forward(Chunk(stage: 1, microBatch: 5)), on: 2)
        #expect(sends == [Transfer(payload: .activation, source: 2, destination: 1, chunk: Chunk(stage: 2, microBatch: 5))])
        // Rank 1 holds stage 1 going down and stage 2 going up: both inputs come from rank 0.
        let receives = s.receives(of: .forwardBackward(forward: Chunk(stage: 1, microBatch: 0), backward: Chunk(stage: 2, microBatch: 4)), on: 1)
        #expect(receives.map(\.source) == [0, 0] && receives.map(\.payload) == [.activation, .gradient])
        #expect(receives.map(\.tag) == [0, 9])
        #expect(s.receives(of: .backwardWeight(Chunk(stage: 1, microBatch: 0)), on: 1).isEmpty)
    }

    @Test func receivesArePostedBeforeTheComputeBeforeTheirUse() throws {
        // With one receive per channel in flight, the second activation from the same neighbour is
        // posted as soon as the first is waited for, before the compute that consumes the first.
        let lowered = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 3).lowered()
        let rank1 = lowered.programs[1]
        let firstCompute = try #require(rank1.firstIndex { if case .compute = $0 { true } else { false } })
        let postedBefore = rank1[..<firstCompute].filter { if case .postReceive = $0 { true } else { false } }.count
        #expect(postedBefore == 2)   // act(1:0) at the start, act(1:1) right after waiting for it
        // Sends follow their compute directly.
        for (i, instruction) in rank1.enumerated() {
            if case .postSend(let t) = instruction {
                let previousCompute = rank1[..<i].last { if case .compute = $0 { true } else { false } }
                if case .compute(let a) = previousCompute { #expect(a.backwardChunk?.microBatch == t.chunk.microBatch) }
            }
        }
    }

    /// At depth d a rank never holds more than d receives, nor d sends, open on one channel, and
    /// reaches d wherever a channel carries that many; at the deepest depth every receive is posted
    /// before the first compute and no send is waited for before the last.
    @Test func aChannelHoldsAtMostItsDepth() throws {
        for schedule in [try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8),
                         try Schedule.generate(kind: .interleaved1F1B, ranks: 5, microBatches: 14)] {
            for depth in 1...3 {
                let lowered = schedule.lowered(channelDepth: depth)
                #expect(lowered.channelDepth == depth)
                var reached = 0
                for program in lowered.programs {
                    // Open posts by (receive or send, payload, peer).
                    var open: [[Int]: Int] = [:]
                    for instruction in program {
                        switch instruction {
                        case .postReceive(let t): open[key(t, receive: true), default: 0] += 1
                        case .waitReceive(let t): open[key(t, receive: true), default: 0] -= 1
                        case .postSend(let t): open[key(t, receive: false), default: 0] += 1
                        case .waitSend(let t): open[key(t, receive: false), default: 0] -= 1
                        case .compute: break
                        }
                        let most = open.values.max() ?? 0
                        #expect(most <= depth, "\(schedule.kind) depth \(depth)")
                        reached = max(reached, most)
                    }
                }
                #expect(reached == depth, "\(schedule.kind) depth \(depth)")
            }
            let deepest = schedule.lowered(channelDepth: schedule.maximumChannelDepth)
            for program in deepest.programs {
                let first = program.firstIndex { if case .compute = $0 { true } else { false } } ?? 0
                let last = program.lastIndex { if case .compute = $0 { true } else { false } } ?? 0
                #expect(!program[first...].contains { if case .postReceive = $0 { true } else { false } })
                #expect(!program[...last].contains { if case .waitSend = $0 { true } else { false } })
            }
        }
    }

    private func key(_ t: Transfer, receive: Bool) -> [Int] {
        [receive ? 1 : 0, t.payload == .gradient ? 1 : 0, receive ? t.source : t.destination]
    }
}

@Suite struct LoweredTextTests {
    @Test func loweredTextListsEveryInstruction() throws {
        let lowered = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 1).lowered()
        let lines = lowered.text().split(separator: "\n")
        #expect(lines.count == 1 + 2 + lowered.programs.joined().count)
        #expect(lines.contains("  send      act(1:0) 0->1 tag 0"))
        #expect(lines.contains("  wait-recv grad(0:0) 1->0 tag 1"))
    }
}
