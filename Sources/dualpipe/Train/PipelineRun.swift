import ArgumentParser
import Foundation
import MPI
import Model
import Pipeline
import Schedule
import Tensor

/// `dualpipe train` under mpirun: checks the configuration on every rank (one message, from rank
/// 0, and every rank exits 64 on a bad one), builds the grid and the trainer, and runs the steps.
struct PipelineRun {
    let options: TrainCommand

    /// Everything decided from the flags and the world size, before any communication.
    struct Plan {
        var configuration: PipelineConfiguration
        var model: ModelConfiguration
        var training: TrainingConfiguration
        var balancing: ExpertBalancing
        var corpus: ByteCorpus
        /// With --schedule-file: the schedule to run.
        var schedule: Schedule?
        /// With --resume: the checkpoint to continue from.
        var resumeFrom: (folder: String, manifest: CheckpointManifest)?
        /// [PP] what each pipeline rank needs in memory, estimated from the shapes, the schedule and
        /// the nodes: checked against them before the start, shown in the header and after the last step.
        var rankMemory: [RankMemoryEstimate] = []
        /// With --check-reference: rank 0's second copy of the whole model, counted beside its share.
        var reference: ReferenceCopy?
        /// Whether every node fits its ranks' estimates (false: --skip-memory-check went past).
        var memoryFits = true
        /// With --checkpoint-dir: a checkpoint's size and the space its file system has.
        var checkpointSpace: CheckpointSpace?

        /// Whether --rebalance-every places the experts anew: with EP 1 a stage's one rank holds
        /// every expert (its replicas too), so a new placement would move nothing and balance no rank.
        var rebalancesExperts: Bool { balancing.rebalanceEvery > 0 && configuration.expertParallel > 1 }

        /// Every pipeline rank's estimate on the nodes `nodeOfRank` gives, AdamW sharded over the
        /// mirror pairs as `train` will shard it there.
        func memoryEstimates(shardedOptimizer requested: Bool?, nodeOfRank: [Int], checkpoints: Bool) -> [RankMemoryEstimate] {
            let lowered = (schedule ?? Schedule(configuration.schedule)).lowered()
            let sharded = OptimizerSharding.expected(requested, configuration: configuration, nodeOfRank: nodeOfRank)
            return (0..<configuration.pipelineRanks).map {
                configuration.memoryEstimate(ofPipelineRank: $0, model: model, lowered: lowered, shardedOptimizer: sharded, nodeOfRank: nodeOfRank,
                                             checkpoints: checkpoints)
            }
        }
    }

    func plan(worldSize: Int) throws -> Plan {
        let o = options
        // Its memory is checked per node, with the schedule's, in run().
        let model = try o.model.configuration(memory: nil)
        let kind = try ScheduleKind.named(o.schedule)
        // With --pp alone, EP is what completes the world.
        let ep = o.ep ?? o.pp.flatMap { $0 >= 1 && worldSize % $0 == 0 ? worldSize / $0 : nil }
            ?? PipelineConfiguration.defaultExpertParallel(kind: kind, worldSize: worldSize)
        guard ep >= 1 else { throw ConfigurationError("--ep must be at least 1, got \(ep)") }
        let pp = o.pp ?? max(1, worldSize / ep)
        let m = o.microBatches ?? PipelineConfiguration.defaultMicroBatches(kind: kind, pipelineRanks: pp)
        let configuration: PipelineConfiguration
        do {
            configuration = try PipelineConfiguration(kind: kind, pipelineRanks: pp, expertParallel: ep, microBatches: m,
                                                      stagesPerRank: o.stagesPerRank, model: model, replicas: o.experts.replicas, worldSize: worldSize).ordered(o.rankOrder.named ?? .pipeline)
        } catch {
            // Flags the user gave are named by the error itself; a defaulted factor needs saying.
            guard o.pp == nil || o.ep == nil else { throw error }
            throw ConfigurationError("\(error)" + gridHint(kind: kind, model: model, worldSize: worldSize, pipelineRanks: pp, expertParallel: ep))
        }
        try o.requireShardingApplies(to: configuration)
        let balancing = try o.balancing()
        if balancing.policy == .balanced, o.experts.replicas ?? 0 > model.experts * ep {
            throw ConfigurationError("--replicas \(o.experts.replicas!) exceeds the \(model.experts) experts x EP \(ep): the balanced policy never puts two replicas of an expert on one rank (--eplb-policy reference does)")
        }
        let corpus = try o.corpus()
        _ = try CorpusSplit(bytes: corpus.bytes.count, sequenceLength: model.sequenceLength, source: corpus.source)
        let training = o.trainingConfiguration(microBatches: configuration.globalMicroBatches)
        var resumeFrom: (folder: String, manifest: CheckpointManifest)?
        if o.recovery.resume, let directory = o.recovery.checkpointDir {
            let run = CheckpointManifest(configuration: configuration, model: model, training: training, balancing: balancing, step: 0, seed: o.seed)
            resumeFrom = try Checkpointer.newest(in: directory, for: run)
        }
        let schedule = try o.scheduleFile.map { try scheduleFromFile($0, configuration.schedule) }
        return Plan(configuration: configuration, model: model, training: training, balancing: balancing, corpus: corpus,
                    schedule: schedule, resumeFrom: resumeFrom)
    }

