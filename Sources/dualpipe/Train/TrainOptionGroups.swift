import ArgumentParser

// The titled sections of `dualpipe train --help` (the model's are ModelOptions, the MPI progress
// and memory check's ProgressOptions and MemoryCheckOption); their rules across sections are
// TrainCommand.validate()'s.

/// Where the experts go and how they are balanced: placement, rebalancing, the router bias.
struct ExpertOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Physical expert slots per MoE layer over the EP group, R / EP on each EP rank (default: the experts plus one per EP rank, rounded to a multiple of EP; with EP 1 the experts).", valueName: "R"))
    var replicas: Int?
    @Option(name: .customLong("eplb-policy"), help: "Expert placement, initial and at each rebalance: balanced (ours: never two replicas of an expert on a rank), reference (DeepSeek's eplb.py), or shift (a migration drill: every expert moves one EP rank on at each rebalance; it starts from balanced's placement).")
    var eplbPolicy = "balanced"
    @Option(name: .customLong("rebalance-every"), help: ArgumentHelp("Every K steps, place the experts anew from the load statistics and migrate weights and AdamW moments (0: never; with EP 1, where each rank holds every expert, idle).", valueName: "K"))
    var rebalanceEvery = 0
    @Option(name: .customLong("load-decay"), help: "Decay of the moving average of tokens per expert that rebalancing places by.")
    var loadDecay = 0.9
    @Option(name: .customLong("router-bias-speed"), help: ArgumentHelp("DeepSeek-V3's auxiliary-loss-free balancing: the per-expert routing bias moves by this much toward balance after each step (0: off).", valueName: "γ"))
    var routerBiasSpeed: Float = 0
}

/// AdamW, its learning-rate schedule, the gradient clip and the sharding over mirror pairs.
struct OptimizerOptions: ParsableArguments {
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
    @Flag(name: .customLong("shard-optimizer"), inversion: .prefixedNo, help: "DualPipe: each rank of a mirror pair updates only the stage it holds the primary copy of, and sends the new weights to its partner (ZeRO-1 over the pair: one stage's AdamW moments a rank instead of two, and half the AdamW work, with the same bits as without). At EP 1 the pair also sums only that stage, sending the same bytes as before; at EP > 1 the sums over a stage's 2 x EP copies stay and the weights' transfer is added (the partner is the mirror at the same EP rank). --no-shard-optimizer: both copies sum and update both stages. Default: shard where each pair shares a node; across nodes the weights would cross the link after the schedule (and at EP 1 the unsharded sums hide one stage's swap under it).")
    var shardOptimizer: Bool?
}

/// Held-out evaluation, the reference check, and the files a run writes beside its step lines.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("eval-every"), help: ArgumentHelp("Every K steps, and after the last step, the loss of a forward-only pass over held-out data (0: never).", valueName: "K"))
    var evalEvery = 0
    @Flag(name: .customLong("check-reference"), help: "Rank 0 also runs the reference trainer and compares losses, gradients and stage copies every step; exits non-zero on a mismatch.")
    var checkReference = false
    @Option(name: .customLong("log-every"), help: ArgumentHelp("Print the line of every K-th step, and of the run's first and last steps and of any step followed by an evaluation, a rebalance or a checkpoint (1: every step); --metrics still holds every step.", valueName: "K"))
    var logEvery = 1
    @Option(help: ArgumentHelp("Write one JSON object per step to FILE. With --resume, FILE continues: the lines of steps before the checkpoint stay, those of later steps go.", valueName: "FILE"))
    var metrics: String?
    @Option(help: ArgumentHelp("Write a Chrome trace (Perfetto) of one step of every rank to FILE.", valueName: "FILE"))
    var trace: String?
    @Option(name: .customLong("trace-step"), help: ArgumentHelp("With --trace or --trace-svg: the step they record (default: the last).", valueName: "N"))
    var traceStep: Int?
    @Option(name: .customLong("trace-svg"), help: ArgumentHelp("Draw the traced step's measured timeline, with the simulated one beneath, to FILE.", valueName: "FILE"))
    var traceSVG: String?
}

