import ArgumentParser
import Foundation
import Pipeline
import Schedule

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Time a pipeline schedule under given costs: makespan, idle, bubble, activations, parameters.",
        discussion: """
        An action starts when its rank is free and its inputs have arrived; a message arrives \
        --latency after the action that produced it sends it, or later while the link from its rank \
        to the next still carries earlier messages, --transfer each. The bubble is the largest idle time of \
        any rank (makespan minus the rank's busy time). --compare runs every kind for the same \
        number of stages (DualPipeV and ZB-V on N/2 ranks, Interleaved 1F1B and ZB on N/V) and prints the README \
        formula next to it (for Interleaved 1F1B, Interleaved ZB, Looped BFS and ZB-V, which the README does not have, their own). \
        --ranks-per-node spreads the ranks over nodes and prices the schedule's messages between them at \
        --inter-node-latency and --inter-node-transfer. --gradient-sum adds the step's end: DualPipe holds two \
        copies of every stage, whose gradients its two ranks sum every step (at --inter-node-gradient-sum when \
        they sit on different nodes, where DualPipe's mirror order keeps them on one).
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var selection: ScheduleSelection

    @OptionGroup(title: "Costs") var costFlags: SimulationCosts
    @OptionGroup(title: "Links and nodes") var links: SimulationLinks
    @OptionGroup(title: "Output") var output: SimulationOutput

    /// The costs the flags give: the trace's means (if named), each overridden by its own flag.
    func costs() throws -> Costs { try costs(measured: costFlags.costsFromTrace.map(traceSpans).map(ChromeTrace.byKind)) }

    /// The costs from the trace's durations (nil: no trace), each overridden by its own flag.
    private func costs(measured durations: [Action.Op: [Double]]?) -> Costs {
        guard let durations else {
            return Costs(forward: costFlags.costF ?? 1, backwardInput: costFlags.costB ?? 1, backwardWeight: costFlags.costW ?? 1,
                         backward: costFlags.costBW, forwardBackward: costFlags.costFB, latency: links.latency, transfer: links.transfer)
        }
        var costs = traceCosts(durations).costs
        costs.latency = links.latency
        costs.transfer = links.transfer
        return costs
    }

    /// The trace's means brought within the rules (its kinds mix stages), then the --cost-* flags
    /// given in place of their kinds (a flag is taken as given); what each step raised or moved.
    private func traceCosts(_ durations: [Action.Op: [Double]]) -> (costs: Costs, raised: [String], moved: [String]) {
        let (measured, raised) = Costs(measured: durations).liftedToItsRules()
        let (costs, moved) = measured.overridden(forward: costFlags.costF, backwardInput: costFlags.costB, backwardWeight: costFlags.costW,
                                                 backward: costFlags.costBW, forwardBackward: costFlags.costFB)
        return (costs, raised, moved)
    }

    /// Every compute action of the trace, with its rank and milliseconds.
    private func traceSpans(_ path: String) throws -> [ChromeTrace.ComputeSpan] {
        let spans = try TraceFile(path, flag: "--costs-from-trace").decode(ChromeTrace.computeSpans(of:))
        guard !spans.isEmpty else { throw ValidationError("--costs-from-trace '\(path)': no compute actions in the trace") }
        return spans
    }

    /// The trace's actions as costs of each (rank, kind, stage) of `schedule`, when the trace ran
    /// exactly its actions (the same kind, PP and M) and no --cost-* flag overrides a kind: the
    /// prediction then keeps stages and ranks as uneven as the run had them.
    private func stageCosts(_ spans: [ChromeTrace.ComputeSpan], of schedule: Schedule) -> StageCosts? {
        guard [costFlags.costF, costFlags.costB, costFlags.costW, costFlags.costBW, costFlags.costFB].allSatisfy({ $0 == nil }) else { return nil }
        let durations = ChromeTrace.byAction(spans)
        guard Set(durations.keys) == Set(schedule.program.joined()) else { return nil }
        return StageCosts(durations, of: schedule)
    }

    /// The text report's first line with --costs-from-trace: where the costs came from.
    private func traceLine(_ spans: [ChromeTrace.ComputeSpan]?, perStage: Bool) -> String? {
        guard let costsFromTrace = costFlags.costsFromTrace, let spans, output.format == .text else { return nil }
        if perStage {
            return "costs from the trace '\(costsFromTrace)': it ran this schedule, so each action costs its own stage's and rank's mean compute ms over the trace's \(spans.count) actions (the kinds' means below)"
        }
        let durations = ChromeTrace.byKind(spans)
        let counts = Action.Op.allCases.compactMap { op in durations[op].map { "\($0.count) \(op.rawValue)" } }
        let (_, raised, moved) = traceCosts(durations)
        let lifted = raised.isEmpty ? "" : "; raised to the rules a full backward and a pair keep, as kinds' means mix stages and ranks: \(raised.joined(separator: ", "))"
        let movedNote = moved.isEmpty ? "" : "; moved with the kinds the flags gave: \(moved.joined(separator: ", "))"
        return "costs from the trace '\(costsFromTrace)': each kind's mean compute ms over its \(counts.joined(separator: ", ")) (a --cost-* flag wins)\(lifted)\(movedNote)"
    }

    func validate() throws {
        guard UnknownArgumentsFirst.validates else { return }
        do {
            try costs().validate()
        } catch let error as ScheduleError {
            throw ValidationError("\(costFlag(of: error.description)): \(error)")
        }
        try validateNodes()
        do {
            try gradientSums?.validate()
        } catch {
            // --inter-node-gradient-sum is checked with the node flags above, so this is --gradient-sum's.
            throw ValidationError("--gradient-sum \(costFlags.gradientSum.map { "\($0)" } ?? "0"): \(error)")
        }
        if let trace = output.trace { try Files.checkWritable(trace, flag: "--trace") }
        if let svg = output.svg { try Files.checkWritable(svg, flag: "--svg") }
        if output.compare {
            if output.trace != nil || output.svg != nil { throw ValidationError("--trace and --svg draw one schedule; leave them out with --compare") }
            try checkComparison()
        } else {
            _ = try selection.configuration()
        }
    }

    /// The flag and value of the cost an error names first ("FB = 0.5 ..." -> "--cost-fb 0.5"); a
    /// default BW or FB is shown as its formula, a cost the trace gave as the trace.
    private func costFlag(of message: String) -> String {
        let fromTrace = costFlags.costsFromTrace.map { "--costs-from-trace '\($0)'" }
        return switch message.prefix(while: { $0 != " " }) {
        case "F": costFlags.costF.map { "--cost-f \($0)" } ?? fromTrace ?? "--cost-f 1.0"
        case "B": costFlags.costB.map { "--cost-b \($0)" } ?? fromTrace ?? "--cost-b 1.0"
        case "W": costFlags.costW.map { "--cost-w \($0)" } ?? fromTrace ?? "--cost-w 1.0"
        case "BW": costFlags.costBW.map { "--cost-bw \($0)" } ?? fromTrace ?? "--cost-bw (default B+W)"
        case "FB": costFlags.costFB.map { "--cost-fb \($0)" } ?? fromTrace ?? "--cost-fb (default F+BW)"
        case "transfer": "--transfer \(links.transfer)"
        default: "--latency \(links.latency)"
        }
    }

    /// The node flags' rules: a node of at least one rank, costs between nodes as every cost's,
    /// and the flags that describe nodes only beside the one that makes them.
    private func validateNodes() throws {
        guard let ranksPerNode = links.ranksPerNode else {
            let given = [("--inter-node-latency", links.interNodeLatency.map { "\($0)" }), ("--inter-node-transfer", links.interNodeTransfer.map { "\($0)" }),
                         ("--inter-node-gradient-sum", links.interNodeGradientSum.map { "\($0)" }),
                         ("--rank-order", links.rankOrder == .auto ? nil : links.rankOrder.rawValue)]
            if let (flag, value) = given.first(where: { $0.1 != nil }) {
                throw ValidationError("\(flag) \(value!) describes ranks on several nodes: give --ranks-per-node K too")
            }
            return
        }
        guard ranksPerNode >= 1 else { throw ValidationError("--ranks-per-node \(ranksPerNode): a node holds at least 1 rank") }
        for (flag, value) in [("--inter-node-latency", links.interNodeLatency), ("--inter-node-transfer", links.interNodeTransfer), ("--inter-node-gradient-sum", links.interNodeGradientSum)] {
            if let value, !(value.isFinite && value >= 0) { throw ValidationError("\(flag) \(value): every cost must be a finite number >= 0") }
        }
        if links.rankOrder == .mirror && !output.compare {
            let configuration = try selection.configuration()
            if configuration.kind != .dualpipe {
                throw ValidationError("--rank-order mirror puts DualPipe's mirror pairs (pp and PP-1-pp) side by side, and \(configuration.kind.title) has none (it holds one copy of each stage): use --kind dualpipe, or --rank-order pipeline")
            }
        }
    }

    /// What a stage's sum over its two copies costs, when --gradient-sum or --inter-node-gradient-sum asks.
    private var gradientSums: GradientSumCosts? {
        guard costFlags.gradientSum != nil || links.interNodeGradientSum != nil else { return nil }
        return GradientSumCosts(inside: costFlags.gradientSum ?? 0, between: links.interNodeGradientSum ?? costFlags.gradientSum)
    }

    /// Where `schedule`'s ranks sit with --ranks-per-node: DualPipe in the --rank-order chosen (auto
    /// decided as train decides it), every other kind in pipeline order.
    private func placement(for schedule: Schedule) -> NodePlacement? {
        guard let ranksPerNode = links.ranksPerNode else { return nil }
        let n = schedule.ranks
        let order: GridShape.RankOrder = schedule.kind != .dualpipe ? .pipeline : links.rankOrder.named
            ?? .automatic(isDualPipe: true, pipeline: n, expert: 1, nodeOfRank: (0..<n).map { $0 / ranksPerNode })
        let grid = GridShape(pipeline: n, expert: 1, order: order)
        return NodePlacement(ranksPerNode: ranksPerNode, worldRanks: (0..<n).map { grid.worldRank(pipeline: $0, expert: 0) },
                             latency: links.interNodeLatency ?? links.latency, transfer: links.interNodeTransfer ?? links.transfer)
    }

    /// --compare runs every kind on N stages (the kinds with two stages a rank on N/2 ranks); each
    /// kind that refuses the configuration is skipped with its reason, so only the bounds every
    /// kind shares are checked.
    private func checkComparison() throws {
        let n = selection.ranks, m = selection.microBatches
        guard n >= 1 else { throw ValidationError("\(ScheduleSelection.ranksFlags) \(n): --compare needs at least 1 stage (PP >= 1)") }
        guard m >= 1 else { throw ValidationError("-m/--micro-batches \(m): every kind needs at least one micro-batch (M >= 1)") }
        guard n <= ScheduleConfiguration.maximumRanks else {
            throw ValidationError("\(ScheduleSelection.ranksFlags) \(n) exceeds the limit of \(ScheduleConfiguration.maximumRanks) stages (docs/inputs.md)")
        }
        guard m <= ScheduleConfiguration.maximumChunks / n else {
            throw ValidationError("\(ScheduleSelection.ranksFlags) \(n) x -m/--micro-batches \(m) exceeds the limit of \(ScheduleConfiguration.maximumChunks) chunks (stages x micro-batches; docs/inputs.md)")
        }
        if let v = selection.stagesPerRank, !(2...ScheduleConfiguration.maximumStagesPerRank).contains(v) {
            throw ValidationError("--stages-per-rank \(v): with --compare it is the looped kinds' V (Interleaved 1F1B, Interleaved ZB, Looped BFS), from 2 to \(ScheduleConfiguration.maximumStagesPerRank)")
        }
    }

    func run() throws {
        // The trace is read once here (validate() read it too, to check the costs before any work).
        let spans = try costFlags.costsFromTrace.map(traceSpans)
        let costs = costs(measured: spans.map(ChromeTrace.byKind))
        if output.compare {
            if let line = traceLine(spans, perStage: false) { print(line) }
            let comparison = Comparison(stages: selection.ranks, microBatches: selection.microBatches, costs: costs, pairs: costFlags.pairs.timing,
                                        interleavedStagesPerRank: selection.stagesPerRank ?? 2, placement: placement(for:), gradientSums: gradientSums)
            try emit(output.format == .json ? comparison.reportJSON() : comparison.report(), to: nil)
            return
        }
        let schedule = try selection.validatedSchedule()
        let perStage = spans.flatMap { stageCosts($0, of: schedule) }
        if let line = traceLine(spans, perStage: perStage != nil) { print(line) }
        var simulation = try perStage.map { try schedule.simulate($0, link: costs, pairs: costFlags.pairs.timing, placement: placement(for: schedule)) }
            ?? schedule.simulate(costs, pairs: costFlags.pairs.timing, placement: placement(for: schedule))
        simulation.gradientSums = gradientSums
        try emit(output.format == .json ? simulation.reportJSON() : simulation.report(), to: nil)
        if let trace = output.trace { try emit(simulation.chromeTrace(), to: trace, flag: "--trace") }
        if let svg = output.svg { try emit(simulation.svg(), to: svg, flag: "--svg") }
    }
}
