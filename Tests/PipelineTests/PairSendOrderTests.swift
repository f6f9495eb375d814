import Model
import MPI
import Pipeline
import Schedule
import Tensor
import Testing

/// Where an FB pair's messages leave and where a W lets them progress, seen from one log per
/// rank: every send the transport is asked for, every weight-gradient product and every poll.
@Suite struct PairSendOrderTests {
    enum Event: Equatable {
        case send(tag: Int)
        case weightBegins(Chunk)
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
        func backwardInputPhases(_ mb: Int, _ outputGradient: Tensor) -> PhaseList { inner.backwardInputPhases(mb, outputGradient) }
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

    /// DualPipe on 2 ranks: each FB pair's outputs for the other rank (its forward's activation,
    /// its backward's input gradient) are posted before the pair's W begins, not after the pair;
    /// every W, in a pair or not, polls after each of its products.
    @Test func pairOutputsLeaveBeforeTheirWeightGradient() throws {
        let model = MLPConfiguration(hidden: 8, sequenceLength: 4, microBatchSize: 2), ranks = 2, m = 6
        let configuration = try PipelineConfiguration.mlp(kind: .dualpipe, pipelineRanks: ranks, microBatches: m, blocks: nil, worldSize: ranks)
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
            executor.progress = { [log = logs[pp]] in log.events.append(.poll) }
            executor.begin(data: { data.batch($0) }, lossGradient: 1 / Float(m), forwardOnly: false)
        }
        try network.run(interpreters)

        var pairsSeen = 0
        for pp in 0..<ranks {
            let events = logs[pp].events
            for case .compute(.forwardBackward(let f, let b)) in lowered.programs[pp].map({ $0 }) {
                guard let w = events.firstIndex(of: .weightBegins(b)) else {
                    Issue.record("rank \(pp): no W for the pair's backward \(b)"); continue
                }
                var remote: [Int] = []
                if f.stage < stages - 1, configuration.schedule.rank(of: Chunk(stage: f.stage + 1, microBatch: f.microBatch)) != pp {
                    remote.append(2 * f.microBatch)
                }
                if b.stage > 0, configuration.schedule.rank(of: Chunk(stage: b.stage - 1, microBatch: b.microBatch)) != pp {
                    remote.append(2 * b.microBatch + 1)
                }
                for tag in remote {
                    let sent = events.firstIndex(of: .send(tag: tag))
                    #expect(sent != nil && sent! < w, "rank \(pp), FB\(f)+\(b): the send with tag \(tag) was posted at event \(sent.map(String.init) ?? "never"), its W began at event \(w)")
                }
                pairsSeen += remote.isEmpty ? 0 : 1
            }
            let products = events.indices.filter { events[$0] == .product }
            #expect(!products.isEmpty, "rank \(pp) logged no W product")
            for i in products {
                #expect(i + 1 < events.count && events[i + 1] == .poll, "rank \(pp): W product at event \(i) is not followed by a poll")
            }
        }
        #expect(pairsSeen > 0, "no FB pair with an output for the other rank: the schedule did not test the rule")
    }
}
