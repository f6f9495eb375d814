/// A schedule's ranks spread over nodes, for a simulation that prices the hops between nodes
/// apart from those inside one: world ranks fill nodes of `ranksPerNode` in turn (as a hostfile
/// or Slurm's block distribution packs them), pipeline rank p at world rank `worldRanks[p]`.
/// A message inside a node costs what `Costs` says of every link; one between nodes costs
/// `latency` and `transfer` here.
///
/// The order of `worldRanks` is where placements differ: DualPipe in mirror order puts pipeline
/// ranks pp and PP-1-pp side by side, so its gradient sums stay inside a node while more of its
/// pipeline hops cross. The simulation times the schedule; `Simulation.wholeStep` adds those sums.
public struct NodePlacement: Hashable, Sendable {
    public let ranksPerNode: Int
    /// [pipeline rank] its world rank: a permutation of 0..<ranks.
    public let worldRanks: [Int]
    /// A message between nodes: its latency, and the time it holds the link (`Costs.transfer`).
    public let latency: Double
    public let transfer: Double

    public init(ranksPerNode: Int, worldRanks: [Int], latency: Double, transfer: Double = 0) {
        self.ranksPerNode = ranksPerNode
        self.worldRanks = worldRanks
        self.latency = latency
        self.transfer = transfer
    }

    /// The node pipeline rank `rank` sits on.
    public func node(of rank: Int) -> Int { worldRanks[rank] / ranksPerNode }

    /// [node] its pipeline ranks, lowest first.
    public var nodes: [[Int]] {
        guard let last = worldRanks.indices.map(node(of:)).max() else { return [] }
        return (0...last).map { n in worldRanks.indices.filter { node(of: $0) == n } }
    }

    /// The links of the schedule's ranks: `inside` on a node, this placement's costs across.
    public func links(inside: Costs) -> Links {
        Links(ranks: worldRanks.count) { from, to in
            node(of: from) == node(of: to) ? (latency: inside.latency, transfer: inside.transfer) : (latency: latency, transfer: transfer)
        }
    }

    /// A placement for exactly the schedule's ranks, each on its own world rank, at least one rank
    /// a node, costs finite and >= 0. The error names the value and the rule.
    public func validate(for schedule: Schedule) throws(ScheduleError) {
        guard ranksPerNode >= 1 else {
            throw .invalidCosts("ranks per node = \(ranksPerNode): a node holds at least 1 rank")
        }
        guard worldRanks.count == schedule.ranks, worldRanks.sorted() == Array(0..<schedule.ranks) else {
            throw .invalidCosts("world ranks \(worldRanks): the schedule's \(schedule.ranks) ranks need each of 0..<\(schedule.ranks) once")
        }
        for (name, value) in [("latency between nodes", latency), ("transfer between nodes", transfer)] where !(value.isFinite && value >= 0) {
            throw .invalidCosts("\(name) = \(value): every cost must be a finite number >= 0")
        }
    }

    /// "0,3 | 1,2": each node's pipeline ranks.
    public var nodesSummary: String {
        nodes.map { $0.map(String.init).joined(separator: ",") }.joined(separator: " | ")
    }
}
