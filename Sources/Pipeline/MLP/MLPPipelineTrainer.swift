import MPI
import Model
import Schedule
import Tensor

/// The pipeline trainer of `--model mlp`: the same interpreter, executor and gradient sums as
/// `PipelineTrainer`, over `MLPStage`s (no experts, EP 1). Its losses equal `MLPReference`'s bit
/// for bit; it exists to run the arithmetic of DeepSeek's DualPipe example under every schedule.
public final class MLPPipelineTrainer {
    public let configuration: PipelineConfiguration
    public let model: MLPConfiguration
    public let training: TrainingConfiguration
    public let grid: RankGrid
    /// The stages this rank holds, ascending.
    public let stages: [MLPStage]
    public let schedule: Schedule
    /// Runs the compute actions: its `pairOrder` and `pollsBetweenPhases` are the run's settings.
    public let executor: StageExecutor
    let trainPass: Interpreter<MPITransport>
    let pool: BufferPool
    let sums: StageGradientSums
    /// AdamW sharded over the mirror pair (nil: every copy updates every held stage).
    let mirrorShards: MirrorShardedUpdate?
    var optimizers: [AdamW]
    let data: MLPData
    /// `--comm-timeout` for the waits after the schedule (nil: none).
    let watchdog: CollectiveWatchdog?
    public private(set) var nextStep = 0
    /// Buffers the message pool has created so far (flat after the first step).
    public var messageBuffers: Int { pool.allocated }

    /// `earlySums` false runs every gradient sum after the schedule (see `StageGradientSums`);
    /// `shardOptimizer` as `PipelineTrainer`'s.
    public init(configuration: PipelineConfiguration, model: MLPConfiguration, training: TrainingConfiguration,
                grid: RankGrid, seed: UInt64, commTimeout: Double? = nil, earlySums: Bool = true, shardOptimizer: Bool? = nil) throws {
        precondition(configuration.expertParallel == 1, "--model mlp runs with EP 1")
        precondition(training.microBatches == configuration.globalMicroBatches,
                     "training counts \(training.microBatches) micro-batches a step, the grid runs \(configuration.globalMicroBatches)")
        self.configuration = configuration
        self.model = model
        self.training = training
        self.grid = grid
        let pp = grid.pipelineRank, stageCount = configuration.partition.stages
        stages = configuration.stagesHeld(byPipelineRank: pp).map {
            MLPStage(index: $0, stages: stageCount, blocksPerStage: configuration.partition.blocksPerStage, configuration: model, seed: seed)
        }
        schedule = Schedule(configuration.schedule)
        executor = StageExecutor(configuration: configuration, pipelineRank: pp, stages: stages)
        pool = BufferPool(capacity: model.tokensPerMicroBatch * model.hidden)
        let programs = schedule.lowered().programs
        trainPass = Interpreter(program: programs[pp], pipelineRank: pp, transport: MPITransport(grid.pipeline),
                                executor: executor, pool: pool, messageShape: [model.tokensPerMicroBatch, model.hidden])
        trainPass.commTimeout = commTimeout
        watchdog = try commTimeout.map { try CollectiveWatchdog.ending(rank: grid.world.rank, timeout: $0) }
        let held = Dictionary(uniqueKeysWithValues: stages.map { ($0.index, $0) })
        let pair = try OptimizerSharding.pair(configuration: configuration, grid: grid)
        mirrorShards = try OptimizerSharding.resolve(shardOptimizer, configuration: configuration, pair: pair)
            ? try MirrorShardedUpdate(owned: .init(denseStage: held[pp]!), mirrored: .init(denseStage: held[configuration.pipelineRanks - 1 - pp]!),
                                  pair: pair!) : nil
        sums = try StageGradientSums(stages: mirrorShards?.sumsGradients == true ? [] : stages, experts: { _ in [] }, replicas: grid.replicas,
                                     early: earlySums ? SumStarts.early(programs: programs, stagesHeld: configuration.stagesHeld,
                                                                        pipelineRank: pp) : [:])
        sums.follow(trainPass)
        executor.progress = { [unowned trainPass, unowned sums] in
            trainPass.progressPending()
            sums.progress()
        }
        optimizers = stages.map { _ in AdamW(beta1: training.beta1, beta2: training.beta2, weightDecay: training.weightDecay) }
        data = MLPData(configuration: model, seed: seed)
    }

