import MPI
import Model
import Schedule
import Tensor

/// The pipeline trainer: every rank runs its lowered schedule over its stages (their experts
/// sharded over the EP group), gradients are summed over the copies of each stage and of each
/// expert, clipped by the global norm and applied by AdamW. Numbers equal the single-process
/// `ReferenceTrainer` run with M x EP micro-batches.
public final class PipelineTrainer {
    public let configuration: PipelineConfiguration
    public let model: ModelConfiguration
    /// `microBatches` is the step's global count, M x EP, as the reference sees it.
    public let training: TrainingConfiguration
    public let balancing: ExpertBalancing
    public let grid: RankGrid
    /// The stages this rank holds, ascending.
    public let stages: [Stage]
    public let schedule: Schedule
    /// Runs the compute actions: its `pairOrder` and `pollsBetweenPhases` are the run's settings.
    public let executor: StageExecutor
    let pool: BufferPool
    let trainPass: Interpreter<MPITransport>
    let evaluationPass: Interpreter<MPITransport>
    /// The sums over the copies of each stage and of each expert, started as each stage is final.
    let sums: StageGradientSums
    /// AdamW sharded over the mirror pair: each rank updates the stage it holds the primary copy
    /// of (nil: every copy updates every held stage).
    let mirrorShards: MirrorShardedUpdate?
    let optimizers: [StageOptimizer]
    public let loads: ExpertLoadTracker
    public let placer: ExpertPlacer
    let sampler: MicroBatchSampler
    let evaluationSampler: MicroBatchSampler
    public internal(set) var nextStep = 0
    /// The rank that fails on purpose, when and how (`--inject-failure`).
    public var failureDrill: FailureDrill?
    /// Asked on every rank once a step, as the losses are summed: whether this rank wants the run
    /// to stop (a signal, `StopSignals`). The report says how many ranks did, the same on all.
    public var stopRequested: () -> Bool = { false }
    /// `--comm-timeout` for the waits after the schedule (nil: none).
    let watchdog: CollectiveWatchdog?
    /// Deletes the checkpoints `--keep` no longer keeps, behind the steps that follow a save.
    let checkpointRemoval = CheckpointRemoval()

