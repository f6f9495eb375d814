import Testing
@testable import Schedule

/// Every kind for N = 1...16 (even N for DualPipe) and M from the minimum to three times it
/// (Interleaved 1F1B with V = 2, 3 and 4 stages a rank, Interleaved ZB and Looped BFS with 2 and 3): generated, lowered and validated
/// (dependencies, counts, matching messages, deadlock freedom), one message in flight per channel
/// wherever that runs (Looped BFS: a loop of M), each rank's stages those of the configuration's layout.
@Suite struct ExhaustiveValidationTests {
    static func configurations(_ kind: ScheduleKind) -> [ScheduleConfiguration] {
        (1...16).flatMap { n -> [ScheduleConfiguration] in
            let minimum = ScheduleConfiguration.minimumMicroBatches(kind: kind, ranks: n)
            var ms = Array(minimum...(3 * minimum))
            if [.oneFOneB, .gpipe, .zbv, .interleaved1F1B, .interleavedZB, .loopedBFS].contains(kind) { ms += Array(n...(3 * n)) }   // past the warm-up too
            if kind == .zbv { ms += Array((3 * n)...(6 * n)) }   // and past its 2N-1 planned micro-batches
            // Interleaved ZB's deeper channels cost a debug build several lowerings each: V = 4 is Interleaved 1F1B's.
            let vs: [Int?] = kind == .interleaved1F1B ? [2, 3, 4] : kind == .interleavedZB || kind == .loopedBFS ? [2, 3] : [nil]
            return Set(ms).sorted().flatMap { m in vs.compactMap { try? ScheduleConfiguration(kind: kind, ranks: n, microBatches: m, stagesPerRank: $0) } }
        }
    }

    @Test(arguments: ScheduleKind.allCases)
    func everyConfigurationValidates(_ kind: ScheduleKind) throws {
        let configurations = Self.configurations(kind)
        #expect(configurations.count >= (kind == .dualpipe ? 8 * 5 : kind == .interleaved1F1B ? 16 * 3 * 3 : kind == .interleavedZB || kind == .loopedBFS ? 16 * 3 * 2 : 16 * 3))
        for c in configurations {
            let lowered = Schedule(c).lowered()
            try lowered.validate()
            // The layout the runtime builds its stages from is where the program runs them.
            for rank in 0..<c.ranks { #expect(c.stagesHeld(by: rank) == lowered.schedule.stagesHeld(by: rank), "\(c) rank \(rank)") }
            // One message in flight per channel runs everything but PyTorch's larger rounds and its
            // Interleaved ZB.
            let largerRounds = kind == .interleaved1F1B && c.microBatches >= 2 * c.ranks && c.microBatches % c.ranks != 0
            if kind == .loopedBFS {
                #expect(lowered.channelDepth == min(c.microBatches, lowered.schedule.maximumChannelDepth), "\(c)")
            } else if !largerRounds && kind != .interleavedZB {
                #expect(lowered.channelDepth == 1, "\(c)")
            }
        }
    }

    @Test func dualPipeConfigurationsCoverEvenRanksOnly() {
        let ranks = Set(Self.configurations(.dualpipe).map(\.ranks))
        #expect(ranks == Set(stride(from: 2, through: 16, by: 2)))
        #expect(Self.configurations(.dualpipe).allSatisfy { $0.microBatches % 2 == 0 })
    }
}
