import Model
import Pipeline
import Schedule
import Testing

/// The interpreter and executor on several ranks in one process, against the reference trainer:
/// the same losses bit for bit, the same gradients (copies summed) up to summation order.
@Suite struct InterpreterTests {
    static let cases: [(ScheduleKind, Int, Int, Int)] = [ // kind, ranks, micro-batches, layers
        (.dualpipe, 2, 4, 4), (.dualpipe, 4, 8, 4), (.dualpipe, 4, 10, 4),
        (.dualpipev, 1, 2, 2), (.dualpipev, 2, 4, 4), (.dualpipev, 2, 6, 4),
        (.oneFOneB, 4, 6, 4), (.zb1p, 4, 4, 4), (.gpipe, 2, 3, 4),
        (.interleaved1F1B, 1, 3, 2), (.interleaved1F1B, 2, 2, 4), (.interleaved1F1B, 2, 6, 4), (.interleaved1F1B, 3, 6, 6),
        (.interleaved1F1B, 3, 4, 6), (.interleaved1F1B, 3, 2, 6), // one group of fewer than 2N
        (.interleaved1F1B, 5, 14, 10), (.interleaved1F1B, 3, 8, 6), // PyTorch's larger rounds: two groups of 7 (two messages a channel), of 4
        (.zbv, 1, 2, 2), (.zbv, 2, 2, 4), (.zbv, 2, 5, 4), (.zbv, 3, 7, 6),
        (.interleavedZB, 2, 4, 4), (.interleavedZB, 4, 8, 8), (.interleavedZB, 5, 14, 10), (.interleavedZB, 3, 2, 6),
    ]

    @Test(arguments: cases.indices)
    func equalsTheReference(_ index: Int) throws {
        let (kind, ranks, m, layers) = Self.cases[index]
        try expectReference(InProcessPipeline(kind, ranks: ranks, microBatches: m, layers: layers), "\(kind) \(ranks)x\(m)")
    }

    /// One pass of `pipeline` against the reference: losses bit for bit, gradients within 1e-5.
    private func expectReference(_ pipeline: InProcessPipeline, _ label: String) throws {
        let losses = try pipeline.pass()
        let reference = try pipeline.reference()
        _ = reference.computeGradients(step: 0)
        #expect(losses.map(\.bitPattern) == reference.microBatchLosses.map(\.bitPattern), "\(label) losses")
        for stage in reference.stages {
            let error = relativeError(pipeline.summedGradients(of: stage.index), stage.flatGradients())
            #expect(error < 1e-5, "\(label): stage \(stage.index) gradient error \(error)")
        }
    }

    /// Interleaved 1F1B with more than two stages a rank: ranks, micro-batches, layers, V.
    static let chunkCases: [(Int, Int, Int, Int)] = [(1, 2, 3, 3), (2, 4, 6, 3), (2, 2, 8, 4), (3, 6, 12, 4)]

    @Test(arguments: chunkCases.indices)
    func moreStagesARankEqualTheReference(_ index: Int) throws {
        let (ranks, m, layers, v) = Self.chunkCases[index]
        let pipeline = try InProcessPipeline(.interleaved1F1B, ranks: ranks, microBatches: m, stagesPerRank: v, layers: layers)
        #expect(pipeline.configuration.partition.stages == v * ranks)
        try expectReference(pipeline, "V \(v) \(ranks)x\(m)")
    }

    /// A gradient that skipped a micro-batch (one W dropped) is caught by the comparison above.
    @Test func aMissingWeightGradientIsSeen() throws {
        let pipeline = try InProcessPipeline(.dualpipe, ranks: 2, microBatches: 4)
        _ = try pipeline.pass()
        let reference = try pipeline.reference()
        _ = reference.computeGradients(step: 0)
        let stage1 = pipeline.executors[0].stages[1]!
        stage1.zeroGradients() // rank 0's copy of stage 1 loses its micro-batches' contributions
        #expect(relativeError(pipeline.summedGradients(of: 1), reference.stages[1].flatGradients()) > 1e-2)
    }

    /// Message buffers are pooled: later passes allocate none, and each pass leaves none in use.
    @Test func buffersAreReusedAcrossSteps() throws {
        let pipeline = try InProcessPipeline(.dualpipe, ranks: 4, microBatches: 8)
        _ = try pipeline.pass(step: 0)
        let first = pipeline.pools.map(\.allocated)
        #expect(first.allSatisfy { $0 > 0 })
        for step in 1...3 { _ = try pipeline.pass(step: step) }
        #expect(pipeline.pools.map(\.allocated) == first)
        #expect(pipeline.pools.allSatisfy { $0.inUse == 0 })
    }

    /// The forward-only program gives the losses of the full one, and leaves no saved context:
    /// running it again on the same micro-batch ids would trap if anything was kept.
    @Test(arguments: [ScheduleKind.dualpipe, .dualpipev, .zb1p, .interleaved1F1B, .zbv])
    func forwardOnlyPassMatchesAndFrees(_ kind: ScheduleKind) throws {
        let ranks = ScheduleConfiguration.defaultStagesPerRank(kind) == 2 ? 2 : 4, m = 8
        let evaluation = try InProcessPipeline(kind, ranks: ranks, microBatches: m, forwardOnly: true)
        let first = try evaluation.pass(forwardOnly: true)
        let again = try evaluation.pass(forwardOnly: true)
        #expect(first.map(\.bitPattern) == again.map(\.bitPattern))
        let reference = try evaluation.reference()
        #expect(first.map(\.bitPattern) == reference.evaluate(sampler: evaluation.sampler).microBatchLosses.map(\.bitPattern))
    }

    /// A program in which both ranks wait for each other before sending is reported, not hung.
    @Test func deadlockIsReported() throws {
        let pipeline = try InProcessPipeline(.gpipe, ranks: 2, microBatches: 1)
        let network = InProcessNetwork()
        let shape = [InProcessPipeline.model.tokensPerMicroBatch, InProcessPipeline.model.hidden]
        let schedule = Schedule(pipeline.configuration.schedule)
        var programs = schedule.lowered().programs
        // Rank 1 now waits for a gradient of micro-batch 0 from rank 0 before anything else.
        let bogus = Transfer(payload: .gradient, source: 0, destination: 1, chunk: Chunk(stage: 1, microBatch: 0))
        programs[1].insert(contentsOf: [.postReceive(bogus), .waitReceive(bogus)], at: 0)
        let interpreters = (0..<2).map { pp in
            Interpreter(program: programs[pp], pipelineRank: pp, transport: network.transport(rank: pp),
                        executor: pipeline.executors[pp], pool: BufferPool(capacity: shape.reduce(1, *)), messageShape: shape)
        }
        for executor in pipeline.executors {
            executor.begin(data: { pipeline.sampler.microBatch(step: 0, index: $0) }, lossGradient: 1, forwardOnly: false)
        }
        #expect {
            try network.run(interpreters)
        } throws: { error in
            "\(error)".contains("deadlock") && "\(error)".contains("rank 1")
        }
    }
}
