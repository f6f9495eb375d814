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

    @OptionGroup(title: "Model") var model: ModelOptions
    @Option(name: .customLong("micro-batches"), help: ArgumentHelp("Micro-batches per step (default: 4 x PP, enough for every schedule).", valueName: "M"))
    var microBatches: Int?
    @Option(name: .customLong("stages-per-rank"), help: ArgumentHelp("The model chunks a rank V of Interleaved 1F1B, Interleaved ZB and Looped BFS, 2 to \(ScheduleConfiguration.maximumStagesPerRank) (default: 2); the model then has a multiple of V x PP blocks as well as of 2 x PP, so every schedule runs the same arithmetic.", valueName: "V"))
    var stagesPerRank: Int?
    @OptionGroup(title: "Runtime") var progress: ProgressOptions
    @OptionGroup(title: "Runtime") var memoryCheck: MemoryCheckOption
    @OptionGroup(title: "Runtime") var pairs: PairPhaseOrder
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
        guard UnknownArgumentsFirst.validates else { return }
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
        MessageTransports.prepare(forMessagesOf: messageFloats * MemoryLayout<Float>.size)
        var plan: Plan?
        try MPIJob.run(threadLevel: progress.threadLevel, check: { environment in
            plan = try self.plan(environment, mlp: mlp)
        }) { environment in
            let world = environment.world
            let progressThread = try progress.start(environment)
            defer { progressThread?.stop() }
            // The link the simulator is given is the one the timed steps of the main table ran on.
            let shaping = shaped.map { LinkShaping(shaped: $0, unshaped: unshaped!) }
            if let shaping { try shaping.apply(shaping.shaped, flag: "--shaped", world: world, messageFloats: messageFloats) }
            // FB pairs as `train` runs them (EP 1): by default sequential on one node.
            let pairOrder = StageExecutor.PairOrder(overlap: pairs.overlap, expertParallel: 1, nodes: plan!.nodes.0.nodeCount)
            var contenders = try contenders(plan!, world: world, pairOrder: pairOrder)
            // Each link the schedules' messages take, as each is placed: at PP 4 on two nodes some
            // pipeline neighbours share a node and some do not.
            let linkPairs = contenders.reduce(into: Set<LinkProbe.Pair>()) { $0.formUnion(LinkProbe.pairs(of: $1.schedule, worldRank: $1.worldRank)) }
            let probe = try LinkProbe(world: world, pairs: linkPairs.sorted(), floats: messageFloats)
            try runRounds(&contenders, shaping: shaping, world: world, messageFloats: messageFloats)
            if world.rank == 0 { try report(plan!, contenders, probe: probe, shaping: shaping, pairOrder: pairOrder, messageFloats: messageFloats) }
        }
    }
}

/// `--overlap`: how an FB pair runs its forward's and backward's phases, under RUNTIME as in `train`.
struct PairPhaseOrder: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "FB pairs' forward and backward phases alternating, or (--no-overlap) F's then B's, as in `train`. Default: F then B on one node, alternating across nodes.")
    var overlap: Bool?
}
