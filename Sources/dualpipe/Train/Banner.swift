import EPLB
import MPI
import Model
import Pipeline
import Schedule
import Tensor

extension PipelineRun {
    /// What the run is: grid, stages per rank, schedule, model and data; `threadWarning` (ranks
    /// that run fewer OpenBLAS threads than they asked for) right under the first line.
    func banner(_ plan: Plan, trainer: PipelineTrainer, counts: (held: Int, updated: Int), threadWarning: String?) -> String {
        let c = plan.configuration, grid = c.grid
        // Counted from the shape (exact, and tested so): drawing every stage's weights again
        // here took as long as the trainer's own start on rank 0.
        let parameters = Int(plan.model.memoryEstimate.parameterCount)
        var lines = [
            "dualpipe train (build \(Build.describe)): \(c.schedule.title) on PP \(c.pipelineRanks) x EP \(c.expertParallel) = \(grid.worldSize) ranks on \(trainer.grid.nodes.nodeCount) node(s); \(ComputeSetup.kernelsDescription), \(BLAS.threadCount) thread(s) per rank; MPI progress: \(options.progress.mode.rawValue)\(IdleYield.note); \(MessageTransports.description)",
            (c.rankOrder == .pipeline ? "grid: rank = pp * \(c.expertParallel) + ep" : MirrorPlacement.orderLine(c, choice: options.rankOrder))
                + "; \(c.microBatches) micro-batches per EP rank, \(c.globalMicroBatches) per step" + trainer.executor.pairDescription(trainer.schedule),
            "model: \(plan.model.layers) blocks in \(c.partition.stages) stages of \(c.partition.blocksPerStage), \(parameters) parameters, \(plan.model.tokensPerMicroBatch) tokens per micro-batch; data: \(plan.corpus.bytes.count) bytes from \(plan.corpus.source), the last 5% held out",
        ]
        if let threadWarning { lines.insert(threadWarning, at: 1) }
        let shape = trainer.placer.shape
        lines.append("experts: \(c.replicas) slots per MoE layer over each EP group (\(c.slotsPerRank) per EP rank, \(c.replicas - plan.model.experts) redundant); " + placementLine(plan, shape: shape))
        let split = trainer.grid.expertGroupsAcrossNodes
        if trainer.grid.nodes.nodeCount > 1 {
            lines.append(split.isEmpty
                ? "nodes: every EP group on one node (its all-to-all stays inside the node; the pipeline crosses nodes)"
                : "nodes: warning: the EP groups of " + split.map { "pp \($0.pipeline) span nodes \($0.nodes.map(String.init).joined(separator: ","))" }.joined(separator: "; ")
                    + " (their all-to-all crosses nodes: give each node a multiple of \(c.expertParallel) slots)")
        }
        if let warning = MirrorPlacement.warning(grid: trainer.grid, configuration: c, stages: trainer.stages) { lines.append(warning) }
        if let line = earlySumsLine(trainer.earlySumStages, pipelineRank: trainer.grid.pipelineRank) { lines.append(line) }
        lines.append(optimizerLine(c, sharded: trainer.shardsOptimizer, counts: counts))
        lines.append(memoryLine(plan.rankMemory, reference: plan.reference, fits: plan.memoryFits))
        lines += options.persistenceLines(heldOutMicroBatches: c.globalMicroBatches, space: plan.checkpointSpace)
        for pp in 0..<c.pipelineRanks {
            let ranks = (0..<c.expertParallel).map { String(grid.worldRank(pipeline: pp, expert: $0)) }.joined(separator: ",")
            let node = trainer.grid.nodes.nodeCount > 1 ? " on node \(trainer.grid.nodeOfRank[grid.worldRank(pipeline: pp, expert: 0)])" : ""
            let mirror = c.kind == .dualpipe ? " (copies of these stages also on pp \(c.pipelineRanks - 1 - pp))" : ""
            lines.append("  pp \(pp): ranks \(ranks)\(node) hold stage\(c.stagesHeld(byPipelineRank: pp).count > 1 ? "s" : "") \(listed(c.stagesHeld(byPipelineRank: pp)))\(mirror)")
        }
        lines.append(trainer.schedule.text().split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        return lines.joined(separator: "\n")
    }
}

/// The `experts:` line's account of placement. The shift drill places as balanced does at the
/// start and moves experts only at a rebalance, so the line names what actually runs.
func placementLine(_ plan: PipelineRun.Plan, shape: ClusterShape) -> String {
    let k = plan.balancing.rebalanceEvery, policy = plan.balancing.policy
    let every = k == 1 ? "every step" : "every \(k) steps"
    let initial = policy == .shift ? PlacementPolicy.balanced : policy
    let start = "EPLB \(initial.rawValue) places over the \(shape.nodes) node(s) an EP group spans, \(shape.isHierarchical ? "hierarchical" : "global") layout"
    if plan.rebalancesExperts {
        return start + (policy == .shift ? ", then the shift drill moves every expert one EP rank on \(every)" : ", again \(every)")
    }
    if k > 0 {
        return start + ", once (--rebalance-every \(k) left idle: with EP 1 each rank holds every expert of its stages, so no placement moves or balances anything)"
    }
    if policy == .shift {
        return start + ", once (--eplb-policy shift left idle: the drill moves experts at each rebalance, and --rebalance-every is 0)"
    }
    return start + ", once"
}

/// The banner line for a run whose mirror pairs sum some stage during the schedule, naming the
/// lead rank's (nil: it sums none).
func earlySumsLine(_ stages: [Int], pipelineRank: Int) -> String? {
    guard !stages.isEmpty else { return nil }
    let names = stages.map(String.init).joined(separator: " and ")
    return "gradient sums: mirror pairs across nodes sum a stage that both ranks finish before their last action during the schedule (pp \(pipelineRank): stage \(names)), swapped once their pipeline messages are through; the other sums follow the schedule"
}

/// The banner's `memory:` line: the estimate of the rank that needs the most (`estimates` [PP]),
/// --check-reference's copy where there is one, and whether every node fits (`fits`: false where
/// --skip-memory-check let the job past the check).
func memoryLine(_ estimates: [RankMemoryEstimate], reference: ReferenceCopy?, fits: Bool) -> String {
    let (largest, e) = estimates.largest!
    let gib = PhysicalMemory.formatted
    return "memory: about \(gib(e.total)) on pp \(largest), the rank that needs the most (an estimate: \(gib(e.process)) for the process as it started, \(gib(e.parameters)) of parameters with gradients and AdamW moments, "
        + "\(e.contexts) micro-batches kept at once by its schedule, \(gib(e.contextBytes)) each\(e.data > 0 ? ", \(gib(e.data)) of inputs and targets" : "")"
        + "\(e.sums > 0 ? ", \(gib(e.sums)) of buffers for the gradient sums" : "")\(e.messageBuffers > 0 ? ", \(gib(e.messages)) for \(e.messageBuffers) message buffers" : "")"
        + (e.checkpoint > e.activations + e.transient ? ", and \(gib(e.checkpoint)) in their place while a checkpoint is saved or read" : "") + ")"
        + (reference.map { "; \($0)" } ?? "")
        + "; \(fits ? "every node's ranks together fit" : "a node's ranks together need more than") its \(PhysicalMemory.limit?.isCgroup == true ? "cgroup's memory limit" : "MemTotal")"
        + (fits ? "" : " (running anyway: --skip-memory-check)")
}

/// The banner's `optimizer:` line: who runs AdamW on what, and the parameter memory a rank needs
/// (`counts`: the most parameters a rank holds, a weight and a gradient each, and the most it
/// updates, two moments each; collective figures, gathered by the caller).
func optimizerLine(_ configuration: PipelineConfiguration, sharded: Bool, counts: (held: Int, updated: Int)) -> String {
    let memory = "; a rank holds at most \(counts.held) parameters (\(pairOfFloatsMiB(counts.held)) MiB with their gradients) and updates at most \(counts.updated) (\(pairOfFloatsMiB(counts.updated)) MiB of AdamW moments)"
    guard OptimizerSharding.applies(to: configuration) else { return "optimizer: AdamW on every held stage" + memory }
    let partner = "pp \(configuration.pipelineRanks - 1)-r"
    if !sharded {
        return "optimizer: both copies of each stage sum its gradients and run AdamW on it (--no-shard-optimizer, or the mirror pairs span nodes)" + memory
    }
    return (configuration.expertParallel == 1
        ? "optimizer: AdamW sharded over the mirror pairs (--shard-optimizer): pp r sums and updates stage r alone and sends its weights to \(partner)"
        : "optimizer: AdamW sharded over the mirror pairs (--shard-optimizer): the 2 x EP copies of each stage sum its gradients as before, then pp r updates stage r alone and sends its weights to \(partner) at the same EP rank") + memory
}

/// Two floats for each of `parameters` (a weight and its gradient, or AdamW's two moments), in MiB
/// with one decimal.
func pairOfFloatsMiB(_ parameters: Int) -> String {
    String(format: "%.1f", Double(parameters * 2 * MemoryLayout<Float>.size) / 1_048_576)
}

/// The most parameters any rank holds and updates. Collective over `world`.
func largestParameterCounts(_ counts: (held: Int, updated: Int), world: Communicator) throws -> (held: Int, updated: Int) {
    var values = [counts.held, counts.updated]
    try world.allreduce(&values, op: .max)
    return (values[0], values[1])
}

extension StageExecutor {
    /// "; FB pairs: ..." for a schedule that has them, for a run's banner.
    func pairDescription(_ schedule: Schedule) -> String {
        guard schedule.program.joined().contains(where: { $0.op == .FB }) else { return "" }
        return switch pairOrder {
        case .interleaved: "; FB pairs: F and B phases alternating (--overlap)"
        case .sequential: "; FB pairs: F, then B (--no-overlap)"
        }
    }
}
