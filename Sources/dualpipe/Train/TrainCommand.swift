import ArgumentParser
import Foundation
import Model
import MPI
import Pipeline
import Schedule
import Tensor

/// `dualpipe train`: the pipeline trainer under mpirun, or the single-process reference trainer
/// with --reference. Both print one line per step and write the same metrics format.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the MoE transformer on a byte-level corpus (or, with --model mlp, DeepSeek's DualPipe example model) over MPI ranks, or in one process with --reference.",
        discussion: """
            Under mpirun every rank holds its stages of a PP x EP grid (rank = pp * EP + ep) and runs the \
            schedule. The EP ranks of a pipeline rank each run their own micro-batches through the dense \
            layers and split every MoE layer's experts among them (all-to-all dispatch). With no flags, \
            `mpirun -np 8 dualpipe train` trains the default model with DualPipe on PP 4 x EP 2.
            """)

    @Flag(help: "Run the single-process reference trainer (no MPI): the oracle every parallel run is checked against.")
    var reference = false
    @Option(help: "Pipeline schedule: dualpipe, dualpipev, 1f1b, zb1p, gpipe, interleaved1f1b, zbv, interleavedzb or loopedbfs.")
    var schedule = "dualpipe"
    @Option(name: .customLong("stages-per-rank"), help: ArgumentHelp("With --schedule interleaved1f1b, interleavedzb or loopedbfs: the model chunks V each pipeline rank holds (Megatron-LM's virtual pipeline size), 2 to \(ScheduleConfiguration.maximumStagesPerRank); the model's blocks are cut into V x PP stages (default: 2). The other schedules' V is fixed.", valueName: "V"))
    var stagesPerRank: Int?
    @Option(help: "Pipeline ranks PP (default: the world size / EP).")
    var pp: Int?
    @Option(help: "Expert-parallel (data-parallel) ranks per pipeline rank (default: the world size / --pp when --pp is given; else 2 when the world size is even and >= 4, and for DualPipe a multiple of 4, so that PP is even; else 1). A grid that cannot run is refused with the grids of this world that can.")
    var ep: Int?
    @Option(name: .customLong("micro-batches"), help: ArgumentHelp("Micro-batches per step on each EP rank (default: 4 with --reference; otherwise at least 4 and what the schedule needs, 2 x PP for DualPipe; with --model mlp 20, or what the schedule needs if more).", valueName: "M"))
    var microBatches: Int?
    @Option(name: .customLong("rank-order"), help: ArgumentHelp("Which pipeline rank takes which block of EP consecutive world ranks: pipeline (pp 0, 1, 2, ...: world rank = pp x EP + ep), mirror (pp 0, PP-1, 1, PP-2, ...: each of DualPipe's mirror pairs side by side, so a node with a multiple of 2 x EP ranks holds whole pairs and their gradient sums stay inside it; DualPipe only), or auto: mirror when DualPipe's pairs would span nodes in pipeline order and fewer do in mirror order, else pipeline.", valueName: "auto|pipeline|mirror"))
    var rankOrder: RankOrderChoice = .auto
    @Option(help: "Optimizer steps.")
    var steps = 200
    @Option(help: "Training text, read as bytes (default: the licence texts in /usr/share/common-licenses). Its last 5% is held out for --eval-every.")
    var data: String?
    @Option(help: "Seed of the initialisation and of the data sampling, a whole number from 0 to 2^64 - 1 (default: 1).", transform: TrainCommand.seed)
    var seed: UInt64 = 1
    @Option(help: "With --reference: pipeline stages the model is cut into (numbers do not change).")
    var stages: Int?
    @Option(name: .customLong("schedule-file"), help: ArgumentHelp("Run this schedule (JSON, or CSV as `dualpipe schedule --format csv` writes it) instead of generating one; it must be for this --schedule, --pp and --micro-batches, and is validated first.", valueName: "FILE"))
    var scheduleFile: String?
    @OptionGroup(title: "Model") var model: ModelOptions
    @OptionGroup(title: "Experts") var experts: ExpertOptions
    @OptionGroup(title: "Optimizer") var optimizer: OptimizerOptions
    @OptionGroup(title: "Evaluation and output") var output: OutputOptions
    @OptionGroup(title: "Checkpoints and stopping") var recovery: RecoveryOptions
    @OptionGroup(title: "Runtime") var runtime: RuntimeOptions
    @OptionGroup(title: "Runtime") var progress: ProgressOptions
    @OptionGroup(title: "Runtime") var memoryCheck: MemoryCheckOption
    @OptionGroup(title: "Failure drills") var drills: DrillOptions

    /// --seed's value, refused with its rule (ArgumentParser's own message names none).
    static func seed(_ text: String) throws -> UInt64 {
        guard let seed = UInt64(text) else { throw ValidationError("a seed is a whole number from 0 to 2^64 - 1 (\(UInt64.max))") }
        return seed
    }

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard output.evalEvery >= 0 else { throw ValidationError("--eval-every must be >= 0 (0: never), got \(output.evalEvery)") }
        guard output.logEvery >= 1 else { throw ValidationError("--log-every must be at least 1 (1: every step), got \(output.logEvery)") }
        if let traceStep = output.traceStep, !(0..<steps).contains(traceStep) {
            throw ValidationError("--trace-step \(traceStep) is not a step of this run (0..<\(steps))")
        }
        if let microBatches, microBatches < 1 {
            throw ValidationError("--micro-batches must be at least 1, got \(microBatches)")
        }
        // An unknown --schedule is refused with the list of kinds by the run itself; --reference,
        // which has no V, below.
        if let stagesPerRank, !reference, let kind = try? ScheduleKind.named(schedule) {
            do { try ScheduleConfiguration.check(stagesPerRank: stagesPerRank, kind: kind) } catch {
                throw ValidationError("--stages-per-rank \(stagesPerRank): \(error)")
            }
        }
        // The reference holds the whole model in one process; under mpirun each rank's share is
        // checked against its node once the job is known (PipelineRun, MLPRun).
        // (With --skip-memory-check the run warns instead, once: validate may run more than once.)
        if reference && !model.isMLP && !memoryCheck.skip { try memoryCheck.requireFits(model.configuration(memory: nil)) }
        _ = try failureDrill()
        do { _ = try balancing() } catch { throw ValidationError("\(error)") }
        // The optimizer's rules for every trainer, before MPI starts (the micro-batch count is
        // checked with the grid, once the world size is known).
        do { try trainingConfiguration(microBatches: 1).validate() } catch { throw ValidationError(error.description) }
        try refuseFlagsOfAnotherTrainer()
        if output.traceStep != nil && !keepsTrace {
            throw ValidationError("--trace-step needs --trace FILE or --trace-svg FILE (the step they record)")
        }
        // Files first, so a typo ends the run before any work with the flag, the path and the reason.
        if let data { try Files.checkReadable(data, flag: "--data", regularFileOnly: true) }
        if let scheduleFile { try Files.checkReadable(scheduleFile, flag: "--schedule-file", regularFileOnly: true) }
        if let checkpointDir = recovery.checkpointDir {
            try Files.checkFolderWritable(checkpointDir, flag: "--checkpoint-dir")
            // A fresh run there would save beside another run's checkpoints, and --keep prunes by
            // step across both: the older run's could outlive this one's, or go unasked.
            if !recovery.resume, let newest = Checkpointer.list(checkpointDir).complete.first {
                throw ValidationError("--checkpoint-dir '\(checkpointDir)' already holds checkpoints (the newest: \(newest.path)): "
                                      + "continue that run with --resume, or train afresh in a new or empty folder")
            }
        }
        for (flag, path) in [("--metrics", output.metrics), ("--trace", output.trace), ("--trace-svg", output.traceSVG)] {
            if let path { try Files.checkWritable(path, flag: flag) }
        }
        guard recovery.checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be >= 0 (0: only after the last step), got \(recovery.checkpointEvery)") }
        guard runtime.commTimeout > 0 && runtime.commTimeout.isFinite else { throw ValidationError("--comm-timeout must be a positive number of seconds, got \(runtime.commTimeout)") }
        if drills.skipScheduleValidation && scheduleFile == nil { throw ValidationError("--skip-schedule-validation applies to --schedule-file") }
        guard recovery.keep >= 1 else { throw ValidationError("--keep must be at least 1, got \(recovery.keep)") }
        if recovery.checkpointDir == nil, let (flag, _) = recovery.flagsNeedingFolder.first(where: \.1) {
            throw ValidationError("\(flag) needs --checkpoint-dir DIR")
        }
        if let stopBeforeLimit = recovery.stopBeforeLimit, !(stopBeforeLimit >= 0 && stopBeforeLimit.isFinite) {
            throw ValidationError("--stop-before-limit must be a number of seconds >= 0 (0: never), got \(stopBeforeLimit)")
        }
    }

    /// Refuses a flag that the chosen trainer does not have (--model mlp's, --reference's), before
    /// any file is looked at: a folder's contents are no matter for a flag that cannot apply.
    private func refuseFlagsOfAnotherTrainer() throws {
        if model.isMLP {
            let moeOnly = [("--ep", ep.map { $0 != 1 } ?? false), ("--replicas", experts.replicas != nil), ("--eplb-policy", experts.eplbPolicy != "balanced"),
                           ("--rebalance-every", experts.rebalanceEvery != 0), ("--load-decay", experts.loadDecay != 0.9), ("--router-bias-speed", experts.routerBiasSpeed != 0),
                           ("--data", data != nil), ("--eval-every", output.evalEvery != 0)] + recovery.flags
                + [("--schedule-file", scheduleFile != nil), ("--inject-failure", drills.injectFailure != nil), ("--stages", stages != nil)]
            if let (flag, _) = moeOnly.first(where: \.1) {
                throw ValidationError("\(flag) applies to the MoE transformer, not to --model mlp")
            }
            if reference, let (flag, _) = [("--pp", pp != nil), ("--stages-per-rank", stagesPerRank != nil), ("--rank-order", rankOrder == .mirror), ("--check-reference", output.checkReference), ("--trace", output.trace != nil),
                                           ("--trace-svg", output.traceSVG != nil), ("--trace-step", output.traceStep != nil),
                                           ("--mpi-progress", progress.mode != .test), (shardOptimizerFlag, optimizer.shardOptimizer != nil)].first(where: \.1) {
                throw ValidationError("\(flag) applies to the pipeline trainer, not to --reference")
            }
        } else if reference {
            let pipelineOnly = [("--inject-failure", drills.injectFailure != nil), ("--schedule-file", scheduleFile != nil)] + recovery.flags + [("--replicas", experts.replicas != nil),
                                ("--rebalance-every", experts.rebalanceEvery != 0), ("--eplb-policy", experts.eplbPolicy != "balanced"), ("--pp", pp != nil), ("--ep", ep != nil), ("--stages-per-rank", stagesPerRank != nil), ("--rank-order", rankOrder == .mirror), ("--check-reference", output.checkReference),
                                ("--trace", output.trace != nil), ("--trace-svg", output.traceSVG != nil), ("--trace-step", output.traceStep != nil),
                                ("--mpi-progress", progress.mode != .test), (shardOptimizerFlag, optimizer.shardOptimizer != nil)]
            if let (flag, _) = pipelineOnly.first(where: \.1) {
                // The pipeline trainer on one rank is the reference's arithmetic, and it saves.
                let oneProcess = recovery.flags.contains { $0.0 == flag }
                    ? "; in one process the pipeline trainer saves and resumes: dualpipe train --schedule 1f1b --checkpoint-dir DIR (PP 1)" : ""
                throw ValidationError("\(flag) applies to the pipeline trainer, not to --reference\(oneProcess)")
            }
        } else if stages != nil {
            throw ValidationError("--stages applies to --reference; the pipeline's stages come from --schedule and --pp")
        }
    }

    func run() throws {
        try ComputeSetup.configure()
        // A bad flag is refused by the run itself, with its rule.
        if !reference, let floats = try? model.activationFloats() { MessageTransports.prepare(forMessagesOf: floats * MemoryLayout<Float>.size) }
        if model.isMLP {
            try MLPRun(options: self).run()
        } else if reference {
            try ReferenceRun(options: self).run()
        } else {
            try PipelineRun(options: self).run()
        }
    }

    /// --stages-per-rank for `kind` where a plan or a hint tries other schedules than `chosen`
    /// (--schedule): it is this run's, and of the others only the looped kinds take a V.
    func stagesPerRank(for kind: ScheduleKind, chosen: ScheduleKind) -> Int? {
        kind == chosen || kind.isLooped ? stagesPerRank : nil
    }

    /// Refuses `--shard-optimizer` for a grid without mirror pairs, before any communication (the
    /// MoE and the MLP trainers' plans both ask).
    func requireShardingApplies(to configuration: PipelineConfiguration) throws {
        if optimizer.shardOptimizer == true && !OptimizerSharding.applies(to: configuration) {
            throw ConfigurationError(OptimizerSharding.refusal(configuration))
        }
    }

    /// What follows a grid error on one rank, which is most often a run started without mpirun:
    /// how to start the default pipeline, and the one-process trainer.
    func oneRankHint(worldSize: Int) -> String {
        guard worldSize == 1 else { return "" }
        let (ranks, grid, flags) = model.isMLP ? (2, "PP 2", " --model mlp") : (8, "PP 4 x EP 2", "")
        return ". One rank: started without mpirun? `mpirun -np \(ranks) dualpipe train\(flags)` (or `scripts/launch \(ranks) ...`) "
            + "trains DualPipe on \(grid), and `dualpipe train\(flags) --reference` trains the same model in one process"
    }

    /// The nearest --micro-batches to the one given that `runs` on the grid (`MicroBatchCounts`).
    func microBatchesThatRun(_ runs: (Int) -> Bool) -> String? {
        microBatches.flatMap { MicroBatchCounts.nearest(to: $0, where: runs) }
    }

    /// The sharding flag as the user spelled it.
    var shardOptimizerFlag: String { optimizer.shardOptimizer == false ? "--no-shard-optimizer" : "--shard-optimizer" }

    /// How FB pairs run: as `--overlap` / `--no-overlap` say, else `PairOrder.default`.
    func pairOrder(expertParallel: Int, nodes: Int) -> StageExecutor.PairOrder {
        StageExecutor.PairOrder(overlap: runtime.overlap, expertParallel: expertParallel, nodes: nodes)
    }

    /// The optimizer settings for a step of `microBatches` micro-batches.
    func trainingConfiguration(microBatches: Int) -> TrainingConfiguration {
        TrainingConfiguration(steps: steps, microBatches: microBatches, learningRate: optimizer.lr, minimumLearningRate: optimizer.minLR,
                              warmupSteps: optimizer.warmup, weightDecay: optimizer.weightDecay, clipNorm: optimizer.clip)
    }

    func corpus() throws -> ByteCorpus {
        try data.map { try ByteCorpus(contentsOf: $0) } ?? ByteCorpus.standard()
    }

    /// --inject-failure RANK@STEP[:kill|:stall].
    func failureDrill() throws -> FailureDrill? {
        guard let injectFailure = drills.injectFailure else { return nil }
        let fields = injectFailure.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let mode = fields.count == 1 ? .fail : FailureDrill.Mode(rawValue: String(fields[1]))
        let parts = fields[0].split(separator: "@", omittingEmptySubsequences: false)
        guard let mode, mode != .fail || fields.count == 1, parts.count == 2, let rank = Int(parts[0]), let step = Int(parts[1]),
              rank >= 0, (0..<steps).contains(step) else {
            throw ValidationError("--inject-failure \(injectFailure) must be RANK@STEP, RANK@STEP:kill or RANK@STEP:stall with a rank >= 0 and a step in 0..<\(steps)")
        }
        return FailureDrill(step: step, rank: rank, mode: mode)
    }

    /// Whether a run with checkpoints stops itself before a known time limit (`--stop-before-limit`, not 0).
    var stopsBeforeLimit: Bool { recovery.stopBeforeLimit != 0 }

    var checkpointing: CheckpointOptions? {
        recovery.checkpointDir.map { CheckpointOptions(directory: $0, every: recovery.checkpointEvery, keep: recovery.keep, build: Build.revision) }
    }

    /// The header's word on what the run keeps and measures beside its steps, so that a long job
    /// says at its start where its checkpoints go and when its held-out loss comes (none: neither
    /// asked for). `heldOutMicroBatches`: the micro-batches an evaluation runs, M x EP; `space`: a
    /// checkpoint's size and the free space where they go, where measured.
    func persistenceLines(heldOutMicroBatches: Int, space: CheckpointSpace? = nil) -> [String] {
        var lines: [String] = []
        if let directory = recovery.checkpointDir {
            let every = recovery.checkpointEvery
            let size = space.map { ", about \(CheckpointSpace.decimal($0.checkpointBytes)) each (\(CheckpointSpace.decimal($0.free)) free there)" } ?? ""
            lines.append("checkpoints: in \(directory), " + (every > 0 ? "every \(every) step(s) and after the last" : "after the last step")
                         + ", the newest \(recovery.keep) kept\(size); SIGUSR1 or SIGTERM stops every rank after the step in progress with one (exit 75)")
        }
        if output.evalEvery > 0 {
            lines.append("evaluation: the held-out loss over \(heldOutMicroBatches) micro-batches of the corpus's last 5%, every \(output.evalEvery) step(s) and after the last")
        }
        return lines
    }

    /// Whether a checkpoint follows step `step` (0-based): every K steps and after the last.
    func checkpoints(after step: Int) -> Bool {
        recovery.checkpointDir != nil && (step == steps - 1 || (recovery.checkpointEvery > 0 && (step + 1) % recovery.checkpointEvery == 0))
    }

    func balancing() throws -> ExpertBalancing {
        let balancing = ExpertBalancing(policy: try PlacementPolicy.named(experts.eplbPolicy), loadDecay: experts.loadDecay,
                                        rebalanceEvery: experts.rebalanceEvery, routerBiasSpeed: experts.routerBiasSpeed)
        try balancing.validate()
        return balancing
    }

    var keepsTrace: Bool { output.trace != nil || output.traceSVG != nil }
    var tracedStep: Int { output.traceStep ?? steps - 1 }
    /// As with checkpoints, the last step always evaluates: a K longer than the run, or one that
    /// does not divide it, still ends with the held-out loss of the weights the run leaves.
    func evaluates(after step: Int) -> Bool { output.evalEvery > 0 && ((step + 1) % output.evalEvery == 0 || step == steps - 1) }

    /// Whether `step`'s line is printed (`--log-every`): every K-th step, the run's first (from
    /// `firstStep`, a resumed run's too) and last, and one that an evaluation or a checkpoint
    /// follows (the MoE run adds a rebalance's step, and a stop's, where it knows them).
    func logs(step: Int, firstStep: Int) -> Bool {
        (step + 1) % output.logEvery == 0 || step == firstStep || step == steps - 1 || evaluates(after: step) || checkpoints(after: step)
    }
}

