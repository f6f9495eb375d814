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
    @Option(help: ArgumentHelp("Physical expert slots per MoE layer over the EP group, R / EP on each EP rank (default: the experts plus one per EP rank, rounded to a multiple of EP; with EP 1 the experts).", valueName: "R"))
    var replicas: Int?
    @Option(name: .customLong("eplb-policy"), help: "Expert placement, initial and at each rebalance: balanced (ours: never two replicas of an expert on a rank), reference (DeepSeek's eplb.py), or shift (a migration drill: every expert moves one EP rank on).")
    var eplbPolicy = "balanced"
    @Option(name: .customLong("rebalance-every"), help: ArgumentHelp("Every K steps, place the experts anew from the load statistics and migrate weights and AdamW moments (0: never).", valueName: "K"))
    var rebalanceEvery = 0
    @Option(name: .customLong("load-decay"), help: "Decay of the moving average of tokens per expert that rebalancing places by.")
    var loadDecay = 0.9
    @Option(name: .customLong("router-bias-speed"), help: ArgumentHelp("DeepSeek-V3's auxiliary-loss-free balancing: the per-expert routing bias moves by this much toward balance after each step (0: off).", valueName: "γ"))
    var routerBiasSpeed: Float = 0
    @Option(help: "Optimizer steps.")
    var steps = 200
    @Option(help: "Training text, read as bytes (default: the licence texts in /usr/share/common-licenses). Its last 5% is held out for --eval-every.")
    var data: String?
    @Option(help: "Seed of the initialisation and of the data sampling, a whole number from 0 to 2^64 - 1 (default: 1).", transform: TrainCommand.seed)
    var seed: UInt64 = 1
    @OptionGroup var model: ModelOptions
    @Option(help: "With --reference: pipeline stages the model is cut into (numbers do not change).")
    var stages: Int?
    @Option(help: "Peak learning rate.")
    var lr: Float = 3e-3
    @Option(name: .customLong("min-lr"), help: "Learning rate at the end of the cosine decay.")
    var minLR: Float = 3e-4
    @Option(help: "Linear warmup steps.")
    var warmup = 20
    @Option(name: .customLong("weight-decay"), help: "AdamW weight decay on matrices.")
    var weightDecay: Float = 0.1
    @Option(help: "Global gradient-norm clip, 0 for none.")
    var clip: Float = 1
    @Option(name: .customLong("eval-every"), help: ArgumentHelp("Every K steps, and after the last step, the loss of a forward-only pass over held-out data (0: never).", valueName: "K"))
    var evalEvery = 0
    @Flag(name: .customLong("check-reference"), help: "Rank 0 also runs the reference trainer and compares losses, gradients and stage copies every step; exits non-zero on a mismatch.")
    var checkReference = false
    @Option(help: ArgumentHelp("Write one JSON object per step to FILE. With --resume, FILE continues: the lines of steps before the checkpoint stay, those of later steps go.", valueName: "FILE"))
    var metrics: String?
    @Option(help: ArgumentHelp("Write a Chrome trace (Perfetto) of one step of every rank to FILE.", valueName: "FILE"))
    var trace: String?
    @Option(name: .customLong("trace-step"), help: ArgumentHelp("The step --trace and --trace-svg record (default: the last).", valueName: "N"))
    var traceStep: Int?
    @Option(name: .customLong("checkpoint-dir"), help: ArgumentHelp("Save checkpoints in DIR (one folder per saved step: a shard per rank, then manifest.json). With it, SIGUSR1 or SIGTERM (a time limit, preemption; mpirun forwards SIGUSR1) stops every rank after the step in progress, with a checkpoint, and exit status 75.", valueName: "DIR"))
    var checkpointDir: String?
    @Option(name: .customLong("checkpoint-every"), help: ArgumentHelp("With --checkpoint-dir: save every K steps, and after the last step (0: only after the last step).", valueName: "K"))
    var checkpointEvery = 0
    @Option(help: ArgumentHelp("With --checkpoint-dir: complete checkpoints to keep; older ones are deleted.", valueName: "N"))
    var keep = 2
    @Flag(help: "Continue from the newest complete checkpoint in --checkpoint-dir (the same model, schedule, PP and optimizer settings; EP may differ).")
    var resume = false
    @Option(name: .customLong("stop-before-limit"), help: ArgumentHelp("With --checkpoint-dir inside a batch job whose end is known (SLURM_JOB_END_TIME, or DUALPIPE_JOB_END as slurm/train.sbatch sets it): stop after the step that leaves less than SECONDS plus two of the longest steps before the time limit, with a checkpoint and exit status 75, as a signal would; 0: never (default: 60, or a quarter of the time left at the start if less).", valueName: "SECONDS"))
    var stopBeforeLimit: Double?
    @Flag(inversion: .prefixedNo, help: "Run each F&B pair's forward and backward phases alternately, so that each one's expert all-to-alls fly while the other computes; --no-overlap: F's phases, then B's (either way F's output leaves when F ends, B's gradient before W, and a late gradient is awaited after F). Default: alternate with EP > 1 or across nodes; F then B with EP 1 (and --model mlp) on one node, where nothing needs hiding and each pass keeps its caches.")
    var overlap: Bool?
    @Flag(name: .customLong("shard-optimizer"), inversion: .prefixedNo, help: "DualPipe: each rank of a mirror pair updates only the stage it holds the primary copy of, and sends the new weights to its partner (ZeRO-1 over the pair: one stage's AdamW moments a rank instead of two, and half the AdamW work, with the same bits as without). At EP 1 the pair also sums only that stage, sending the same bytes as before; at EP > 1 the sums over a stage's 2 x EP copies stay and the weights' transfer is added (the partner is the mirror at the same EP rank). --no-shard-optimizer: both copies sum and update both stages. Default: shard where each pair shares a node; across nodes the weights would cross the link after the schedule (and at EP 1 the unsharded sums hide one stage's swap under it).")
    var shardOptimizer: Bool?
    @Option(name: .customLong("comm-timeout"), help: ArgumentHelp("Watchdog: a wait longer than this (a pipeline message, an expert all-to-all, or after the schedule the gradient sums, the mirror pair's exchanges, the losses, the norm, the report, the barrier that starts a step) prints what it waited for (peer, tag, stage, micro-batch, step where it knows them) and ends the job.", valueName: "SECONDS"))
    var commTimeout: Double = 300
    @Option(name: .customLong("schedule-file"), help: ArgumentHelp("Run this schedule (JSON, or CSV as `dualpipe schedule --format csv` writes it) instead of generating one; it must be for this --schedule, --pp and --micro-batches, and is validated first.", valueName: "FILE"))
    var scheduleFile: String?
    @Flag(name: .customLong("skip-schedule-validation"), help: "Run --schedule-file even if it fails validation: a drill for the watchdog (a schedule that deadlocks hangs until --comm-timeout).")
    var skipScheduleValidation = false
    @Option(name: .customLong("inject-failure"), help: ArgumentHelp("Failure drill: world rank RANK throws halfway through step STEP's schedule (with :kill, kills itself with SIGKILL; with :stall, stops after the schedule, alive, until the --comm-timeout watchdog of the ranks waiting for it ends the job); the whole job must end, naming it.", valueName: "RANK@STEP[:kill|:stall]"))
    var injectFailure: String?
    @OptionGroup var progress: ProgressOptions
    @Option(name: .customLong("trace-svg"), help: ArgumentHelp("Draw the traced step's measured timeline, with the simulated one beneath, to FILE.", valueName: "FILE"))
    var traceSVG: String?
    @OptionGroup var memoryCheck: MemoryCheckOption

    /// --seed's value, refused with its rule (ArgumentParser's own message names none).
    static func seed(_ text: String) throws -> UInt64 {
        guard let seed = UInt64(text) else { throw ValidationError("a seed is a whole number from 0 to 2^64 - 1 (\(UInt64.max))") }
        return seed
    }

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard evalEvery >= 0 else { throw ValidationError("--eval-every must be >= 0 (0: never), got \(evalEvery)") }
        if let traceStep, !(0..<steps).contains(traceStep) {
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
        // Files first, so a typo ends the run before any work with the flag, the path and the reason.
        if let data { try Files.checkReadable(data, flag: "--data", regularFileOnly: true) }
        if let scheduleFile { try Files.checkReadable(scheduleFile, flag: "--schedule-file", regularFileOnly: true) }
        if let checkpointDir { try Files.checkFolderWritable(checkpointDir, flag: "--checkpoint-dir") }
        for (flag, path) in [("--metrics", metrics), ("--trace", trace), ("--trace-svg", traceSVG)] {
            if let path { try Files.checkWritable(path, flag: flag) }
        }
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be >= 0 (0: only after the last step), got \(checkpointEvery)") }
        guard commTimeout > 0 && commTimeout.isFinite else { throw ValidationError("--comm-timeout must be a positive number of seconds, got \(commTimeout)") }
        if skipScheduleValidation && scheduleFile == nil { throw ValidationError("--skip-schedule-validation applies to --schedule-file") }
        guard keep >= 1 else { throw ValidationError("--keep must be at least 1, got \(keep)") }
        if resume && checkReference {
            throw ValidationError("--check-reference replays the run from step 0 beside it, so it cannot follow --resume")
        }
        if checkpointDir == nil,
           let (flag, _) = [("--resume", resume), ("--checkpoint-every", checkpointEvery != 0), ("--stop-before-limit", stopBeforeLimit != nil)].first(where: \.1) {
            throw ValidationError("\(flag) needs --checkpoint-dir DIR")
        }
        if let stopBeforeLimit, !(stopBeforeLimit >= 0 && stopBeforeLimit.isFinite) {
            throw ValidationError("--stop-before-limit must be a number of seconds >= 0 (0: never), got \(stopBeforeLimit)")
        }
        if model.isMLP {
            let moeOnly = [("--ep", ep.map { $0 != 1 } ?? false), ("--replicas", replicas != nil), ("--eplb-policy", eplbPolicy != "balanced"),
                           ("--rebalance-every", rebalanceEvery != 0), ("--load-decay", loadDecay != 0.9), ("--router-bias-speed", routerBiasSpeed != 0),
                           ("--data", data != nil), ("--eval-every", evalEvery != 0), ("--checkpoint-dir", checkpointDir != nil),
                           ("--schedule-file", scheduleFile != nil), ("--inject-failure", injectFailure != nil), ("--stages", stages != nil)]
            if let (flag, _) = moeOnly.first(where: \.1) {
                throw ValidationError("\(flag) applies to the MoE transformer, not to --model mlp")
            }
            if reference, let (flag, _) = [("--pp", pp != nil), ("--stages-per-rank", stagesPerRank != nil), ("--rank-order", rankOrder == .mirror), ("--check-reference", checkReference), ("--trace", trace != nil),
                                           ("--trace-svg", traceSVG != nil), ("--trace-step", traceStep != nil),
                                           ("--mpi-progress", progress.mode != .test), (shardOptimizerFlag, shardOptimizer != nil)].first(where: \.1) {
                throw ValidationError("\(flag) applies to the pipeline trainer, not to --reference")
            }
            return
        }
        if reference {
            let pipelineOnly = [("--inject-failure", injectFailure != nil), ("--schedule-file", scheduleFile != nil), ("--checkpoint-dir", checkpointDir != nil), ("--replicas", replicas != nil),
                                ("--rebalance-every", rebalanceEvery != 0), ("--eplb-policy", eplbPolicy != "balanced"), ("--pp", pp != nil), ("--ep", ep != nil), ("--stages-per-rank", stagesPerRank != nil), ("--rank-order", rankOrder == .mirror), ("--check-reference", checkReference),
                                ("--trace", trace != nil), ("--trace-svg", traceSVG != nil), ("--trace-step", traceStep != nil),
                                ("--mpi-progress", progress.mode != .test), (shardOptimizerFlag, shardOptimizer != nil)]
            if let (flag, _) = pipelineOnly.first(where: \.1) {
                throw ValidationError("\(flag) applies to the pipeline trainer, not to --reference")
            }
        } else if stages != nil {
            throw ValidationError("--stages applies to --reference; the pipeline's stages come from --schedule and --pp")
        }
    }

    func run() throws {
        try ComputeSetup.configure()
        // A bad flag is refused by the run itself, with its rule.
        if !reference, let floats = try? model.activationFloats() { TCPEagerLimit.raise(toFit: floats * MemoryLayout<Float>.size) }
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
        if shardOptimizer == true && !OptimizerSharding.applies(to: configuration) {
            throw ConfigurationError(OptimizerSharding.refusal(configuration))
        }
    }

    /// The sharding flag as the user spelled it.
    var shardOptimizerFlag: String { shardOptimizer == false ? "--no-shard-optimizer" : "--shard-optimizer" }

    /// How FB pairs run: as `--overlap` / `--no-overlap` say, else `PairOrder.default`.
    func pairOrder(expertParallel: Int, nodes: Int) -> StageExecutor.PairOrder {
        StageExecutor.PairOrder(overlap: overlap, expertParallel: expertParallel, nodes: nodes)
    }

    /// The optimizer settings for a step of `microBatches` micro-batches.
    func trainingConfiguration(microBatches: Int) -> TrainingConfiguration {
        TrainingConfiguration(steps: steps, microBatches: microBatches, learningRate: lr, minimumLearningRate: minLR,
                              warmupSteps: warmup, weightDecay: weightDecay, clipNorm: clip)
    }

    func corpus() throws -> ByteCorpus {
        try data.map { try ByteCorpus(contentsOf: $0) } ?? ByteCorpus.standard()
    }

    /// --inject-failure RANK@STEP[:kill|:stall].
    func failureDrill() throws -> FailureDrill? {
        guard let injectFailure else { return nil }
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
    var stopsBeforeLimit: Bool { stopBeforeLimit != 0 }

    var checkpointing: CheckpointOptions? {
        checkpointDir.map { CheckpointOptions(directory: $0, every: checkpointEvery, keep: keep) }
    }

    /// Whether a checkpoint follows step `step` (0-based): every K steps and after the last.
    func checkpoints(after step: Int) -> Bool {
        checkpointDir != nil && (step == steps - 1 || (checkpointEvery > 0 && (step + 1) % checkpointEvery == 0))
    }

    func balancing() throws -> ExpertBalancing {
        let balancing = ExpertBalancing(policy: try PlacementPolicy.named(eplbPolicy), loadDecay: loadDecay,
                                        rebalanceEvery: rebalanceEvery, routerBiasSpeed: routerBiasSpeed)
        try balancing.validate()
        return balancing
    }

    var keepsTrace: Bool { trace != nil || traceSVG != nil }
    var tracedStep: Int { traceStep ?? steps - 1 }
    /// As with checkpoints, the last step always evaluates: a K longer than the run, or one that
    /// does not divide it, still ends with the held-out loss of the weights the run leaves.
    func evaluates(after step: Int) -> Bool { evalEvery > 0 && ((step + 1) % evalEvery == 0 || step == steps - 1) }
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
