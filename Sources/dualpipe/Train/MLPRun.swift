import ArgumentParser
import Foundation
import MPI
import Model
import Pipeline
import Schedule
import Tensor

/// `dualpipe train --model mlp`: DeepSeek's DualPipe example model (one `MLPBlock` per stage,
/// MSE against random targets) under any schedule, EP 1; with --reference, in one process. The
/// same arithmetic as the example, so its step time compares with DeepSeek's DualPipe on PyTorch
/// (bench/peer).
struct MLPRun {
    let options: TrainCommand

    func run() throws {
        let model = try options.model.mlpConfiguration()
        if options.reference { return try runReference(model) }
        var configuration: PipelineConfiguration?
        var nodes: (NodeLayout, [Int])?
        // [PP] each pipeline rank's estimate: checked against the nodes, then shown in the header.
        var memory: [RankMemoryEstimate] = []
        // With --check-reference: every rank's copy of the whole model (MLPReferenceCheck).
        var reference: ReferenceCopy?
        var memoryFits = true
        try MPIJob.run(threadLevel: options.progress.threadLevel, check: { environment in
            let world = environment.world
            try MPIJob.agreeing(environment) { configuration = try plan(worldSize: world.size) }
            (configuration, nodes) = try options.rankOrder.place(configuration!, on: world)
            let c = configuration!, lowered = Schedule(c.schedule).lowered()
            let sharded = OptimizerSharding.expected(options.optimizer.shardOptimizer, configuration: c, nodeOfRank: nodes!.1)
            memory = (0..<c.pipelineRanks).map {
                c.memoryEstimate(ofPipelineRank: $0, mlp: model, lowered: lowered, shardedOptimizer: sharded, nodeOfRank: nodes!.1)
            }
            reference = options.output.checkReference
                ? ReferenceCopy(bytes: RankMemoryEstimate.mlpReference(model, blocks: c.partition.layers, microBatches: c.globalMicroBatches).run, onEveryRank: true)
                : nil
            memoryFits = try MPIJob.requireMemory(&memory, of: c, world: world,
                                     run: "--model mlp, \(c.kind.title) on PP \(c.pipelineRanks) with \(c.microBatches) micro-batches of \(model.microBatchSize) sequences of \(model.sequenceLength) tokens, hidden \(model.hidden)",
                                     reference: reference, skip: options.memoryCheck.skip)
        }) { environment in
            let progressThread = try options.progress.start(environment)
            defer { progressThread?.stop() }
            try train(configuration!, nodes: nodes!, model, memory: memory, reference: reference, memoryFits: memoryFits, world: environment.world)
        }
    }

    /// The schedule on the job's ranks: PP defaults to the world size, M to 20 (the example's)
    /// or what the schedule needs.
    func plan(worldSize: Int) throws -> PipelineConfiguration {
        let o = options
        let kind = try ScheduleKind.named(o.schedule)
        let pp = o.pp ?? worldSize
        // A kind's configuration with `microBatches` (nil: --micro-batches, or the kind's default).
        let configure = { (other: ScheduleKind, microBatches: Int?) throws in
            let m = microBatches ?? o.microBatches ?? PipelineConfiguration.defaultMicroBatches(kind: other, pipelineRanks: min(pp, worldSize), atLeast: 20)
            return try PipelineConfiguration.mlp(kind: other, pipelineRanks: pp, microBatches: m,
                                                 stagesPerRank: o.stagesPerRank(for: other, chosen: kind),
                                                 blocks: o.model.layers, worldSize: worldSize)
        }
        let configuration: PipelineConfiguration
        do {
            configuration = try configure(kind, nil).ordered(o.rankOrder.named ?? .pipeline)
        } catch {
            // PP came from the world size, not from a flag the error names: say so, and what runs.
            guard o.pp == nil else { throw error }
            let grid = "(PP \(pp) is the world size: --model mlp runs one pipeline rank per MPI rank"
            if let counts = o.microBatchesThatRun({ (try? configure(kind, $0)) != nil }) {
                throw ConfigurationError("\(error) \(grid); it runs \(kind.title) with \(counts))")
            }
            let others = ScheduleKind.allCases.filter { $0 != kind && (try? configure($0, nil)) != nil }.map(\.rawValue)
            throw ConfigurationError("\(error) \(grid)"
                + (others.isEmpty ? ")" : "; --schedule \(others.joined(separator: ", ")) would run on \(worldSize) rank(s)\(o.stagesPerRank == nil ? "" : " without --stages-per-rank"))")
                + o.oneRankHint(worldSize: worldSize))
        }
        try o.requireShardingApplies(to: configuration)
        return configuration
    }

