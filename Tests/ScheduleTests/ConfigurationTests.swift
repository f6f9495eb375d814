import Testing
@testable import Schedule

@Suite struct ConfigurationTests {
    private func error(_ kind: String, _ n: Int, _ m: Int) -> String? {
        do {
            _ = try ScheduleConfiguration(kindName: kind, ranks: n, microBatches: m)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func oddRanksAreRejectedForDualPipe() throws {
        let message = try #require(error("dualpipe", 5, 20))
        #expect(message.contains("even number of ranks") && message.contains("N = 5"))
    }

    @Test func oddMicroBatchesAreRejectedForDualPipeOnly() throws {
        let message = try #require(error("dualpipe", 4, 9))
        #expect(message.contains("even number of micro-batches") && message.contains("M = 9"))
        #expect(error("dualpipev", 4, 9) == nil)
    }

    @Test func tooFewMicroBatchesNameTheMinimum() throws {
        let dual = try #require(error("dualpipe", 4, 6))
        #expect(dual.contains("M >= 2N") && dual.contains("M = 6") && dual.contains("minimum 8"))
        let v = try #require(error("dualpipev", 3, 5))
        #expect(v.contains("minimum 6"))
        let zb = try #require(error("zb1p", 4, 3))
        #expect(zb.contains("M >= N") && zb.contains("minimum 4"))
        #expect(error("1f1b", 4, 0) != nil)
        #expect(error("1f1b", 4, 1) == nil)
    }

    @Test func fewerThanOneRankIsRejected() throws {
        for kind in ScheduleKind.allCases {
            let message = try #require(error(kind.rawValue, 0, 8))
            #expect(message.contains("N >= 1") && message.contains("N = 0"))
        }
    }

    @Test func unknownKindListsTheKnownOnes() throws {
        let message = try #require(error("interleaved", 4, 8))
        #expect(message.contains("'interleaved'") && message.contains("dualpipev") && message.contains("1f1b"))
        #expect(error("DualPipe", 4, 8) == nil)
    }

    @Test func stageOwnershipFollowsTheDirections() throws {
        let dual = try ScheduleConfiguration(kind: .dualpipe, ranks: 4, microBatches: 8)
        #expect(dual.stages == 4)
        #expect(dual.rank(of: Chunk(stage: 0, microBatch: 3)) == 0)   // enters at rank 0
        #expect(dual.rank(of: Chunk(stage: 0, microBatch: 4)) == 3)   // enters at rank N-1
        let v = try ScheduleConfiguration(kind: .dualpipev, ranks: 4, microBatches: 8)
        #expect(v.stages == 8)
        #expect(v.rank(of: Chunk(stage: 3, microBatch: 0)) == 3)
        #expect(v.rank(of: Chunk(stage: 4, microBatch: 0)) == 3)      // the turn
        #expect(v.rank(of: Chunk(stage: 7, microBatch: 0)) == 0)      // back at rank 0
    }
}
