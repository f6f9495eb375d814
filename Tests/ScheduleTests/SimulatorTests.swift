import Foundation
import Testing
@testable import Schedule

@Suite struct SimulatorTests {
    @Test func latencyDelaysEveryHopBetweenRanks() throws {
        // 1F1B on 2 ranks, 1 micro-batch: F on rank 0, F and BW on rank 1, BW on rank 0; two hops.
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 1)
        for latency in [0.0, 0.5, 3] {
            let sim = try s.simulate(Costs(forward: 1, backwardInput: 1, backwardWeight: 1, latency: latency))
            #expect(sim.makespan == 6 + 2 * latency)
            #expect(sim.timeline[1][0].start == 1 + latency)
            #expect(sim.timeline[0][1].start == 4 + 2 * latency)
        }
    }

    /// GPipe on 2 ranks: rank 0's two forwards end at 1 and 2 and send to rank 1. A message holds
    /// the link for `transfer` and arrives 2 (the latency) after its turn began, so the second
    /// waits for the first when the link is busier than the forwards are apart.
    @Test func messagesOnOneLinkTakeTurns() throws {
        let s = try Schedule.generate(kind: .gpipe, ranks: 2, microBatches: 2)
        for (transfer, secondForward) in [(0.0, 4.0), (1, 4), (1.5, 4.5), (2, 5), (3, 6)] {
            let sim = try s.simulate(Costs(forward: 1, backwardInput: 1, backwardWeight: 1, latency: 2, transfer: transfer))
            #expect(sim.timeline[1][0].action == .forward(Chunk(stage: 1, microBatch: 0)))
            #expect(sim.timeline[1][0].start == 3, "transfer \(transfer): the first message finds the link free")
            #expect(sim.timeline[1][1].start == secondForward, "transfer \(transfer)")
        }
        // The gradients go back on the other direction's link, which the forwards never held: with
        // the link busy or not, rank 0's backwards follow rank 1's by the latency alone.
        let busy = try s.simulate(Costs(forward: 1, backwardInput: 1, backwardWeight: 1, latency: 2, transfer: 2))
        let gradient = try #require(busy.timeline[1].first { $0.action.backwardChunk == Chunk(stage: 1, microBatch: 1) })
        let k = try #require(busy.timeline[0].firstIndex { $0.action.backwardChunk == Chunk(stage: 0, microBatch: 1) })
        #expect(k > 0 && busy.timeline[0][k].start == max(gradient.end + 2, busy.timeline[0][k - 1].end))
    }

    /// A replay whose every action takes its kind's cost is the simulation; one slow action on
    /// the critical path of 1F1B on 2 ranks with 1 micro-batch delays the end by its excess.
    @Test func replayEqualsSimulationForUniformCostsAndSeesOneSlowAction() throws {
        let s = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8)
        let costs = Costs(forward: 1, backwardInput: 1.5, backwardWeight: 0.5, latency: 0.1)
        #expect(try s.replay(latency: 0.1, duration: costs.cost(of:)).makespan == s.simulate(costs).makespan)
        let chain = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 1)
        let slowFirst = try chain.replay(latency: 0) { action in
            if case .forward(let c) = action, c.stage == 0 { return 4 }
            return 1
        }
        #expect(slowFirst.makespan == 4 + 1 + 1 + 1) // the slow F0, then F1 and BW1 on rank 1, then BW0 on rank 0
    }

    /// 1F1B on 3 ranks, 1 micro-batch: a chain of four hops, two on each link. With a slow link
    /// between ranks 1 and 2 only its two hops pay its latency; links all alike replay exactly as
    /// one latency does.
    @Test func eachMessagePaysItsOwnLinksLatency() throws {
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 3, microBatches: 1)
        let costs = Costs(forward: 1, backwardInput: 1, backwardWeight: 1)
        let links = Links(ranks: 3) { from, to in (latency: Set([from, to]) == [1, 2] ? 3 : 0.5, transfer: 0) }
        let sim = try s.replay(links: links, duration: costs.cost(of:))
        // F0 0-1, F1 1.5-2.5, F2 5.5-6.5, BW2 6.5-8.5, BW1 11.5-13.5, BW0 14-16.
        #expect(sim.timeline[1][0].start == 1.5)
        #expect(sim.timeline[2][0].start == 5.5)
        #expect(sim.timeline[0][1].start == 14)
        #expect(sim.makespan == 16)
        #expect(sim.links.latency(from: 2, to: 1) == 3 && sim.links.latency(from: 1, to: 0) == 0.5)
        let dualPipe = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8)
        let uneven = Costs(forward: 1, backwardInput: 1.5, backwardWeight: 0.5)
        for transfer in [0.0, 0.3] {
            #expect(try dualPipe.replay(links: Links(ranks: 4, latency: 0.2, transfer: transfer), duration: uneven.cost(of:)).makespan
                    == dualPipe.replay(latency: 0.2, transfer: transfer, duration: uneven.cost(of:)).makespan)
        }
    }

    @Test func linksAreCheckedAgainstTheSchedule() throws {
        let s = try Schedule.generate(kind: .oneFOneB, ranks: 3, microBatches: 3)
        #expect(throws: ScheduleError.invalidCosts("links for 2 ranks: the schedule has 3")) {
            try s.replay(links: Links(ranks: 2, latency: 1)) { _ in 1 }
        }
        let negative = Links(ranks: 3) { from, to in (latency: from == 2 && to == 0 ? -1 : 1, transfer: 0) }
        #expect(throws: ScheduleError.invalidCosts("latency of link 2 -> 0 = -1.0: every cost must be a finite number >= 0")) {
            try s.replay(links: negative) { _ in 1 }
        }
        #expect(throws: ScheduleError.self) { try s.replay(links: Links(ranks: 3, latency: 1, transfer: .nan)) { _ in 1 } }
    }

    @Test func theTurnOfDualPipeVCostsNoLatency() throws {
        // On the last rank stage N-1 feeds stage N directly, so F(N,0) starts the moment F(N-1,0) ends.
        let s = try Schedule.generate(kind: .dualpipev, ranks: 3, microBatches: 6)
        let sim = try s.simulate(Costs(latency: 10))
        let last = sim.timeline[2]
        let down = try #require(last.first { $0.action == .forward(Chunk(stage: 2, microBatch: 0)) })
        let back = try #require(last.first { $0.action == .forward(Chunk(stage: 3, microBatch: 0)) })
        #expect(back.start == down.end)
    }

    @Test func oneFOneBOnTwoRanksMatchesTheHandTimeline() throws {
        // F=1, BW=2. Rank 0: F0 [0,1] F1 [1,2] BW0 [4,6] BW1 [7,9]; rank 1: F0 [1,2] BW0 [2,4]
        // F1 [4,5] BW1 [5,7]. Each rank is busy 6 of 9, idle 3: bubble 3, ratio 6 / 18.
        let sim = try Schedule.generate(kind: .oneFOneB, ranks: 2, microBatches: 2).simulate(Costs())
        #expect(sim.timeline[0].map(\.start) == [0, 1, 4, 7])
        #expect(sim.timeline[1].map(\.start) == [1, 2, 4, 5])
        #expect(sim.makespan == 9)
        #expect(sim.busy == [6, 6])
        #expect(sim.idle == [3, 3])
        #expect(sim.bubble == 3)
        #expect(abs(sim.bubbleRatio - 1.0 / 3) < 1e-12)
    }

    @Test func actionsOnARankNeverOverlap() throws {
        let sim = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8).simulate(Costs(forwardBackward: 2.5))
        for row in sim.timeline { for (a, b) in zip(row, row.dropFirst()) { #expect(b.start >= a.end) } }
    }

    @Test func chromeTraceHasOneEventPerAction() throws {
        let sim = try Schedule.generate(kind: .zb1p, ranks: 3, microBatches: 4).simulate()
        let events = try #require(JSONSerialization.jsonObject(with: Data(sim.chromeTrace().utf8)) as? [[String: Any]])
        let complete = events.filter { $0["ph"] as? String == "X" }
        #expect(complete.count == sim.timeline.joined().count)
        #expect(Set(complete.compactMap { $0["tid"] as? Int }) == [0, 1, 2])
        #expect(events.filter { $0["name"] as? String == "thread_name" }.count == 3)
    }

    @Test func svgDrawsABoxPerActionAndBordersPairs() throws {
        let sim = try Schedule.generate(kind: .dualpipe, ranks: 4, microBatches: 8).simulate()
        let svg = sim.svg()
        let pairs = sim.timeline.joined().filter { $0.action.op == .FB }.count
        #expect(pairs > 0)
        // Pairs: two halves and one black border; legend adds one more border.
        #expect(svg.components(separatedBy: "stroke=\"black\"").count - 1 == pairs + 1)
        #expect(svg.components(separatedBy: "<rect").count - 1 >= sim.timeline.joined().count + pairs)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect((0..<4).allSatisfy { svg.contains(">rank \($0)<") })
    }

    /// Interleaved 1F1B's laps alternate dark and light, so that with three a rank the first and
    /// third (forwards: dark orange) are told from the second (light orange) beside them.
    @Test func svgAlternatesInterleavedLaps() throws {
        let sim = try Schedule.generate(kind: .interleaved1F1B, ranks: 2, microBatches: 2, stagesPerRank: 3).simulate()
        let forwards = sim.svg().split(separator: "\n").filter { $0.contains("<rect") && ($0.contains("#f28e2b") || $0.contains("#ffc98f")) }
        // Legend: one of each; each rank: two micro-batches on each of three laps, two of them dark.
        #expect(forwards.filter { $0.contains("#f28e2b") }.count == 1 + 2 * 2 * 2)
        #expect(forwards.filter { $0.contains("#ffc98f") }.count == 1 + 2 * 2)
    }

    @Test func textHasOneLinePerRank() throws {
        let s = try Schedule.generate(kind: .dualpipev, ranks: 3, microBatches: 6)
        let lines = s.text().split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("rank ") }.count == 3)
        #expect(lines[1].contains("F0 F1 F2 F3") && lines[3].contains("F0'"))
    }
}