    /// `schedule` replaces the generated one (a schedule file); `commTimeout` is the watchdog;
    /// `earlySums` false runs every gradient sum after the schedule (see `StageGradientSums`);
    /// `shardOptimizer` shards AdamW over DualPipe's mirror pairs (`MirrorShardedUpdate`; nil:
    /// where each pair shares a node, as `OptimizerSharding.resolve` decides).
    public init(configuration: PipelineConfiguration, model: ModelConfiguration, training: TrainingConfiguration,
                balancing: ExpertBalancing = ExpertBalancing(), grid: RankGrid, corpus: ByteCorpus, seed: UInt64,
                schedule: Schedule? = nil, commTimeout: Double? = nil, earlySums: Bool = true, shardOptimizer: Bool? = nil) throws {
        precondition(training.microBatches == configuration.globalMicroBatches,
                     "training counts \(training.microBatches) micro-batches a step, the grid runs \(configuration.globalMicroBatches)")
        self.configuration = configuration
        self.model = model
        self.training = training
        self.balancing = balancing
        self.grid = grid
        let pp = grid.pipelineRank
        placer = ExpertPlacer(policy: balancing.policy, replicas: configuration.replicas, groups: model.groups,
                              nodes: grid.expertGroupNodes, ranks: configuration.expertParallel, logicalExperts: model.experts)
        // Every MoE block of the model, placed at once from uniform loads: the same on every rank.
        let moeBlocks = model.moeLayers.sorted()
        let initial = moeBlocks.isEmpty ? [:] : Dictionary(uniqueKeysWithValues: zip(moeBlocks, try placer.initial(layers: moeBlocks.count)))
        let ep = grid.expertRank, group = grid.expert
        stages = configuration.stagesHeld(byPipelineRank: pp).map { index in
            Stage(index: index, partition: configuration.partition, configuration: model, seed: seed) { block in
                ExpertParallelDispatcher(slots: ExpertSlots(block: block, phy2log: initial[block]!, rank: ep,
                                                            ranks: configuration.expertParallel, model: model, seed: seed),
                                         group: group, hidden: model.hidden)
            }
        }
        self.schedule = schedule ?? Schedule(configuration.schedule)
        let schedule = self.schedule
        executor = StageExecutor(configuration: configuration, pipelineRank: pp, stages: stages)
        let messageShape = [model.tokensPerMicroBatch, model.hidden]
        pool = BufferPool(capacity: model.tokensPerMicroBatch * model.hidden)
        let transport = MPITransport(grid.pipeline)
        let programs = schedule.lowered().programs
        trainPass = Interpreter(program: programs[pp], pipelineRank: pp, transport: transport,
                                executor: executor, pool: pool, messageShape: messageShape)
        evaluationPass = Interpreter(program: schedule.forwardOnly.lowered().programs[pp], pipelineRank: pp,
                                     transport: transport, executor: executor, pool: pool, messageShape: messageShape)
        trainPass.commTimeout = commTimeout
        evaluationPass.commTimeout = commTimeout
        watchdog = try commTimeout.map { try CollectiveWatchdog.ending(rank: grid.world.rank, timeout: $0) }
        let held = Dictionary(uniqueKeysWithValues: stages.map { ($0.index, $0) })
        let pair = try OptimizerSharding.pair(configuration: configuration, grid: grid)
        if try OptimizerSharding.resolve(shardOptimizer, configuration: configuration, pair: pair), let pair {
            // At EP 1 the pair is the replica group and sums the stages itself; at EP > 1 the
            // group's allreduce sums, and the pair only shares the weights.
            let (owned, mirrored) = (held[pp]!, held[configuration.pipelineRanks - 1 - pp]!)
            mirrorShards = configuration.expertParallel == 1
                ? try MirrorShardedUpdate(owned: .init(moeStage: owned), mirrored: .init(moeStage: mirrored), pair: pair)
                : try MirrorShardedUpdate(owned: .init(weightsOf: owned), mirrored: .init(weightsOf: mirrored), pair: pair)
        } else {
            mirrorShards = nil
        }
        sums = try StageGradientSums(stages: mirrorShards?.sumsGradients == true ? [] : stages, experts: { held[$0]!.expertSlots }, replicas: grid.replicas,
                                     early: earlySums ? SumStarts.early(programs: programs, stagesHeld: configuration.stagesHeld,
                                                                        pipelineRank: pp) : [:])
        sums.follow(trainPass)
        let dispatchers = stages.flatMap(\.expertDispatchers)
        executor.progress = { [unowned trainPass, unowned evaluationPass, unowned sums] in
            for dispatcher in dispatchers { dispatcher.progress() }
            trainPass.progressPending()
            evaluationPass.progressPending()
            sums.progress()
        }
        for dispatcher in stages.flatMap(\.expertDispatchers) { dispatcher.commTimeout = commTimeout }
        optimizers = stages.map { StageOptimizer(stage: $0, training: training) }
        loads = ExpertLoadTracker(layers: stages.flatMap(\.moeLayers), replicas: grid.replicas, decay: balancing.loadDecay)
        let split = try CorpusSplit(bytes: corpus.bytes.count, sequenceLength: model.sequenceLength, source: corpus.source)
        sampler = try MicroBatchSampler(corpus: corpus, sequenceLength: model.sequenceLength, sequences: model.microBatchSize,
                                        seed: seed, span: split.training)
        evaluationSampler = try MicroBatchSampler(corpus: corpus, sequenceLength: model.sequenceLength,
                                                  sequences: model.microBatchSize, seed: seed, span: split.evaluation)
    }

    /// The held stages whose gradient sums start during the schedule (`StageGradientSums`).
    public var earlySumStages: [Int] { sums.earlyStages }

    /// Whether AdamW is sharded over the mirror pair (`MirrorShardedUpdate`).
    public var shardsOptimizer: Bool { mirrorShards != nil }