    /// The held stages whose gradient sums start during the schedule (`StageGradientSums`).
    public var earlySumStages: [Int] { sums.earlyStages }

    /// Whether AdamW is sharded over the mirror pair (`MirrorShardedUpdate`).
    public var shardsOptimizer: Bool { mirrorShards != nil }

    /// The parameters this rank holds (a weight and a gradient each), and those it runs AdamW on
    /// (two moments each).
    public var parameterCounts: (held: Int, updated: Int) {
        (stages.reduce(0) { $0 + $1.parameterCount }, stages.filter(updates).reduce(0) { $0 + $1.parameterCount })
    }

    /// Whether this rank runs AdamW on `stage`: every held one, or sharded the one it owns.
    func updates(_ stage: MLPStage) -> Bool { mirrorShards == nil || stage.index == grid.pipelineRank }

    /// The held stages whose gradients are both copies' sum after the step's sums: every one, or
    /// with AdamW sharded the one this rank updates (the other's went to its partner).
    public var summedStages: [MLPStage] {
        mirrorShards?.sumsGradients == true ? stages.filter { $0.index == grid.pipelineRank } : stages
    }

    /// The held stages that count once in global sums.
    public var primaryStages: [MLPStage] {
        let primary = Set(configuration.primaryStages(ofPipelineRank: grid.pipelineRank))
        return stages.filter { primary.contains($0.index) }
    }

    /// One step: the schedule, the gradient sums over stage copies, `inspect` (before anything
    /// changes), clipping and AdamW. Collective over the world.
    public func step(keepTrace: Bool = false, inspect: (Int, [Float]) throws -> Void = { _, _ in }) throws -> PipelineStepReport {
        let step = nextStep
        for stage in stages { stage.zeroGradients() }
        // Only the parts this rank uses: inputs where it runs a micro-batch's first stage, targets
        // where it runs its last.
        let schedule = configuration.schedule, pp = grid.pipelineRank
        executor.begin(data: { [data] mb in
            let ends = schedule.runsEnds(of: mb, onRank: pp)
            return data.batch(mb, input: ends.first, targets: ends.last)
        }, lossGradient: 1 / Float(configuration.globalMicroBatches), forwardOnly: false)
        try watchdog.guarding(StepWaits.barrier(step)) { try grid.world.barrier() }
        let start = monotonicSeconds()
        trainPass.recorder.reset(origin: start, keepEvents: keepTrace)
        trainPass.stepNumber = step
        try trainPass.run()
        let pipelineEnd = monotonicSeconds()

        // Each phase after the schedule is a span of the trace (`StepRecorder.phase`).
        let phases = trainPass.recorder
        var syncBytes = try sync.sumGradients(step: step, phases: phases)
        var losses = [Float](repeating: 0, count: configuration.globalMicroBatches)
        for (mb, loss) in executor.losses { losses[mb] = loss }
        try phases.phase("losses") { try watchdog.guarding(StepWaits.losses(step)) { try grid.world.allreduce(&losses, op: .sum) } }
        try inspect(step, losses)
        let norm = try phases.phase("gradient norm") {
            try watchdog.guarding(StepWaits.gradientNorm(step)) {
                try grid.sumInGridOrder(primaryStages.reduce(0.0) { $0 + GradientClipping.sumOfSquares($1) }).squareRoot()
            }
        }
        let factor = GradientClipping.scale(globalNorm: norm, maxNorm: training.clipNorm)
        let lr = training.schedule.rate(at: step)
        phases.phase("AdamW") {
            for (s, stage) in stages.enumerated() where updates(stage) {
                optimizers[s].update(stage, gradientScale: factor, learningRate: lr)
            }
        }
        syncBytes += try sync.shareWeights(step: step, phases: phases)
        let end = monotonicSeconds()
        nextStep += 1

        return try watchdog.guarding(StepWaits.report(step)) {
            try PipelineStepReport.gathered(
                world: grid.world, step: step, losses: losses, gradientNorm: norm, learningRate: lr,
                tokens: configuration.globalMicroBatches * model.tokensPerMicroBatch, recorder: trainPass.recorder,
                start: start, pipelineEnd: pipelineEnd, end: end, syncBytes: syncBytes, keepTrace: keepTrace)
        }
    }

    private var sync: StepSync {
        StepSync(sums: sums, mirrorShards: mirrorShards, watchdog: watchdog, partner: grid.mirrorPartnerWorldRank)
    }
}
