import Testing
@testable import Schedule

@Suite struct SavedContextsTests {
    /// A context lives from its F to its weight gradient: 1F1B's rank r keeps the N - r forwards of
    /// its warm-up, GPipe every micro-batch, Looped BFS every micro-batch of every loop.
    @Test func theKnownPeaks() throws {
        for (n, m) in [(2, 4), (4, 8), (4, 3), (8, 16)] {
            #expect(try Schedule.generate(kind: .oneFOneB, ranks: n, microBatches: m).savedContexts == (0..<n).map { min(n - $0, m) })
            #expect(try Schedule.generate(kind: .gpipe, ranks: n, microBatches: m).savedContexts == Array(repeating: m, count: n))
            #expect(try Schedule.generate(kind: .loopedBFS, ranks: n, microBatches: max(m, n), stagesPerRank: 3).savedContexts
                    == Array(repeating: 3 * max(m, n), count: n))
        }
    }

    /// A B without its W frees nothing: at least the activation peak, which ends at B, on every rank
    /// of every kind, and above it on some rank of the kinds that defer W.
    @Test func deferredWeightGradientsKeepContextsLonger() throws {
        for kind in ScheduleKind.allCases {
            for (n, m) in [(2, 4), (4, 8), (4, 16), (8, 16)] {
                guard let s = try? Schedule.generate(kind: kind, ranks: n, microBatches: m) else { continue }
                let peaks = try s.simulate(Costs(forward: 1, backwardInput: 1, backwardWeight: 1)).peakActivations
                #expect(zip(s.savedContexts, peaks).allSatisfy { $0 >= $1 }, "\(kind) N \(n) M \(m)")
                let defersW = s.program.joined().contains { if case .backwardInput = $0 { true } else { false } }
                if !defersW { #expect(s.savedContexts == peaks, "\(kind) N \(n) M \(m)") }
            }
        }
        let zb = try Schedule.generate(kind: .zb1p, ranks: 4, microBatches: 8)
        #expect(try zip(zb.savedContexts, zb.simulate(Costs(forward: 1, backwardInput: 1, backwardWeight: 1)).peakActivations).contains { $0 > $1 })
    }

    /// `simulate` reports them beside the activation peak, in text and JSON: ZB1P's last rank keeps
    /// every context of its warm-up until its deferred Ws.
    @Test func theReportShowsThemBesideThePeak() throws {
        let sim = try Schedule.generate(kind: .zb1p, ranks: 4, microBatches: 8).simulate(Costs(forward: 1, backwardInput: 1, backwardWeight: 1))
        let lastRow = try #require(sim.report().split(separator: "\n").last).split(separator: " ")
        #expect(sim.report().contains("peak activations  kept until W"))
        #expect(lastRow[4] == "1" && lastRow[5] == "4", "rank 3: peak 1, kept 4")
        #expect(sim.reportJSON().contains(#""rank":3,"stages":[3],"busy":24,"idle":3,"peakActivations":1,"keptUntilW":4,"#))
    }
}