/// The per-step line both trainers print; `scripts/plot-loss` reads its first four fields.
func stepLine(step: Int, loss: Float, lr: Float, gradientNorm: Float, tokensPerSecond: Double, _ rest: String) -> String {
    String(format: "step %4d  loss %.4f  lr %.2e  |g| %7.3f  tokens/s %8.0f  ", step, loss, lr, gradientNorm, tokensPerSecond) + rest
}

func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

/// `--rank-order`: one of `GridShape.RankOrder`, or auto, decided once the ranks' nodes are known.
enum RankOrderChoice: String, CaseIterable, ExpressibleByArgument {
    case auto, pipeline, mirror

    /// The order named, nil for auto.
    var named: GridShape.RankOrder? { GridShape.RankOrder(rawValue: rawValue) }

    /// `configuration` in the order named, or for auto in the order `GridShape.RankOrder.automatic`
    /// picks for these nodes (`nodeOfRank`: every world rank's node index).
    func resolve(_ configuration: PipelineConfiguration, nodeOfRank: [Int]) throws -> PipelineConfiguration {
        guard self == .auto else { return configuration }
        let c = configuration
        return try c.ordered(.automatic(isDualPipe: c.kind == .dualpipe, pipeline: c.pipelineRanks, expert: c.expertParallel,
                                        nodeOfRank: nodeOfRank))
    }

    /// The ranks' nodes (`RankGrid.nodes`) and `configuration` resolved on them. Runs find both in
    /// their check, before the memory check: it adds each node's ranks, and the order decides
    /// whether DualPipe's AdamW is sharded (which halves a rank's moments).
    func place(_ configuration: PipelineConfiguration, on world: Communicator) throws
        -> (configuration: PipelineConfiguration, nodes: (NodeLayout, [Int])) {
        let nodes = try RankGrid.nodes(of: world)
        return (try resolve(configuration, nodeOfRank: nodes.1), nodes)
    }
}