    /// The parameters this rank holds (a weight and a gradient each), and those it runs AdamW on
    /// (two moments each).
    public var parameterCounts: (held: Int, updated: Int) {
        (stages.reduce(0) { $0 + $1.parameterCount }, updatedOptimizers.reduce(0) { $0 + $1.stage.parameterCount })
    }

    /// The optimizers this rank steps: the owned stage's when sharded, else every held stage's.
    var updatedOptimizers: [StageOptimizer] {
        guard mirrorShards != nil else { return optimizers }
        return optimizers.filter { $0.stage.index == grid.pipelineRank }
    }

    /// The optimizers of the stage the partner updates (none unless sharded).
    var mirroredOptimizers: [StageOptimizer] {
        guard mirrorShards != nil else { return [] }
        return optimizers.filter { $0.stage.index != grid.pipelineRank }
    }

    /// With AdamW sharded, gives the mirrored stage's optimizers the partner's moments, so that
    /// both copies hold them (before a checkpoint, which writes every held stage's). Collective
    /// over the pair; nothing otherwise.
    func completeMirroredMoments() throws {
        guard let mirrorShards, let owned = updatedOptimizers.first, let mirrored = mirroredOptimizers.first else { return }
        mirrored.states = try watchdog.guarding("the mirror pair's AdamW moments (a checkpoint's) after step \(nextStep - 1)") {
            try mirrorShards.exchange(states: owned.states, mirroredCount: mirrored.states.count)
        }
    }

    /// With AdamW sharded, drops the moments of the stage the partner updates (after a checkpoint
    /// or a restore filled them).
    func releaseMirroredMoments() {
        for optimizer in mirroredOptimizers { optimizer.reset() }
    }

    /// The held stages that count once in global sums.
    public var primaryStages: [Stage] {
        let primary = Set(configuration.primaryStages(ofPipelineRank: grid.pipelineRank))
        return stages.filter { primary.contains($0.index) }
    }

    /// Buffers the message pool has created so far (flat after the first step).
    public var messageBuffers: Int { pool.allocated }

    /// One step: the schedule over this step's micro-batches, the gradient sums, then `inspect`
    /// (with the step and its global micro-batch losses; the reference check compares there,
    /// before anything changes), clipping, AdamW and the load statistics. Collective over the world.
    public func step(keepTrace: Bool = false, inspect: (Int, [Float]) throws -> Void = { _, _ in }) throws -> PipelineStepReport {
        let step = nextStep
        for stage in stages { stage.zeroGradients() }
        loads.reset()
        let dispatchers = stages.flatMap(\.expertDispatchers)
        for dispatcher in dispatchers { dispatcher.resetTiming() }
        let base = grid.expertRank * configuration.microBatches
        executor.begin(data: { [sampler] mb in sampler.microBatch(step: step, index: base + mb) },
                       lossGradient: 1 / Float(configuration.globalMicroBatches), forwardOnly: false)
        try watchdog.guarding(StepWaits.barrier(step)) { try grid.world.barrier() }
        let start = monotonicSeconds()
        trainPass.recorder.reset(origin: start, keepEvents: keepTrace)
        let drill = failureDrill.flatMap { $0.step == step && $0.rank == grid.world.rank ? $0.mode : nil }
        trainPass.failAfterComputes = drill == .fail || drill == .kill ? trainPass.computeCount / 2 : nil
        trainPass.killsItself = drill == .kill
        trainPass.stepNumber = step
        try trainPass.run()
        let pipelineEnd = monotonicSeconds()
        if drill == .stall { FailureDrill.stall(rank: grid.world.rank, step: step) }

        // Each phase after the schedule is a span of the trace (`StepRecorder.phase`).
        let phases = trainPass.recorder
        var syncBytes = try sync.sumGradients(step: step, phases: phases)
        var losses = try phases.phase("losses") {
            try watchdog.guarding(StepWaits.losses(step)) { try gatherLosses(appending: stopRequested() ? 1 : 0) }
        }
        let stopRequests = Int(losses.removeLast())
        try inspect(step, losses)
        let norm = try phases.phase("gradient norm") { try watchdog.guarding(StepWaits.gradientNorm(step)) { try globalNorm() } }
        let factor = GradientClipping.scale(globalNorm: norm, maxNorm: training.clipNorm)
        let lr = training.schedule.rate(at: step)
        phases.phase("AdamW") {
            for optimizer in updatedOptimizers { optimizer.update(gradientScale: factor, learningRate: lr) }
        }
        syncBytes += try sync.shareWeights(step: step, phases: phases)
        try phases.phase("expert loads") {
            try watchdog.guarding("the expert loads of step \(step)") { try loads.record() }
            loads.balanceRouting(speed: balancing.routerBiasSpeed)
        }
        let end = monotonicSeconds()
        nextStep += 1

        let exchange = dispatchers.reduce(0) { $0 + $1.exchangeSeconds }, exchangeWait = dispatchers.reduce(0) { $0 + $1.exchangeWaitSeconds }
        var report = try watchdog.guarding(StepWaits.report(step)) {
            try PipelineStepReport.gathered(
                world: grid.world, step: step, losses: losses, gradientNorm: norm, learningRate: lr,
                tokens: configuration.globalMicroBatches * model.tokensPerMicroBatch, recorder: trainPass.recorder,
                start: start, pipelineEnd: pipelineEnd, end: end, syncBytes: syncBytes, keepTrace: keepTrace, extra: [exchange, exchangeWait])
        }
        report.expertExchangeSeconds = report.extraColumns[0]
        report.expertExchangeWaitSeconds = report.extraColumns[1]
        report.stopRequests = stopRequests
        return report
    }

