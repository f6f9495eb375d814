import Model
import Pipeline

/// DualPipe keeps two copies of every stage, on pipeline ranks pp and PP-1-pp, and sums their
/// gradients every step: the whole model's worth at PP 2, mostly after the schedule (only a stage
/// that both copies finish before their last compute starts its sum during it). When a pair spans
/// nodes that sum crosses the network every step (on the two local nodes at 1 ms and
/// 1 Gbit/s, PP 4: 118 to 131 ms of a 290 ms step, against 28 to 46 ms with each pair on one
/// node). The run's header says so and names the way out.
enum MirrorPlacement {
    /// The header's account of a run in mirror order: the slots' pipeline ranks, and why.
    static func orderLine(_ c: PipelineConfiguration, choice: RankOrderChoice) -> String {
        let grid = c.grid
        let slots = (0..<c.pipelineRanks).map { String(grid.pipelineRank(ofSlot: $0)) }.joined(separator: ", ")
        let why = choice == .auto
            ? "rank order mirror (auto: in pipeline order DualPipe's mirror pairs would span nodes; --rank-order pipeline keeps that order)"
            : "--rank-order mirror"
        return "grid: \(why), rank = slot * \(c.expertParallel) + ep with the slots holding pp \(slots)"
    }

    /// A header line for a run whose mirror pairs span nodes (nil otherwise). `stages`: the ones
    /// this rank holds, whose gradients its sum carries.
    static func warning(grid: RankGrid, configuration: PipelineConfiguration, stages: [any ParameterOwner]) -> String? {
        let pairs = grid.mirrorPairsAcrossNodes(configuration)
        guard grid.nodes.nodeCount > 1, !pairs.isEmpty else { return nil }
        let megabytes = Double(stages.reduce(0) { $0 + $1.parameterCount } * MemoryLayout<Float>.size) / 1_000_000
        let names = pairs.map { "pp \($0.0) and \($0.1)" }.joined(separator: ", ")
        return "nodes: warning: DualPipe's mirror pairs \(names) span nodes, so every step each of their ranks sums "
            + "\(megabytes < 10 ? String(format: "%.1f", megabytes) : String(Int(megabytes.rounded()))) MB of gradients across the network; "
            + (configuration.pipelineRanks > 2
                ? "--rank-order mirror (nodes of a multiple of \(2 * configuration.expertParallel) ranks) or a rankfile (scripts/mirror-rankfile) puts each pair on one node"
                : "at PP 2 the pair is the whole pipeline: more pipeline ranks, or DualPipeV (one copy of each stage), keep it off the network")
    }
}