    private func train(_ configuration: PipelineConfiguration, nodes: (NodeLayout, [Int]), _ model: MLPConfiguration,
                       memory: [RankMemoryEstimate], reference: ReferenceCopy?, memoryFits: Bool, world: Communicator) throws {
        let o = options
        let grid = try RankGrid(world: world, configuration: configuration, nodes: nodes)
        let parameters = configuration.partition.layers * 8 * model.hidden * model.hidden
        WeightDrawing.announce(parameters: parameters, lead: world.rank == 0)
        let trainer = try MLPPipelineTrainer(configuration: configuration, model: model,
                                             training: o.trainingConfiguration(microBatches: configuration.globalMicroBatches),
                                             grid: grid, seed: o.seed, commTimeout: o.runtime.commTimeout, shardOptimizer: o.optimizer.shardOptimizer)
        trainer.executor.pairOrder = o.pairOrder(expertParallel: 1, nodes: grid.nodes.nodeCount)
        trainer.executor.pollsBetweenPhases = o.progress.pollsBetweenPhases
        let check = o.output.checkReference ? try MLPReferenceCheck(trainer: trainer, seed: o.seed) : nil
        let lead = world.rank == 0
        let metrics = lead ? try o.output.metrics.map { try LineWriter(path: $0) } : nil
        let counts = try largestParameterCounts(trainer.parameterCounts, world: world)
        let threadWarning = BLASThreadBinding.warning(try BLASThreadBinding.gather(world))
        if lead {
            let perStage = configuration.partition.blocksPerStage
            print("dualpipe train --model mlp (build \(Build.describe)): \(configuration.schedule.title) on PP \(configuration.pipelineRanks) = \(world.size) ranks on \(grid.nodes.nodeCount) node(s); \(ComputeSetup.kernelsDescription), \(BLAS.threadCount) thread(s) per rank; MPI progress: \(o.progress.mode.rawValue)\(IdleYield.note); \(MessageTransports.description)")
            if let threadWarning { print(threadWarning) }
            print("model: \(configuration.partition.stages) stages of \(perStage) block\(perStage > 1 ? "s" : "") (\(model.hidden) -> \(model.inner) -> \(model.hidden), exact GELU, no biases), \(parameters) parameters; \(configuration.microBatches) micro-batches of \(model.microBatchSize) x \(model.sequenceLength) rows, random inputs and targets (seed \(o.seed)), MSE loss" + trainer.executor.pairDescription(trainer.schedule))
            if configuration.rankOrder == .mirror { print(MirrorPlacement.orderLine(configuration, choice: o.rankOrder)) }
            if let warning = MirrorPlacement.warning(grid: grid, configuration: configuration, stages: trainer.stages) { print(warning) }
            if let line = earlySumsLine(trainer.earlySumStages, pipelineRank: grid.pipelineRank) { print(line) }
            print(optimizerLine(configuration, sharded: trainer.shardsOptimizer, counts: counts))
            print(memoryLine(memory, reference: reference, fits: memoryFits))
            for pp in 0..<configuration.pipelineRanks {
                print("  pp \(pp): holds stage\(configuration.stagesHeld(byPipelineRank: pp).count > 1 ? "s" : "") \(listed(configuration.stagesHeld(byPipelineRank: pp)))")
            }
            print(trainer.schedule.text().split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            if let note = metrics?.replacementNote { print(note) }
        }
        var schedules: [Double] = []
        let jobEnd = RunProgress.jobEnd(ProcessInfo.processInfo.environment)
        // The estimate goes by the job's end as slurm/train.sbatch re-reads it, as the MoE run's does.
        var log = lead ? StepLog(metrics: metrics, progress: RunProgress(firstStep: 0, endStep: o.steps, timeLimit: jobEnd.map { .init(end: $0, outcome: .lost) },
                                                                    flopsPerToken: model.flopsPerMicroBatch(blocks: configuration.partition.layers) / Double(model.tokensPerMicroBatch),
                                                                    ranks: world.size),
                                 jobEnd: jobEnd, memory: memory, reference: reference,
                                 rankZeroPipelineRank: configuration.grid.coordinates(of: 0).pipeline) : nil
        for step in 0..<o.steps {
            let iterationStart = monotonicSeconds()
            if let end = log?.movedJobEnd() { print("time limit: the job's end moved to \(TimeLimitStop.when(end))") }
            let traced = o.keepsTrace && step == o.tracedStep
            let report = try trainer.step(keepTrace: traced) { step, losses in try check?.compare(step: step, losses: losses) }
            check?.afterUpdate()
            if step > 0 || o.steps == 1 { schedules.append(report.pipelineSeconds) }
            guard log != nil else { continue }
            let meanWait = report.waitSeconds.reduce(0, +) / Double(report.waitSeconds.count)
            let logged = o.logs(step: step, firstStep: 0)
            if logged {
                print(stepLine(step: step, loss: report.loss, lr: report.learningRate, gradientNorm: report.gradientNorm,
                               tokensPerSecond: report.tokensPerSecond,
                               String(format: "step %6.3fs  schedule %6.3fs  efficiency %.2f  MPI wait %6.3fs/rank",
                                      report.stepSeconds, report.pipelineSeconds, report.efficiency, meanWait)))
            }
            if let check {
                if logged || !check.failures.isEmpty { print("check step \(step): \(check.summary)") }
                if !check.failures.isEmpty {
                    throw PipelineError("--check-reference failed:\n  " + check.failures.joined(separator: "\n  "))
                }
            }
            if let line = log!.memoryLine(after: step, report, messageBuffers: trainer.messageBuffers) { print(line) }
            if let timelines = report.timelines {
                try o.writeTrace(timelines, title: "\(configuration.kind.title) --model mlp, PP \(configuration.pipelineRanks), step \(step)",
                                 grid: configuration.grid, schedule: trainer.schedule, step: step)
            }
            try log!.record(step: step, report, evalLoss: nil, seconds: monotonicSeconds() - iterationStart)
        }
        if let log {
            print(log.progress.summary)
            print(String(format: "median schedule time %.3f s over %d step(s)%@", median(schedules), schedules.count, o.steps > 1 ? " after the first" : ""))
        }
    }

    /// `--reference --model mlp`: every block in this process (--layers default 2, --micro-batches 20).
    private func runReference(_ model: MLPConfiguration) throws {
        let o = options
        let microBatches = o.microBatches ?? 20, blocks = o.model.layers ?? 2
        guard blocks >= 1 && blocks <= ModelLimits.layers else { throw ValidationError("--layers \(blocks) must be in 1...\(ModelLimits.layers)") }
        try requireReferenceFits(model, blocks: blocks, microBatches: microBatches)
        let reference: MLPReference
        do {
            reference = try MLPReference(configuration: model, training: o.trainingConfiguration(microBatches: microBatches), stages: 1,
                                         blocksPerStage: blocks, seed: o.seed)
        } catch { throw ValidationError("\(error)") }
        let metrics = try o.output.metrics.map { try LineWriter(path: $0) }
        print("reference trainer --model mlp: \(blocks) block\(blocks > 1 ? "s" : "") (\(model.hidden) -> \(model.inner) -> \(model.hidden)), \(microBatches) micro-batches a step, \(ComputeSetup.kernelsDescription), \(BLAS.threadCount) thread(s)")
        if let note = metrics?.replacementNote { print(note) }
        var last = ContinuousClock.now
        for _ in 0..<o.steps {
            let report = reference.step()
            let now = ContinuousClock.now
            let seconds = (now - last).inSeconds
            last = now
            if o.logs(step: report.step, firstStep: 0) {
                print(stepLine(step: report.step, loss: report.loss, lr: report.learningRate, gradientNorm: report.gradientNorm,
                               tokensPerSecond: Double(report.tokens) / seconds, String(format: "step %6.3fs", seconds)))
            }
            let record = PipelineStepReport(
                step: report.step, loss: report.loss, microBatchLosses: reference.microBatchLosses, gradientNorm: report.gradientNorm,
                learningRate: report.learningRate, tokens: report.tokens, stepSeconds: seconds, pipelineSeconds: seconds,
                computeSeconds: [seconds], waitSeconds: [0], sentBytes: [0], syncBytes: [0], residentBytes: [residentBytes()], timelines: nil)
            try metrics?.write(try MetricsRecord(record, evalLoss: nil).jsonLine())
        }
    }

    /// The whole model in this one process against the machine's memory, before it is built, as
    /// `train --reference` holds the MoE model (with --skip-memory-check: a warning instead).
    private func requireReferenceFits(_ model: MLPConfiguration, blocks: Int, microBatches: Int) throws {
        let e = RankMemoryEstimate.mlpReference(model, blocks: blocks, microBatches: microBatches), gib = PhysicalMemory.formatted
        try options.memoryCheck.requireFits(run: e.run) { process, limit in
            "--model mlp --reference (\(blocks) block\(blocks > 1 ? "s" : "") of hidden \(model.hidden), \(microBatches) micro-batches of \(model.microBatchSize) sequences of \(model.sequenceLength) tokens) needs about \(gib(e.run)) to train: "
                + "\(gib(e.parameters)) for its \(8 * blocks * model.hidden * model.hidden) parameters with gradients and AdamW moments, \(gib(e.activations)) for one micro-batch's activations, "
                + "\(gib(e.data)) of inputs and targets; and \(gib(process)) for the process as it started; this machine has \(gib(Double(limit.bytes))) (\(limit.source))"
        }
    }
}