    private var sync: StepSync {
        StepSync(sums: sums, mirrorShards: mirrorShards, watchdog: watchdog, partner: grid.mirrorPartnerWorldRank)
    }

    /// The global gradient norm over the model's unique parameters: the dense parameters of each
    /// stage's primary copy on EP rank 0, and each logical expert's primary replica there.
    func globalNorm() throws -> Double {
        var sum = 0.0
        for stage in primaryStages {
            if grid.expertRank == 0 { sum += GradientClipping.sumOfSquares(DenseParameters(stage)) }
            for layer in stage.expertSlots {
                for (k, expert) in layer.experts.enumerated() where layer.isPrimaryReplica(layer.localSlots.lowerBound + k) {
                    sum += GradientClipping.sumOfSquares(expert)
                }
            }
        }
        return try grid.sumInGridOrder(sum).squareRoot()
    }

    /// The forward-only pass of the same schedule over held-out micro-batches (the same ones at
    /// every call, drawn from the corpus tail that training never samples): no B, no W, no update.
    /// Returns the mean loss and the losses by global micro-batch id. Collective over the world.
    public func evaluate() throws -> (loss: Float, microBatchLosses: [Float]) {
        defer { loads.reset() }
        let base = grid.expertRank * configuration.microBatches
        executor.begin(data: { [evaluationSampler] mb in evaluationSampler.microBatch(step: 0, index: base + mb) },
                       lossGradient: 0, forwardOnly: true)
        evaluationPass.recorder.reset(origin: monotonicSeconds(), keepEvents: false)
        try evaluationPass.run()
        let losses = try watchdog.guarding("the evaluation's losses after step \(nextStep - 1)") { try gatherLosses() }
        return (ReferenceTrainer.meanLoss(losses), losses)
    }

    /// [M x EP] every micro-batch's loss on every rank. Each loss was computed on exactly one
    /// rank and the others add zeros, so the sum is exact. `appending` values ride along in the
    /// same sum, after the losses (small whole numbers, which a Float sums exactly).
    private func gatherLosses(appending extra: Float...) throws -> [Float] {
        var losses = [Float](repeating: 0, count: configuration.globalMicroBatches) + extra
        let base = grid.expertRank * configuration.microBatches
        for (mb, loss) in executor.losses { losses[base + mb] = loss }
        try grid.world.allreduce(&losses, op: .sum)
        return losses
    }

}
