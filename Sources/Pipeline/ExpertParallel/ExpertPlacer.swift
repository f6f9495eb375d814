import EPLB

/// How slots are (re)assigned to experts.
public enum PlacementPolicy: String, Sendable, CaseIterable {
    /// Our EPLB policy: no two replicas of an expert on one rank, keeps experts in place where
    /// balance allows.
    case balanced
    /// DeepSeek's eplb.py, output for output.
    case reference
    /// A drill, not a balancer: every slot takes the expert of the slot one EP rank further on,
    /// so (with EP > 1) every expert moves. Tests migration.
    case shift

    public static func named(_ name: String) throws(PipelineError) -> PlacementPolicy {
        guard let policy = PlacementPolicy(rawValue: name) else {
            throw PipelineError("--eplb-policy \(name) is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return policy
    }
}

/// Places the R physical slots of each MoE layer over an EP group with EPLB, from per-expert
/// loads: hierarchical over the nodes the group spans when they divide the expert groups
/// (EPLB decides), global otherwise. A pure function of its inputs, so every rank that holds a
/// layer computes the same placement without talking.
public struct ExpertPlacer: Sendable {
    public let policy: PlacementPolicy
    public let shape: ClusterShape
    public let logicalExperts: Int

    public init(policy: PlacementPolicy, replicas: Int, groups: Int, nodes: Int, ranks: Int, logicalExperts: Int) {
        self.policy = policy
        shape = ClusterShape(replicas: replicas, groups: groups, nodes: nodes, ranks: ranks)
        self.logicalExperts = logicalExperts
    }

    /// `loads[layer][expert]`; `previous[layer]` the current phy2log rows. Returns the new rows.
    public func place(loads: [[Double]], previous: [[Int]]?) throws -> [[Int]] {
        if policy == .shift, let previous {
            let step = shape.replicas / shape.ranks
            return previous.map { row in row.indices.map { row[($0 + step) % row.count] } }
        }
        let weights = try ExpertLoads(rows: loads)
        switch policy {
        case .reference:
            return try ReferencePolicy.place(weights, shape).phy2logRows
        case .balanced, .shift:
            let before = previous.map { rows in
                Placement(layers: rows.count, logicalExperts: logicalExperts, replicas: shape.replicas, phy2log: rows.flatMap { $0 })
            }
            return try BalancedPolicy.place(weights, shape, previous: before).phy2logRows
        }
    }

    /// The layout before any load is known: EPLB on uniform loads.
    public func initial(layers: Int) throws -> [[Int]] {
        try place(loads: [[Double]](repeating: [Double](repeating: 1, count: logicalExperts), count: layers), previous: nil)
    }

    /// Busiest rank load over the mean (1 is perfect balance): a replica carries its expert's
    /// load divided by the expert's replica count.
    public func imbalance(_ phy2log: [Int], loads: [Double]) -> Double {
        var copies = [Int](repeating: 0, count: logicalExperts)
        for e in phy2log { copies[e] += 1 }
        let perRank = phy2log.count / shape.ranks
        var rank = [Double](repeating: 0, count: shape.ranks)
        for (p, e) in phy2log.enumerated() where copies[e] > 0 { rank[p / perRank] += loads[e] / Double(copies[e]) }
        let mean = rank.reduce(0, +) / Double(shape.ranks)
        return mean > 0 ? rank.max()! / mean : 1
    }
}
