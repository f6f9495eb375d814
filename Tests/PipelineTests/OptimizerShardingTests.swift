import Model
import Pipeline
import Schedule
import Testing

/// Where AdamW may be sharded over DualPipe's mirror pairs, and what a refusal says (the default,
/// each pair on one node, needs MPI: the suite's checks run it).
@Suite struct OptimizerShardingTests {
    func configuration(_ kind: ScheduleKind, pp: Int, ep: Int) throws -> PipelineConfiguration {
        try PipelineConfiguration(kind: kind, pipelineRanks: pp, expertParallel: ep, microBatches: 2 * pp,
                                  model: ModelConfiguration(layers: 4 * pp), worldSize: pp * ep)
    }

    @Test func appliesToDualPipeOnly() throws {
        #expect(OptimizerSharding.applies(to: try configuration(.dualpipe, pp: 2, ep: 1)))
        #expect(OptimizerSharding.applies(to: try configuration(.dualpipe, pp: 4, ep: 2)))
        #expect(!OptimizerSharding.applies(to: try configuration(.dualpipev, pp: 2, ep: 1)))
        #expect(!OptimizerSharding.applies(to: try configuration(.oneFOneB, pp: 2, ep: 1)))
        #expect(!OptimizerSharding.applies(to: try configuration(.gpipe, pp: 2, ep: 2)))
    }

    @Test func refusalNamesTheRule() throws {
        #expect(OptimizerSharding.refusal(try configuration(.oneFOneB, pp: 2, ep: 1))
            == "--shard-optimizer shards AdamW over DualPipe's mirror pairs; 1F1B holds one copy of each stage")
    }
}