    /// A schedule read from a file: it must be for this run's kind, PP and M, and pass validation
    /// (compute program and lowered messages) unless --skip-schedule-validation.
    private func scheduleFromFile(_ path: String, _ configuration: ScheduleConfiguration) throws -> Schedule {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError("--schedule-file \(path) does not exist or cannot be read") }
        let text = String(decoding: data, as: UTF8.self)
        let schedule = path.hasSuffix(".json") ? try Schedule(json: text) : Schedule(configuration: configuration, program: try Schedule.program(csv: text))
        guard schedule.configuration == configuration else {
            throw ConfigurationError("--schedule-file \(path) holds \(schedule.configuration.title) on \(schedule.ranks) ranks with \(schedule.microBatches) micro-batches; this run is \(configuration.title) on PP \(configuration.ranks) with \(configuration.microBatches)")
        }
        guard !options.drills.skipScheduleValidation else { return schedule }
        do {
            try schedule.validate()
            try schedule.lowered().validate()
        } catch {
            throw ConfigurationError("--schedule-file \(path): \(error)")
        }
        return schedule
    }

    /// What follows an error about a grid that the defaults chose (PP, EP or both): where it came
    /// from, and the grids of this world that run the schedule on this model.
    private func gridHint(kind: ScheduleKind, model: ModelConfiguration, worldSize: Int, pipelineRanks: Int, expertParallel: Int) -> String {
        let o = options
        // A factor below 1 is its own error, with nothing to add.
        guard pipelineRanks >= 1 && expertParallel >= 1 else { return "" }
        let chosen = o.pp == nil && o.ep == nil ? "PP \(pipelineRanks) x EP \(expertParallel) is the default split of \(worldSize) rank(s)"
            : o.pp == nil ? "PP \(pipelineRanks) is \(worldSize) rank(s) / --ep \(expertParallel)"
            : worldSize % pipelineRanks == 0 ? "EP \(expertParallel) is \(worldSize) rank(s) / --pp \(pipelineRanks)"
            : "--pp \(pipelineRanks) does not divide \(worldSize) rank(s)"
        let grids = { (other: ScheduleKind, pp: Int?, ep: Int?, microBatches: Int?) in
            PipelineConfiguration.grids(kind: other, model: model, worldSize: worldSize, pipelineRanks: pp, expertParallel: ep,
                                        microBatches: microBatches, stagesPerRank: o.stagesPerRank(for: other, chosen: kind),
                                        replicas: o.experts.replicas)
        }
        let list = { (grids: [(pp: Int, ep: Int)]) in grids.map { "--pp \($0.pp) --ep \($0.ep)" }.joined(separator: ", ") }
        let these = grids(kind, o.pp, o.ep, o.microBatches)
        if !these.isEmpty { return " (\(chosen); these run it: \(list(these)))" }
        if let counts = o.microBatchesThatRun({ !grids(kind, pipelineRanks, expertParallel, $0).isEmpty }) {
            return " (\(chosen); it runs \(kind.title) with \(counts))"
        }
        let unconstrained = grids(kind, nil, nil, o.microBatches)
        if !unconstrained.isEmpty { return " (\(chosen); with the --pp/--ep given no grid runs \(kind.title) on this model; these do: \(list(unconstrained)))" }
        let others = ScheduleKind.allCases.filter { $0 != kind && !grids($0, nil, nil, o.microBatches).isEmpty }.map(\.rawValue)
        return " (\(chosen); no PP x EP of \(worldSize) rank(s) runs \(kind.title) on this model"
            + (others.isEmpty ? ")" : "; --schedule \(others.joined(separator: ", ")) would\(o.stagesPerRank == nil ? "" : " without --stages-per-rank"))")
            + o.oneRankHint(worldSize: worldSize)
    }

    /// The plan is made on every rank once MPI is up, before any communication; a bad one is
    /// refused once, by rank 0, and every rank exits 64 (`MPIJob`).
    ///
    /// With --checkpoint-dir, SIGUSR1 or SIGTERM stops the run after the step in progress, with a
    /// checkpoint, and every rank exits 75 (`StopSignals`).
    func run() throws {
        if options.recovery.checkpointDir != nil { StopSignals.install() }
        var plan: Plan?
        var nodes: (NodeLayout, [Int])?
        var stopped = false
        try MPIJob.run(threadLevel: options.progress.threadLevel,
                       check: { environment in
                           try MPIJob.agreeing(environment) { plan = try self.plan(worldSize: environment.world.size) }
                           (plan!.configuration, nodes) = try options.rankOrder.place(plan!.configuration, on: environment.world)
                           plan!.rankMemory = plan!.memoryEstimates(shardedOptimizer: options.optimizer.shardOptimizer, nodeOfRank: nodes!.1,
                                                                    checkpoints: options.recovery.checkpointDir != nil)
                           let (c, model) = (plan!.configuration, plan!.model)
                           // --check-reference: rank 0 trains the whole model a second time, in one process.
                           plan!.reference = options.output.checkReference ? ReferenceCopy(bytes: model.memoryEstimate.total, onEveryRank: false) : nil
                           plan!.memoryFits = try MPIJob.requireMemory(&plan!.rankMemory, of: c, world: environment.world,
                                                    run: "\(c.kind.title) on PP \(c.pipelineRanks) x EP \(c.expertParallel) with \(c.microBatches) micro-batches of \(model.microBatchSize) sequences of \(model.sequenceLength) tokens, hidden \(model.hidden)",
                                                    reference: plan!.reference, skip: options.memoryCheck.skip)
                           if let directory = options.recovery.checkpointDir {
                               let world = environment.world
                               try MPIJob.agreeing(environment) {
                                   let saves = ((plan!.resumeFrom?.manifest.step ?? 0)..<options.steps).filter(options.checkpoints(after:)).count
                                   plan!.checkpointSpace = try CheckpointSpace.require(directory, checkpointBytes: c.checkpointBytes(model: model), shards: world.size,
                                                                                       keep: options.recovery.keep, saves: saves, prints: world.rank == 0)
                               }
                           }
                       }) { environment in
            stopped = train(plan!, nodes: nodes!, environment: environment)
        }
        if stopped { throw ExitCode(StopSignals.exitStatus) }
    }

    /// Any error ends the whole job at once (MPI_Abort), while the trainer and its requests in
    /// flight are still alive: no peer is left waiting, and no buffer is freed under MPI. Returns
    /// whether the run stopped early on a signal.
    private func train(_ plan: Plan, nodes: (NodeLayout, [Int]), environment: Environment) -> Bool {
        let world = environment.world
        var trainer: PipelineTrainer?
        var progressThread: ProgressThread?
        defer { progressThread?.stop() }
        do {
            progressThread = try options.progress.start(environment)
            let grid = try RankGrid(world: world, configuration: plan.configuration, nodes: nodes)
            WeightDrawing.announce(parameters: Int(plan.model.memoryEstimate.parameterCount), lead: world.rank == 0)
            trainer = try PipelineTrainer(configuration: plan.configuration, model: plan.model, training: plan.training,
                                          balancing: plan.balancing, grid: grid, corpus: plan.corpus, seed: options.seed,
                                          schedule: plan.schedule, commTimeout: options.runtime.commTimeout, shardOptimizer: options.optimizer.shardOptimizer)
            let stopped = try train(plan, trainer: trainer!)
            withExtendedLifetime(trainer) {}
            return stopped
        } catch {
            printError("rank \(world.rank): error: \(error)")
            environment.abort(exitCode: 1)
        }
    }

    private func train(_ plan: Plan, trainer: PipelineTrainer) throws -> Bool {
        let o = options
        let world = trainer.grid.world
        trainer.failureDrill = try o.failureDrill()
        // Rank 0 also asks for the stop itself when the job's time limit is near (--stop-before-limit).
        let jobEnd = RunProgress.jobEnd(ProcessInfo.processInfo.environment)
        var timeStop = TimeLimitStop.forRun(o, lead: world.rank == 0, jobEnd: jobEnd)
        trainer.stopRequested = { StopSignals.requested || timeStop?.due(longestIteration: StopSignals.longestStepSeconds) == true }
        trainer.executor.pairOrder = o.pairOrder(expertParallel: plan.configuration.expertParallel, nodes: trainer.grid.nodes.nodeCount)
        trainer.executor.pollsBetweenPhases = o.progress.pollsBetweenPhases
        let check = o.output.checkReference ? try ReferenceCheck(trainer: trainer, corpus: plan.corpus, seed: o.seed) : nil
        let lead = world.rank == 0
        let (metrics, metricsKept) = lead ? try openMetrics(plan) : (nil, nil)
        let counts = try largestParameterCounts(trainer.parameterCounts, world: world)
        let threadWarning = BLASThreadBinding.warning(try BLASThreadBinding.gather(world))
        if lead { print(banner(plan, trainer: trainer, counts: counts, threadWarning: threadWarning)) }
        if let note = metrics?.replacementNote { print(note) }
        if let timeStop { print(timeStop.announcement()) }
        try resume(plan, trainer: trainer, metricsKept: metricsKept, lead: lead)
        if let check, let (folder, manifest) = plan.resumeFrom { try check.resume(from: folder, manifest: manifest) }
        guard trainer.nextStep < o.steps else {
            if lead { print("the checkpoint is at step \(trainer.nextStep): nothing left to train for --steps \(o.steps)") }
            return false
        }
        // A resumed run's first step is the checkpoint's, not 0.
        let firstStep = trainer.nextStep
        let outcome: RunProgress.TimeLimit.Outcome = o.recovery.checkpointDir == nil ? .lost
            : timeStop.map { .stopsBefore(margin: $0.margin) } ?? .stopsAtTheSignal
        // Rank 0 follows the job's end before each step, in which it may ask for the stop.
        var log = lead ? StepLog(metrics: metrics, progress: RunProgress(firstStep: firstStep, endStep: o.steps, timeLimit: jobEnd.map { .init(end: $0, outcome: outcome) },
                                                                    flopsPerToken: FlopCount(plan.model).total / Double(plan.model.tokensPerMicroBatch), ranks: world.size),
                                 jobEnd: jobEnd, memory: plan.rankMemory, reference: plan.reference,
                                 rankZeroPipelineRank: plan.configuration.grid.coordinates(of: 0).pipeline) : nil
        for step in firstStep..<o.steps {
            let iterationStart = monotonicSeconds()
            if let end = log?.movedJobEnd() {
                timeStop?.end = end
                print("time limit: the job's end moved to \(TimeLimitStop.when(end))" + (timeStop.map { "; " + $0.stopsWhen } ?? ""))
            }
            defer { StopSignals.noteStep(seconds: monotonicSeconds() - iterationStart) }
            let done = try runStep(step, plan: plan, trainer: trainer, check: check)
            if log != nil { try printAfterStep(done, since: iterationStart, plan: plan, trainer: trainer, check: check, timeStop: timeStop, log: &log!) }
            if done.stopping { return true }
        }
        return false
    }

    /// A step as every rank ends it.
    private struct FinishedStep {
        var step: Int
        var report: PipelineStepReport
        /// The held-out loss after it (--eval-every), and each micro-batch's.
        var evaluation: (loss: Float, microBatchLosses: [Float])?
        var rebalance: (PipelineTrainer.RebalanceReport, String?)?
        var checkpoint: (folder: String, seconds: Double)?
        /// Whether the run stops after it, on a signal or the time limit some rank saw.
        var stopping: Bool
    }

    /// Step `step` on every rank: trained, compared with --check-reference, evaluated, rebalanced
    /// and checkpointed where the flags ask, and the stop agreed on.
    private func runStep(_ step: Int, plan: Plan, trainer: PipelineTrainer, check: ReferenceCheck?) throws -> FinishedStep {
        let o = options
        let traced = o.keepsTrace && step == o.tracedStep
        let report = try trainer.step(keepTrace: traced) { step, losses in try check?.compare(step: step, losses: losses) }
        try check?.afterUpdate(step: step)
        let evaluation = o.evaluates(after: step) ? try trainer.evaluate() : nil
        if let evaluation { try check?.compareEvaluation(step: step, losses: evaluation.microBatchLosses) }
        let rebalance = plan.rebalancesExperts && (step + 1) % plan.balancing.rebalanceEvery == 0
            ? try rebalanceChecked(trainer, checking: check != nil) : nil
        // A signal that some rank saw during the step stops every rank after it (after the last
        // step there is nothing left to stop).
        let stopping = report.stopRequests > 0 && step < o.steps - 1
        if report.stopRequests > 0 { StopSignals.agree() }
        var saved: (folder: String, seconds: Double)?
        if let options = o.checkpointing, o.checkpoints(after: step) || stopping {
            let start = monotonicSeconds()
            let last = stopping || step == o.steps - 1
            saved = (try Checkpointer.save(trainer, step: step + 1, seed: o.seed, options: options, last: last), monotonicSeconds() - start)
        }
        return FinishedStep(step: step, report: report, evaluation: evaluation, rebalance: rebalance, checkpoint: saved, stopping: stopping)
    }

    /// Rank 0's output after a step, in this order: the step's lines, the memory after the last, the
    /// checkpoint, the --metrics line and the progress, the stop, the trace.
    private func printAfterStep(_ done: FinishedStep, since iterationStart: Double, plan: Plan, trainer: PipelineTrainer, check: ReferenceCheck?,
                                timeStop: TimeLimitStop?, log: inout StepLog) throws {
        let (o, step, report) = (options, done.step, done.report)
        // --log-every: a step that a rebalance or a checkpoint (a stop's too) follows keeps its line.
        let logged = o.logs(step: step, firstStep: log.progress.firstStep) || done.rebalance != nil || done.checkpoint != nil
        try printStep(step, report, logged: logged, plan: plan, evaluation: done.evaluation, rebalance: done.rebalance, check: check)
        if let line = log.memoryLine(after: step, report, messageBuffers: trainer.messageBuffers) { print(line) }
        if let (folder, seconds) = done.checkpoint { print(String(format: "checkpoint after step %d: %@ (%.2f s)", step, folder, seconds)) }
        try log.record(step: step, report, evalLoss: done.evaluation?.loss, seconds: monotonicSeconds() - iterationStart,
                       checkpointSeconds: done.checkpoint?.seconds)
        if done.stopping || step == o.steps - 1 { print(log.progress.summary) }
        if done.stopping {
            print("stopped after step \(step) of \(o.steps): " + stopReasons(report.stopRequests, world: trainer.grid.world.size, timeStop: timeStop)
                  + "; continue with the same flags and --resume (exit status \(StopSignals.exitStatus))")
        }
        if let timelines = report.timelines {
            let c = plan.configuration
            try o.writeTrace(timelines, title: "\(c.kind.title), PP \(c.pipelineRanks) x EP \(c.expertParallel), step \(step)",
                             grid: c.grid, schedule: trainer.schedule, step: step)
        }
    }

    /// Rank 0's --metrics file; a resumed run continues it from the checkpoint's step, keeping the
    /// lines of the steps before it (`kept`, said once the checkpoint is restored).
    private func openMetrics(_ plan: Plan) throws -> (LineWriter?, ResumedMetrics.Kept?) {
        guard let path = options.output.metrics else { return (nil, nil) }
        guard let step = plan.resumeFrom?.manifest.step else { return (try LineWriter(path: path), nil) }
        return try ResumedMetrics.open(path: path, resumingAt: step)
    }

    /// With --resume: the checkpoint restored on every rank, and said once with what became of the
    /// --metrics file.
    private func resume(_ plan: Plan, trainer: PipelineTrainer, metricsKept: ResumedMetrics.Kept?, lead: Bool) throws {
        guard let (folder, manifest) = plan.resumeFrom else { return }
        let start = monotonicSeconds()
        try Checkpointer.restore(trainer, from: folder, manifest: manifest)
        if lead {
            let layout = manifest.layoutChange(to: plan.configuration).map { " (\($0))" } ?? ""
            print("resumed from \(folder) at step \(manifest.step)\(layout) in " + decimal(monotonicSeconds() - start, 2) + " s"
                  + (manifest.build.map { Build.same($0, Build.revision) ? "" : "; written by another build, \($0) (this one: \(Build.revision))" } ?? ""))
        }
        if let metricsKept, let path = options.output.metrics {
            let dropped = metricsKept.dropped == 0 ? "" : " (\(metricsKept.dropped) line(s) of later steps removed: this run trains them again)"
            print(metricsKept.kept == 0
                  ? "metrics: \(path) starts at step \(manifest.step): it held no line of an earlier step\(dropped)"
                  : "metrics: continuing \(path) after its \(metricsKept.kept) line(s) of steps before \(manifest.step)\(dropped)")
        }
    }

    /// Rank 0's lines for a step: the step line, the held-out loss, the rebalance and the
    /// --check-reference comparison, which ends the run on a mismatch.
    private func printStep(_ step: Int, _ report: PipelineStepReport, logged: Bool, plan: Plan, evaluation: (loss: Float, microBatchLosses: [Float])?,
                           rebalance: (PipelineTrainer.RebalanceReport, String?)?, check: ReferenceCheck?) throws {
        let meanWait = report.waitSeconds.reduce(0, +) / Double(report.waitSeconds.count)
        if logged {
            print(stepLine(step: step, loss: report.loss, lr: report.learningRate, gradientNorm: report.gradientNorm,
                           tokensPerSecond: report.tokensPerSecond,
                           String(format: "step %6.3fs  efficiency %.2f  MPI wait %6.3fs/rank  experts a2a %6.3fs/rank", report.stepSeconds,
                                  report.efficiency, meanWait, report.expertExchangeSeconds.reduce(0, +) / Double(max(1, report.expertExchangeSeconds.count)))))
        }
        if let evaluation {
            print(String(format: "eval %4d  loss %.4f  (held-out, %d micro-batches)", step, evaluation.loss, plan.configuration.globalMicroBatches))
        }
        if let (rebalanced, invariance) = rebalance {
            print(String(format: "rebalance after step %d (%@): %d of %d slots moved, %@ sent; busiest/mean rank load %.2f -> %.2f (worst layer, moving-average loads)",
                         step, plan.balancing.policy.rawValue, rebalanced.movedSlots, rebalanced.slots, mebibytes(rebalanced.sentBytes),
                         rebalanced.imbalanceBefore, rebalanced.imbalanceAfter) + (invariance.map { "; " + $0 } ?? ""))
        }
        if let check {
            if logged || !check.failures.isEmpty { print("check step \(step): \(check.summary)") }
            if !check.failures.isEmpty {
                throw PipelineError("--check-reference failed:\n  " + check.failures.joined(separator: "\n  "))
            }
        }
    }

    /// Why the run stops: the job's time limit (rank 0's own request) and the signals, from the
    /// count of ranks that asked (`requests`, of `world`).
    private func stopReasons(_ requests: Int, world: Int, timeStop: TimeLimitStop?) -> String {
        let byTime = timeStop?.reached == true
        // Rank 0 asks once, for its signal or the time limit or both.
        let signalled = requests - (byTime && StopSignals.names.isEmpty ? 1 : 0)
        var reasons: [String] = []
        if byTime, let timeStop { reasons.append(timeStop.reason()) }
        if signalled > 0 {
            let here = StopSignals.names.isEmpty ? "" : ", \(StopSignals.names.joined(separator: " and ")) on rank 0"
            reasons.append("a stop signal reached \(signalled) of \(world) rank(s)\(here)")
        }
        return reasons.joined(separator: "; ")
    }

    /// A rebalance; with --check-reference also the held-out loss before and after, which must be
    /// equal bit for bit (an expert computes the same rows wherever it lives), or within 1e-5 when
    /// some expert's replica count changed (its rows then run in other batch shapes).
    private func rebalanceChecked(_ trainer: PipelineTrainer, checking: Bool) throws -> (PipelineTrainer.RebalanceReport, String?) {
        let before = checking ? try trainer.evaluate().loss : nil
        let report = try trainer.rebalance()
        guard let before else { return (report, nil) }
        let after = try trainer.evaluate().loss
        if before.bitPattern == after.bitPattern { return (report, "held-out loss \(after) before and after, bit-identical") }
        let error = Double(abs(after - before)) / Double(abs(before))
        guard report.replicaCountsChanged && error <= ReferenceCheck.gradientTolerance else {
            throw PipelineError("--check-reference: the held-out loss changed across the rebalance: \(before) before, \(after) after")
        }
        return (report, "held-out loss \(before) before, \(after) after (replica counts changed; relative \(String(format: "%.1e", error)) <= 1e-5)")
    }
}
