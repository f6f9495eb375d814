import ArgumentParser
import Foundation
import MPI
import Model
import Pipeline
import Schedule
import Tensor

/// `dualpipe bench schedules`: every schedule kind trained on the same model, data and ranks, side
/// by side, each beside the simulator's prediction from the F, B, W, BW and FB costs measured in
/// the same run; DualPipe in the rank order `train` would give it on these nodes.
struct BenchSchedulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "Train every schedule on the same model and ranks; step time, efficiency, bubble and MPI waits beside the simulator's prediction.",
        discussion: "Run under mpirun, e.g. `mpirun -np 2 dualpipe bench schedules`. Every rank is a pipeline rank (EP 1); the model's layers must split into 2 x PP stages (DualPipeV) and V x PP (Interleaved 1F1B, Interleaved ZB and Looped BFS, --stages-per-rank), so --layers defaults to 4 or, on more than 2 ranks or with an odd V, the smallest multiple of both from 4 up (8 on 4 ranks; 12 on 2 ranks with V = 3). A setting some schedule cannot run is refused once, before any communication. Rank 0 prints the table, and below it the parameter memory each schedule asks of a rank. The nine schedules' trainers are alive at once, as their steps take turns, so a rank needs memory for ten or eleven (the memory check counts them all): DualPipe also runs as `train` does not by default; --schedules trains fewer. On one node, where AdamW is sharded over the mirror pairs, it runs again with AdamW on both copies of each stage (`DualPipe, AdamW on both copies`); where a mirror pair spans nodes, again with every gradient sum after the schedule (`DualPipe, sums after`), and with AdamW sharded (`DualPipe, AdamW sharded`).")

    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("micro-batches"), help: ArgumentHelp("Micro-batches per step (default: 4 x PP, enough for every schedule).", valueName: "M"))
    var microBatches: Int?
    @Option(name: .customLong("stages-per-rank"), help: ArgumentHelp("The model chunks a rank V of Interleaved 1F1B, Interleaved ZB and Looped BFS, 2 to \(ScheduleConfiguration.maximumStagesPerRank) (default: 2); the model then has a multiple of V x PP blocks as well as of 2 x PP, so every schedule runs the same arithmetic.", valueName: "V"))
    var stagesPerRank: Int?
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var memoryCheck: MemoryCheckOption
    @Flag(inversion: .prefixedNo, help: "FB pairs' forward and backward phases alternating, or (--no-overlap) F's then B's, as in `train`. Default: F then B on one node, alternating across nodes.")
    var overlap: Bool?
    @Option(help: "Timed steps per schedule after one warm-up step, the schedules taking turns step by step; medians are reported.")
    var steps = 5
    @Flag(help: "Also print each schedule's mean time of every kind of action on every stage (F, B, W, BW, FB), to see what its order does to the same arithmetic.")
    var actions = false
    @Option(help: ArgumentHelp("The schedules to train, comma-separated, from dualpipe, dualpipev, 1f1b, zb1p, gpipe, interleaved1f1b, zbv, interleavedzb and loopedbfs (default: all nine, DualPipe only on an even PP). Fewer trainers are then in memory at once; the table against 1F1B needs 1f1b among them.", valueName: "LIST"))
    var schedules: String?
    @Option(name: .customLong("rank-order"), help: ArgumentHelp("DualPipe's rank order, as `train`'s: pipeline (pp = world rank), mirror (pp 0, PP-1, 1, PP-2, ...: each mirror pair on neighbouring ranks, so a node of an even number of ranks holds whole pairs and their gradient sums stay inside it), or auto: mirror when the pipeline order would split pairs across nodes and that one splits fewer. The other schedules have no mirror pairs and keep the pipeline order, so each runs in the placement `train` gives it.", valueName: "auto|pipeline|mirror"))
    var rankOrder: RankOrderChoice = .auto
    @Option(help: ArgumentHelp("With --unshaped: a shell command rank 0 runs to slow the link before each round's shaped steps (e.g. \"scripts/local-nodes link --delay 1ms --rate 1gbit\"); every schedule then steps on both links in turn, and a second table gives each one's slowdown.", valueName: "COMMAND"))
    var shaped: String?
    @Option(help: ArgumentHelp("With --shaped: the shell command that restores the plain link before each round's unshaped steps (e.g. \"scripts/local-nodes link --clear\").", valueName: "COMMAND"))
    var unshaped: String?

    func validate() throws {
        guard steps >= 1 && steps <= 1000 else { throw ValidationError("--steps must be in 1...1000, got \(steps)") }
        let chosen = try chosenKinds()
        if let stagesPerRank {
            do { try ScheduleConfiguration.check(stagesPerRank: stagesPerRank, kind: .interleaved1F1B) } catch {
                throw ValidationError("--stages-per-rank \(stagesPerRank): \(error)")
            }
            if let chosen, !chosen.contains(where: \.isLooped) {
                throw ValidationError("--stages-per-rank \(stagesPerRank) is the looped kinds' (Interleaved 1F1B, Interleaved ZB, Looped BFS), and --schedules '\(schedules!)' leaves them all out")
            }
        }
        if rankOrder == .mirror, let chosen, !chosen.contains(.dualpipe) {
            throw ValidationError("--rank-order mirror orders DualPipe's mirror pairs, and --schedules '\(schedules!)' leaves DualPipe out")
        }
        guard (shaped == nil) == (unshaped == nil) else {
            throw ValidationError("\(shaped == nil ? "--unshaped" : "--shaped") needs \(shaped == nil ? "--shaped" : "--unshaped") too: each round runs every schedule on both links")
        }
        for (flag, command) in [("--shaped", shaped), ("--unshaped", unshaped)] where command?.allSatisfy(\.isWhitespace) == true {
            throw ValidationError("\(flag) '\(command!)': give the shell command that sets the link")
        }
    }

    /// The kinds --schedules names, in the table's order (nil: every kind). Throws, naming the
    /// value, for an unknown name or an empty list.
    func chosenKinds() throws -> [ScheduleKind]? {
        guard let schedules else { return nil }
        var chosen = Set<ScheduleKind>()
        for name in schedules.split(separator: ",", omittingEmptySubsequences: false) {
            let name = name.trimmingCharacters(in: .whitespaces)
            do { chosen.insert(try ScheduleKind.named(name)) } catch {
                throw ValidationError("--schedules '\(schedules)': \(name.isEmpty ? "an empty name: give kinds separated by commas, e.g. dualpipe,1f1b" : "\(error)")")
            }
        }
        return ScheduleKind.allCases.filter(chosen.contains)
    }

    /// The blocks every schedule's stages divide: DualPipeV's 2 x PP stages and the looped kinds' V x PP.
    static func layerUnit(pipelineRanks pp: Int, stagesPerRank v: Int) -> Int { (v % 2 == 0 ? v : 2 * v) * pp }

    /// The MoE model's blocks without --layers: 4, or the smallest multiple of the layer unit from 4 up.
    static func defaultLayers(pipelineRanks pp: Int, stagesPerRank v: Int = 2) -> Int {
        let unit = layerUnit(pipelineRanks: pp, stagesPerRank: v)
        return (4 + unit - 1) / unit * unit
    }

    func run() throws {
        try ComputeSetup.configure()
        let mlp = model.isMLP ? try model.mlpConfiguration() : nil
        let messageFloats = try model.activationFloats()
        TCPEagerLimit.raise(toFit: messageFloats * MemoryLayout<Float>.size)
        var moe: ModelConfiguration?
        // Every schedule's configuration is made (and so checked) before any communication, so a
        // setting one of them cannot run is refused once, by rank 0, not by every rank in the middle
        // of the job. DualPipe is left out on an odd PP.
        var configurations: [ScheduleKind: PipelineConfiguration] = [:]
        var m = 0
        var nodesOfRanks: (NodeLayout, [Int])?
        try MPIJob.run(threadLevel: progress.threadLevel, check: { environment in
            let pp = environment.world.size
            let v = stagesPerRank ?? 2
            // Its memory is checked below, every trainer's together.
            moe = model.isMLP ? nil : try model.configuration(defaultLayers: Self.defaultLayers(pipelineRanks: pp, stagesPerRank: v), memory: nil)
            // --model mlp: the example's 20, or 4 x PP, rounded up to a multiple of PP (Interleaved 1F1B's groups).
            m = microBatches ?? (mlp == nil ? 4 * pp : (max(20, 4 * pp) + pp - 1) / pp * pp)
            // Asked for by name, DualPipe on an odd PP is refused with its rule; by default left out.
            let chosen = try chosenKinds()
            if rankOrder == .mirror && pp % 2 != 0 {
                throw ValidationError("--rank-order mirror pairs pipeline rank pp with PP-1-pp, so PP must be even; got mpirun -np \(pp)")
            }
            for kind in chosen ?? ScheduleKind.allCases where chosen != nil || kind != .dualpipe || pp % 2 == 0 {
                // The schedule's own rules first, in this command's terms (train's would name --schedule and --pp).
                let kindV = kind.isLooped ? stagesPerRank : nil
                do { _ = try ScheduleConfiguration(kind: kind, ranks: pp, microBatches: m, stagesPerRank: kindV) } catch {
                    // Without --schedules, name the kinds that do run with these settings.
                    let running = ScheduleKind.allCases.filter { (try? ScheduleConfiguration(kind: $0, ranks: pp, microBatches: m)) != nil }
                    let leaveOut = chosen == nil && !running.isEmpty ? "; --schedules \(running.map(\.rawValue).joined(separator: ",")) trains the ones that run" : ""
                    throw ValidationError("\(error) (bench schedules on mpirun -np \(pp), --micro-batches \(m)\(leaveOut))")
                }
                // --model mlp: the same blocks under every schedule (unless --layers): one per DualPipeV
                // stage, or the fewest that V x PP stages divide too.
                configurations[kind] = try mlp != nil
                    ? .mlp(kind: kind, pipelineRanks: pp, microBatches: m, stagesPerRank: kindV,
                           blocks: model.layers ?? Self.layerUnit(pipelineRanks: pp, stagesPerRank: v), worldSize: pp)
                    : PipelineConfiguration(kind: kind, pipelineRanks: pp, expertParallel: 1, microBatches: m, stagesPerRank: kindV,
                                            model: moe!, worldSize: pp)
            }
            // DualPipe in the order `train` would give it on these nodes (auto), or the one named.
            nodesOfRanks = try RankGrid.nodes(of: environment.world)
            if let dualPipe = configurations[.dualpipe] {
                configurations[.dualpipe] = try rankOrder.resolve(try dualPipe.ordered(rankOrder.named ?? .pipeline), nodeOfRank: nodesOfRanks!.1)
            }
            // Every trainer is in memory at once, DualPipe's as its variant rows will run: on one node
            // with AdamW sharded as `train` shards it and on both copies; across nodes at most three.
            let rank = environment.world.rank
            let dualPipeSharding: [Bool] = configurations[.dualpipe].map { c in
                nodesOfRanks!.0.nodeCount > 1 ? [false, false, true]
                    : [OptimizerSharding.expected(nil, configuration: c, nodeOfRank: nodesOfRanks!.1), false]
            } ?? []
            let trainers = configurations.keys.sorted { $0.rawValue < $1.rawValue }
                .flatMap { kind in kind == .dualpipe ? dualPipeSharding.map { (kind, $0) } : [(kind, false)] }
            let need = trainers.reduce(0.0) { sum, trainer in
                let c = configurations[trainer.0]!, schedule = Schedule(c.schedule), pp = c.grid.coordinates(of: rank).pipeline
                return sum + (mlp.map { c.memoryEstimate(ofPipelineRank: pp, mlp: $0, schedule: schedule, shardedOptimizer: trainer.1) }
                              ?? c.memoryEstimate(ofPipelineRank: pp, model: moe!, schedule: schedule, shardedOptimizer: trainer.1)).run
            }
            let times = ["", "", "twice", "three times"]
            try MPIJob.requireMemory(need: need, process: try MPIJob.processResident(environment.world), world: environment.world,
                                     what: "bench schedules holds its \(trainers.count) trainers\(dualPipeSharding.isEmpty ? "" : " (DualPipe's \(times[dualPipeSharding.count]))") at once, each rank its stages and the micro-batches each schedule keeps (--micro-batches \(m))",
                                     skip: memoryCheck.skip)
        }) { environment in
            let world = environment.world
            let progressThread = try progress.start(environment)
            defer { progressThread?.stop() }
            let pp = world.size
            let nodesOfRanks = nodesOfRanks!
            let corpus = moe == nil ? nil : try ByteCorpus.standard()
            // The link the simulator is given is the one the timed steps of the main table ran on.
            let shaping = shaped.map { LinkShaping(shaped: $0, unshaped: unshaped!) }
            if let shaping { try shaping.apply(shaping.shaped, flag: "--shaped", world: world, messageFloats: messageFloats) }
            var rows = [["schedule", "stages", "step ms", "update ms", "efficiency", "bubble ms", "MPI wait ms", "comm ms", "hidden",
                         "simulated ms", "sim/measured", "replay/measured", "sim bubble ms"]]
            // Every schedule's trainer is built first and their steps then alternate, one of each per
            // round, so a slow spell of the machine falls on all of them rather than on one.
            var contenders: [Contender] = []
            // FB pairs as `train` runs them (EP 1): by default sequential on one node.
            let nodes = nodesOfRanks.0.nodeCount
            let pairOrder = StageExecutor.PairOrder(overlap: overlap, expertParallel: 1, nodes: nodes)
            // DualPipe also runs as `train` does not by default, to show what its defaults save:
            // across nodes (where some stage's sums run during the schedule) with every sum after
            // the schedule, and with AdamW sharded over the mirror pairs; on one node (where AdamW
            // is sharded) unsharded.
            let variants: [(kind: ScheduleKind, earlySums: Bool, shard: Bool?, suffix: String?)] = ScheduleKind.allCases.flatMap { kind in
                kind != .dualpipe ? [(kind, true, nil, nil)]
                    : nodes > 1 ? [(kind, true, nil, nil), (kind, false, nil, "sums after"), (kind, true, true, "AdamW sharded")]
                    : [(kind, true, nil, nil), (kind, true, false, "AdamW on both copies")]
            }
            var sumsEarly = false, sharded = false
            for variant in variants {
                let (kind, earlySums) = (variant.kind, variant.earlySums)
                guard let configuration = configurations[kind] else { continue }
                if !earlySums && !sumsEarly { continue }
                if let shard = variant.shard, shard == sharded { continue }
                let step: (Bool) throws -> PipelineStepReport
                let schedule: Schedule
                let earlyStages: [Int]
                let shardsOptimizer: Bool
                let counts: (held: Int, updated: Int)
                if let mlp {
                    let trainer = try MLPPipelineTrainer(
                        configuration: configuration, model: mlp,
                        training: TrainingConfiguration(steps: steps + 1, microBatches: configuration.globalMicroBatches),
                        grid: try RankGrid(world: world, configuration: configuration, nodes: nodesOfRanks), seed: 1, earlySums: earlySums,
                        shardOptimizer: variant.shard)
                    trainer.executor.pollsBetweenPhases = progress.pollsBetweenPhases
                    trainer.executor.pairOrder = pairOrder
                    (schedule, step, earlyStages, shardsOptimizer) = (trainer.schedule, { try trainer.step(keepTrace: $0) }, trainer.earlySumStages, trainer.shardsOptimizer)
                    counts = trainer.parameterCounts
                } else {
                    let trainer = try PipelineTrainer(
                        configuration: configuration, model: moe!,
                        training: TrainingConfiguration(steps: steps + 1, microBatches: configuration.globalMicroBatches),
                        grid: try RankGrid(world: world, configuration: configuration, nodes: nodesOfRanks), corpus: corpus!, seed: 1, earlySums: earlySums,
                        shardOptimizer: variant.shard)
                    trainer.executor.pollsBetweenPhases = progress.pollsBetweenPhases
                    trainer.executor.pairOrder = pairOrder
                    (schedule, step, earlyStages, shardsOptimizer) = (trainer.schedule, { try trainer.step(keepTrace: $0) }, trainer.earlySumStages, trainer.shardsOptimizer)
                    counts = trainer.parameterCounts
                }
                // The largest rank's: what a rank must have room for.
                let largest = try largestParameterCounts(counts, world: world)
                if kind == .dualpipe && variant.suffix == nil {
                    sumsEarly = try world.allreduce(earlyStages.isEmpty ? 0 : 1, op: .max) == 1
                    sharded = shardsOptimizer
                }
                // An interleaved kind's V is named when it is not the default.
                let title = configuration.stagesPerRank == ScheduleConfiguration.defaultStagesPerRank(kind) ? kind.title : configuration.schedule.title
                contenders.append(Contender(label: variant.suffix.map { "\(title), \($0)" } ?? title, configuration: configuration,
                                            schedule: schedule, pairOrder: pairOrder, step: step, parameters: largest))
            }
            // Each link the schedules' messages take, as each is placed: at PP 4 on two nodes some
            // pipeline neighbours share a node and some do not.
            let linkPairs = contenders.reduce(into: Set<LinkProbe.Pair>()) { $0.formUnion(LinkProbe.pairs(of: $1.schedule, worldRank: $1.worldRank)) }
            let probe = try LinkProbe(world: world, pairs: linkPairs.sorted(), floats: messageFloats)
            // With --shaped, each round runs every schedule on both links, the two halves in turn
            // (plain then shaped, then shaped then plain), so the link changes once a round.
            var linkShaped = shaping != nil
            for n in 0...steps {
                for onShaped in shaping == nil ? [true] : (n % 2 == 0 ? [false, true] : [true, false]) {
                    if let shaping, onShaped != linkShaped {
                        try shaping.apply(onShaped ? shaping.shaped : shaping.unshaped, flag: onShaped ? "--shaped" : "--unshaped",
                                          world: world, messageFloats: messageFloats)
                        linkShaped = onShaped
                    }
                    for c in contenders.indices {
                        let report = try contenders[c].step(n > 0 && onShaped)
                        guard n > 0 else { continue } // step 0 warms up
                        if onShaped { contenders[c].record(report) } else { contenders[c].recordUnshaped(report) }
                    }
                }
            }
            if let shaping, linkShaped { try shaping.apply(shaping.unshaped, flag: "--unshaped", world: world, messageFloats: messageFloats) }
            if world.rank == 0 { rows += try contenders.map { try $0.row(links: probe.links(of: $0.schedule, worldRank: $0.worldRank, scale: 1000)) } }
            if world.rank == 0 {
                let what = mlp.map { "--model mlp (\(contenders[0].configuration.partition.layers) blocks, hidden \($0.hidden), \($0.tokensPerMicroBatch) rows a micro-batch)" }
                    ?? "\(moe!.layers) blocks, hidden \(moe!.hidden), \(moe!.tokensPerMicroBatch) tokens a micro-batch"
                print("\(pp) pipeline ranks, \(m) micro-batches, \(what); OpenBLAS \(BLAS.coreName); MPI progress: \(progress.mode.rawValue); \(TCPEagerLimit.description); FB pairs \(pairOrder.rawValue); medians of \(steps) steps, the schedules alternating step by step; \(cpuModelName())")
                if let dualPipe = configurations[.dualpipe], dualPipe.rankOrder == .mirror {
                    print("DualPipe's " + MirrorPlacement.orderLine(dualPipe, choice: rankOrder) + "; the other schedules: rank = pp")
                }
                print(probe.report(floats: messageFloats))
                print(renderTable(rows, textColumns: 1), terminator: "")
                if let baseline = contenders.first(where: { $0.label == ScheduleKind.oneFOneB.title }) {
                    print(renderTable(Self.againstBaseline(contenders, baseline: baseline), textColumns: 1), terminator: "")
                } else {
                    print("(no table against 1F1B: --schedules leaves out 1f1b)")
                }
                var memory = [["schedule", "parameters held", "updated", "weights+gradients MiB", "AdamW moments MiB", "micro-batches kept"]]
                for c in contenders {
                    memory.append([c.label, String(c.parameters.held), String(c.parameters.updated),
                                   pairOfFloatsMiB(c.parameters.held), pairOfFloatsMiB(c.parameters.updated),
                                   String(c.schedule.savedContexts.max() ?? 0)])
                }
                print("memory a rank needs (each column the largest over the ranks): a weight and a gradient for every parameter it holds, two AdamW moments for every one it updates; "
                      + "micro-batches kept: the most stage activations its schedule keeps at once, each from its F until its W (a stage is 1/stages of the model: see the first table)")
                print(renderTable(memory, textColumns: 1), terminator: "")
                if actions {
                    print("actions: each kind on each stage (FB by its forward's and its backward's stage), its mean over a step's actions on every rank, median over the steps, in ms")
                    for c in contenders { print("\(c.label): \(c.actionTimes())") }
                }
                if let shaping {
                    print("the table's steps ran on the link --shaped sets ('\(shaping.shaped)'); in every round each schedule also stepped on the one --unshaped sets ('\(shaping.unshaped)'), the halves of a round in turn:")
                    var slowdowns = [["schedule", "unshaped ms", "shaped ms", "slowdown", "whole unshaped ms", "whole shaped ms", "whole slowdown",
                                      "compute slowdown"]]
                    for c in contenders {
                        slowdowns.append([c.label, decimal(median(c.unshapedTimes) * 1000, 1),
                                          decimal(median(c.stepTimes) * 1000, 1), Self.medianRatio(c.stepTimes, c.unshapedTimes),
                                          decimal(median(c.unshapedWholeTimes) * 1000, 1), decimal(median(c.wholeTimes) * 1000, 1),
                                          Self.medianRatio(c.wholeTimes, c.unshapedWholeTimes), Self.medianRatio(c.computeTimes, c.unshapedComputeTimes)])
                    }
                    print(renderTable(slowdowns, textColumns: 1), terminator: "")
                    print("slowdown: the median over the rounds of a round's shaped step over its unshaped one; whole: the step with its update; "
                          + "compute: a rank's compute actions in the step, mean over the ranks (where it slows as much as the step, the "
                          + "messages are hidden and the slower link costs the actions CPU: TCP's, or the emulated wire's on these cores)")
                }
                print("""
                    step: the schedule's wall time (slowest rank), without the gradient sums and the update; update: the
                    rest of the step (slowest rank), the sums over the copies of each stage (DualPipe's mirror pair),
                    clipping and AdamW (DualPipe on one node: sharded over the mirror pair, each rank updating one stage and
                    sending its weights; `AdamW on both copies` and, across nodes, DualPipe: unsharded); bubble: step minus
                    a rank's compute, mean over ranks; MPI wait: time blocked on messages (bubble included), mean over
                    ranks; comm: a rank's messages, each at its link's latency above (or the time it holds the link, if
                    longer: messages that follow each other go no faster than that); hidden: the share of that the step does
                    not pay for (1 - (replay with the latencies - replay without) / comm); simulated: the schedule costed
                    with each step's own mean F, B, W, BW and FB of every stage on every rank and each message at its link's
                    latency above (waiting while its link carries the ones sent before it), each FB pair and BW timed as the runtime ran it
                    (outputs leaving inside it, a gradient before its W, a pair's late gradient awaited after its F);
                    sim/measured: that over the same step's time; replay: each step simulated with each action's own
                    measured time (what the mean costs miss is the actions' variance); hidden, simulated and the ratios are
                    medians over the steps; whole step: step plus update; / 1F1B's: each step over 1F1B's step of the same
                    round (the schedules take turns step by step), median over the steps
                    """)
            }
        }
    }

    /// Each schedule's whole step (the schedule and the update after it), and its schedule and whole
    /// step over `baseline`'s of the same round: the schedules alternate step by step, so each
    /// ratio compares steps that ran a few hundred milliseconds apart, not two spells of the machine.
    private static func againstBaseline(_ contenders: [Contender], baseline: Contender) -> [[String]] {
        [["schedule", "whole step ms", "step / 1F1B's", "whole step / 1F1B's"]] + contenders.map { c in
            [c.label, decimal(median(c.wholeTimes) * 1000, 1), medianRatio(c.stepTimes, baseline.stepTimes), medianRatio(c.wholeTimes, baseline.wholeTimes)]
        }
    }

    /// The median of the step-by-step ratios a[i] / b[i] (steps of the same round), to 2 decimals.
    private static func medianRatio(_ a: [Double], _ b: [Double]) -> String {
        decimal(median(zip(a, b).map { $0 / $1 }), 2)
    }
}
