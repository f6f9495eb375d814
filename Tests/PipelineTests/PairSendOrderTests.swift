import Model
import MPI
import Pipeline
import Schedule
import Tensor
import Testing

/// Where the outputs of an FB pair or a BW leave and where a W lets them progress, seen from one
/// log per rank: every send the transport is asked for, every weight-gradient product and every poll.
@Suite struct PairSendOrderTests {
    enum Event: Equatable {
        case send(tag: Int)
        case weightBegins(Chunk)
        /// B's phases asked for: a sequential pair asks once its F has run.
        case backwardBuilt(Chunk)
        case product
        case poll
    }

    final class Log { var events: [Event] = [] }

    /// An `MLPStage` whose W reports itself and each of its products.
    final class RecordingStage: StageModule {
        let inner: MLPStage, log: Log
        init(_ inner: MLPStage, _ log: Log) { (self.inner, self.log) = (inner, log) }
        var index: Int { inner.index }
        func forwardPhases(_ mb: Int, _ input: Tensor, targets: LossTargets?) -> PhaseList { inner.forwardPhases(mb, input, targets: targets) }
        func backwardInputPhases(_ mb: Int, _ outputGradient: Tensor) -> PhaseList {
            log.events.append(.backwardBuilt(Chunk(stage: index, microBatch: mb)))
            return inner.backwardInputPhases(mb, outputGradient)
        }
        func backwardWeight(_ mb: Int) { backwardWeight(mb, between: {}) }
        func backwardWeight(_ mb: Int, between: () -> Void) {
            log.events.append(.weightBegins(Chunk(stage: index, microBatch: mb)))
            inner.backwardWeight(mb, between: { [log] in log.events.append(.product); between() })
        }
        func discard(_ mb: Int) { inner.discard(mb) }
        func visitParameters(_ body: (inout Parameter) -> Void) { inner.visitParameters(body) }
    }

    /// The in-process transport, each send logged as it is posted.
    final class RecordingTransport: Transport {
        let inner: InProcessTransport, log: Log
        init(_ inner: InProcessTransport, _ log: Log) { (self.inner, self.log) = (inner, log) }
        func postReceive(into buffer: MessageBuffer<Float>, count: Int, from source: Int, tag: Int) throws -> InProcessNetwork.Operation {
            try inner.postReceive(into: buffer, count: count, from: source, tag: tag)
        }
        func postSend(_ buffer: MessageBuffer<Float>, count: Int, to destination: Int, tag: Int) throws -> InProcessNetwork.Operation {
            log.events.append(.send(tag: tag))
            return try inner.postSend(buffer, count: count, to: destination, tag: tag)
        }
        func test(_ request: InProcessNetwork.Operation) throws -> Bool { try inner.test(request) }
        func wait(_ request: InProcessNetwork.Operation, timeout: Double?) throws -> Bool { try inner.wait(request, timeout: timeout) }
    }

    /// DualPipe's FB pairs (phases alternating and in sequence) and 1F1B's BWs on 2 ranks: each
    /// output for the other rank made inside the action (a pair's forward activation, a pair's or
    /// a BW's input gradient) is posted before the action's W begins, not after the action; in a
    /// sequential pair the forward's before its B starts; every W polls after each of its products.
    @Test(arguments: [(ScheduleKind.dualpipe, StageExecutor.PairOrder.interleaved), (.dualpipe, .sequential), (.oneFOneB, .interleaved)])
    func outputsLeaveBeforeTheirWeightGradient(_ kind: ScheduleKind, _ order: StageExecutor.PairOrder) throws {
        let model = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2), ranks = 2, m = 6
        let configuration = try PipelineConfiguration.mlp(kind: kind, pipelineRanks: ranks, microBatches: m, blocks: nil, worldSize: ranks)
        let stages = configuration.partition.stages
        let logs = (0..<ranks).map { _ in Log() }
        let executors = (0..<ranks).map { pp in
            StageExecutor(configuration: configuration, pipelineRank: pp, stages: configuration.stagesHeld(byPipelineRank: pp).map {
                RecordingStage(MLPStage(index: $0, stages: stages, configuration: model, seed: 3), logs[pp])
            })
        }
        let network = InProcessNetwork(), lowered = Schedule(configuration.schedule).lowered()
        let shape = [model.tokensPerMicroBatch, model.hidden]
        let interpreters = (0..<ranks).map { pp in
            Interpreter(program: lowered.programs[pp], pipelineRank: pp, transport: RecordingTransport(network.transport(rank: pp), logs[pp]),
                        executor: executors[pp], pool: BufferPool(capacity: shape.reduce(1, *)), messageShape: shape)
        }
        let data = MLPData(configuration: model, seed: 3)
        for (pp, executor) in executors.enumerated() {
            executor.pairOrder = order
            executor.progress = { [log = logs[pp]] in log.events.append(.poll) }
            executor.begin(data: { data.batch($0) }, lossGradient: 1 / Float(m), forwardOnly: false)
        }
        try network.run(interpreters)

        var actionsSeen = 0
        for pp in 0..<ranks {
            let events = logs[pp].events
            for case .compute(let action) in lowered.programs[pp] {
                // The outputs made inside the action: a pair's forward activation and the input gradient.
                let b: Chunk, inside: [Chunk]
                switch action {
                case .forwardBackward(let f, let backward): (b, inside) = (backward, [f, backward])
                case .backward(let backward): (b, inside) = (backward, [backward])
                default: continue
                }
                guard let w = events.firstIndex(of: .weightBegins(b)) else {
                    Issue.record("rank \(pp): no W for \(action)"); continue
                }
                var remote: [Int] = []
                for c in inside where c == b ? c.stage > 0 : c.stage < stages - 1 {
                    let consumer = Chunk(stage: c == b ? c.stage - 1 : c.stage + 1, microBatch: c.microBatch)
                    if configuration.schedule.rank(of: consumer) != pp { remote.append(2 * c.microBatch + (c == b ? 1 : 0)) }
                }
                for tag in remote {
                    let sent = events.firstIndex(of: .send(tag: tag))
                    #expect(sent != nil && sent! < w, "rank \(pp), \(action): the send with tag \(tag) was posted at event \(sent.map(String.init) ?? "never"), its W began at event \(w)")
                }
                if order == .sequential, case .forwardBackward(let f, _) = action, remote.contains(2 * f.microBatch) {
                    let sent = events.firstIndex(of: .send(tag: 2 * f.microBatch)), built = events.firstIndex(of: .backwardBuilt(b))
                    #expect(sent != nil && built != nil && sent! < built!, "rank \(pp), \(action): the forward's output was posted at event \(sent.map(String.init) ?? "never"), its B began at \(built.map(String.init) ?? "never")")
                }
                actionsSeen += remote.isEmpty ? 0 : 1
            }
            let products = events.indices.filter { events[$0] == .product }
            #expect(!products.isEmpty, "rank \(pp) logged no W product")
            for i in products {
                #expect(i + 1 < events.count && events[i + 1] == .poll, "rank \(pp): W product at event \(i) is not followed by a poll")
            }
        }
        #expect(actionsSeen > 0, "\(kind) \(order): no FB or BW with an output for the other rank: the schedule did not test the rule")
    }
}