/// Checkpoints, resuming from them, and stopping with one before a time limit or on a signal.
struct RecoveryOptions: ParsableArguments {
    @Option(name: .customLong("checkpoint-dir"), help: ArgumentHelp("Save checkpoints in DIR (one folder per saved step: a shard per rank, then manifest.json). With it, SIGUSR1 or SIGTERM (a time limit, preemption; mpirun forwards SIGUSR1) stops every rank after the step in progress, with a checkpoint, and exit status 75.", valueName: "DIR"))
    var checkpointDir: String?
    @Option(name: .customLong("checkpoint-every"), help: ArgumentHelp("With --checkpoint-dir: save every K steps, and after the last step (0: only after the last step; the default).", valueName: "K"))
    var checkpointEveryGiven: Int?
    @Option(name: .customLong("keep"), help: ArgumentHelp("With --checkpoint-dir: complete checkpoints to keep; older ones are deleted (default: 2).", valueName: "N"))
    var keepGiven: Int?
    // Optional, so that either one written without --checkpoint-dir is refused, whatever its value.
    var checkpointEvery: Int { checkpointEveryGiven ?? 0 }
    var keep: Int { keepGiven ?? 2 }

    /// The flags that mean something only with --checkpoint-dir, and whether each was written.
    var flagsNeedingFolder: [(String, Bool)] {
        [("--resume", resume), ("--checkpoint-every", checkpointEveryGiven != nil), ("--keep", keepGiven != nil),
         ("--stop-before-limit", stopBeforeLimit != nil)]
    }
    /// Every checkpoint flag, --checkpoint-dir first, for the trainers that save nothing.
    var flags: [(String, Bool)] { [("--checkpoint-dir", checkpointDir != nil)] + flagsNeedingFolder }
    @Flag(help: "Continue from the newest complete checkpoint in --checkpoint-dir (the same model, seed, optimizer settings and micro-batches a step, M x EP; the schedule, PP, V and EP may differ).")
    var resume = false
    @Option(name: .customLong("stop-before-limit"), help: ArgumentHelp("With --checkpoint-dir inside a batch job whose end is known (SLURM_JOB_END_TIME, or DUALPIPE_JOB_END as slurm/train.sbatch sets it): stop after the step that leaves less than SECONDS plus two of the longest steps before the time limit, with a checkpoint and exit status 75, as a signal would; 0: never (default: 60, or a quarter of the time left at the start if less).", valueName: "SECONDS"))
    var stopBeforeLimit: Double?
}

/// How the pipeline runs its pairs and how long a wait may last.
struct RuntimeOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Run each F&B pair's forward and backward phases alternately, so that each one's expert all-to-alls fly while the other computes; --no-overlap: F's phases, then B's (either way F's output leaves when F ends, B's gradient before W, and a late gradient is awaited after F). Default: alternate with EP > 1 or across nodes; F then B with EP 1 (and --model mlp) on one node, where nothing needs hiding and each pass keeps its caches.")
    var overlap: Bool?
    @Option(name: .customLong("comm-timeout"), help: ArgumentHelp("Watchdog: a wait longer than this (a pipeline message, an expert all-to-all, or after the schedule the gradient sums, the mirror pair's exchanges, the losses, the norm, the report, the barrier that starts a step) prints what it waited for (peer, tag, stage, micro-batch, step where it knows them) and ends the job.", valueName: "SECONDS"))
    var commTimeout: Double = 300
}

/// Failures on purpose, to see that the job ends as it should.
struct DrillOptions: ParsableArguments {
    @Flag(name: .customLong("skip-schedule-validation"), help: "Run --schedule-file even if it fails validation: a drill for the watchdog (a schedule that deadlocks hangs until --comm-timeout).")
    var skipScheduleValidation = false
    @Option(name: .customLong("inject-failure"), help: ArgumentHelp("Failure drill: world rank RANK throws halfway through step STEP's schedule (with :kill, kills itself with SIGKILL; with :stall, stops after the schedule, alive, until the --comm-timeout watchdog of the ranks waiting for it ends the job); the whole job must end, naming it.", valueName: "RANK@STEP[:kill|:stall]"))
    var injectFailure: String?
}
