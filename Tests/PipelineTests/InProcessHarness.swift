import Model
import Pipeline
import Schedule
import Tensor

/// Every pipeline rank of a configuration in this process, over an `InProcessNetwork`: the
/// interpreter and executor of the MPI runtime, with the in-process transport underneath.
struct InProcessPipeline {
    static let model = ModelConfiguration(hidden: 16, heads: 2, layers: 4, moeLayers: [1, 2, 3], experts: 4, topK: 2,
                                          groups: 2, topKGroups: 1, sequenceLength: 8, microBatchSize: 2)
    static let corpus = ByteCorpus(bytes: Array("the pipeline must equal the reference to the last gradient. ".utf8), source: "test text")
    static let seed: UInt64 = 7

    let configuration: PipelineConfiguration
    let network = InProcessNetwork()
    let executors: [StageExecutor]
    let interpreters: [Interpreter<InProcessTransport>]
    let pools: [BufferPool]
    let sampler: MicroBatchSampler

    init(_ kind: ScheduleKind, ranks: Int, microBatches: Int, stagesPerRank: Int? = nil, layers: Int = 4, forwardOnly: Bool = false) throws {
        var model = Self.model
        model.layers = layers
        model.moeLayers = Set(1..<layers)
        configuration = try PipelineConfiguration(kind: kind, pipelineRanks: ranks, expertParallel: 1,
                                                  microBatches: microBatches, stagesPerRank: stagesPerRank, model: model, worldSize: ranks)
        var schedule = Schedule(configuration.schedule)
        if forwardOnly { schedule = schedule.forwardOnly }
        let lowered = schedule.lowered()
        let shape = [model.tokensPerMicroBatch, model.hidden]
        executors = (0..<ranks).map { [configuration] pp in
            StageExecutor(configuration: configuration, pipelineRank: pp,
                          stages: configuration.makeStages(pipelineRank: pp, model: model, seed: Self.seed))
        }
        pools = (0..<ranks).map { _ in BufferPool(capacity: shape.reduce(1, *)) }
        let network = self.network, executors = self.executors, pools = self.pools
        interpreters = (0..<ranks).map { pp in
            Interpreter(program: lowered.programs[pp], pipelineRank: pp, transport: network.transport(rank: pp),
                        executor: executors[pp], pool: pools[pp], messageShape: shape)
        }
        sampler = try MicroBatchSampler(corpus: Self.corpus, sequenceLength: model.sequenceLength,
                                        sequences: model.microBatchSize, seed: Self.seed)
        modelConfiguration = model
    }
    let modelConfiguration: ModelConfiguration

    /// One pass over step `step`'s micro-batches; returns the losses by micro-batch.
    func pass(step: Int = 0, forwardOnly: Bool = false) throws -> [Float] {
        let m = configuration.microBatches, sampler = self.sampler
        for executor in executors {
            executor.stages.values.forEach { $0.zeroGradients() }
            executor.begin(data: { sampler.microBatch(step: step, index: $0) }, lossGradient: 1 / Float(m), forwardOnly: forwardOnly)
        }
        try network.run(interpreters)
        var losses = [Float](repeating: .nan, count: m)
        for executor in executors { for (mb, loss) in executor.losses { losses[mb] = loss } }
        return losses
    }

    /// Stage s's gradient summed over every rank that holds a copy (DualPipe's mirror pair).
    func summedGradients(of stage: Int) -> [Float] {
        let copies = executors.compactMap { $0.stages[stage] }
        return copies.dropFirst().reduce(copies[0].flatGradients()) { sum, copy in zip(sum, copy.flatGradients()).map(+) }
    }

    func reference() throws -> ReferenceTrainer {
        try ReferenceTrainer(model: modelConfiguration, training: TrainingConfiguration(steps: 1, microBatches: configuration.microBatches),
                             sampler: sampler, seed: Self.seed, stageCount: configuration.partition.stages)
    }
}

/// Relative L2 error ‖a - b‖ / ‖b‖ (absolute when b is zero).
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    var difference = 0.0, norm = 0.0
    for (x, y) in zip(a, b) {
        difference += (Double(x) - Double(y)) * (Double(x) - Double(y))
        norm += Double(y) * Double(y)
    }
    return norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
}
