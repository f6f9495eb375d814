import Model
import Pipeline
import Schedule
import Testing

/// `--model mlp` through the interpreter and executor on several ranks in one process, against
/// `MLPReference`: the same losses bit for bit, the same gradients (copies summed) up to summation
/// order, with the F&B pairs' phases alternating and in sequence; and the message buffers each
/// rank allocates against the count the memory estimate takes from its lowered program.
@Suite struct MLPInProcessTests {
    static let model = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2)
    static let cases: [(ScheduleKind, Int, Int, Int?, Int?)] = [ // kind, ranks, micro-batches, blocks (nil: one per stage), V
        (.dualpipe, 2, 4, nil, nil), (.dualpipe, 4, 8, 8, nil), (.dualpipev, 2, 4, nil, nil), (.oneFOneB, 3, 5, 6, nil), (.zb1p, 2, 4, nil, nil),
        (.gpipe, 2, 3, 4, nil), (.interleaved1F1B, 2, 4, nil, nil), (.interleaved1F1B, 3, 3, 12, nil), (.interleaved1F1B, 2, 4, nil, 3), (.interleaved1F1B, 3, 5, nil, nil),
        (.interleaved1F1B, 5, 14, nil, nil), // PyTorch's two groups of 7: two messages in flight a channel
        (.zbv, 2, 5, nil, nil), (.zbv, 3, 2, 6, nil), (.interleavedZB, 4, 8, nil, nil), (.interleavedZB, 2, 4, nil, 3),
    ]

    @Test(arguments: cases.indices, [StageExecutor.PairOrder.interleaved, .sequential])
    func equalsTheReference(_ index: Int, pairs: StageExecutor.PairOrder) throws {
        let (kind, ranks, m, blocks, v) = Self.cases[index]
        let configuration = try PipelineConfiguration.mlp(kind: kind, pipelineRanks: ranks, microBatches: m, stagesPerRank: v, blocks: blocks, worldSize: ranks)
        let stages = configuration.partition.stages, perStage = configuration.partition.blocksPerStage
        let shape = [Self.model.tokensPerMicroBatch, Self.model.hidden]
        let executors = (0..<ranks).map { pp in
            StageExecutor(configuration: configuration, pipelineRank: pp, stages: configuration.stagesHeld(byPipelineRank: pp).map {
                MLPStage(index: $0, stages: stages, blocksPerStage: perStage, configuration: Self.model, seed: 3)
            })
        }
        let network = InProcessNetwork(), lowered = Schedule(configuration.schedule).lowered()
        let pools = (0..<ranks).map { _ in BufferPool(capacity: shape.reduce(1, *)) }
        let interpreters = (0..<ranks).map { pp in
            Interpreter(program: lowered.programs[pp], pipelineRank: pp, transport: network.transport(rank: pp),
                        executor: executors[pp], pool: pools[pp], messageShape: shape)
        }
        let data = MLPData(configuration: Self.model, seed: 3)
        for executor in executors {
            executor.pairOrder = pairs
            executor.begin(data: { data.batch($0) }, lossGradient: 1 / Float(m), forwardOnly: false)
        }
        try network.run(interpreters)
        for pp in 0..<ranks {
            let bound = lowered.messageBuffersHeld(byRank: pp)
            // The memory estimate's count is never below what the run allocates, and at most one
            // above (a send posted after its compute is counted from the compute).
            #expect(pools[pp].allocated <= bound && bound <= pools[pp].allocated + 1,
                    "\(kind) \(ranks)x\(m) pp \(pp): \(pools[pp].allocated) message buffers, the estimate \(bound)")
        }
        var losses = [Float](repeating: .nan, count: m)
        for executor in executors { for (mb, loss) in executor.losses { losses[mb] = loss } }

        let reference = try MLPReference(configuration: Self.model, training: TrainingConfiguration(steps: 1, microBatches: m),
                                         stages: stages, blocksPerStage: perStage, seed: 3)
        _ = reference.computeGradients()
        #expect(losses.map(\.bitPattern) == reference.microBatchLosses.map(\.bitPattern), "\(kind) \(ranks)x\(m) losses")
        for stage in reference.stages {
            let copies = executors.compactMap { $0.stages[stage.index] }
            let summed = copies.dropFirst().reduce(copies[0].flatGradients()) { sum, copy in zip(sum, copy.flatGradients()).map(+) }
            let error = relativeError(summed, stage.flatGradients())
            #expect(error < 1e-5, "\(kind) \(ranks)x\(m): stage \(stage.index) gradient error \(error)")
        }
    }
}
