/// Packs expert groups onto nodes for the balanced hierarchical layout, so that every replica of a group's
/// experts stays on one node.
///
/// Start: the reference's packing (groups by descending load, each to the lightest node with room, the same
/// number of groups per node), with node load measured per rank so nodes with more ranks take more.
/// Then swaps of two groups between the node with the highest cost and another node, while the pair's
/// higher cost drops. A node's cost is a lower bound on its busiest rank: the larger of its load per rank and
/// its heaviest replica once its slots are shared out (`cappedReplication`, as in `PoolPacking`).
struct NodePacking {
    /// [groups] node of each group, after a successful `pack`.
    private(set) var nodeOfGroup: [Int] = []
    /// The highest node cost after packing: no placement of these groups has a lighter busiest rank.
    private(set) var floor = 0.0

    /// - Parameters:
    ///   - weight: [logicalExperts] loads of one layer.
    ///   - groupStart: [groups + 1] first expert of each group.
    ///   - ranks: [nodes] ranks of each node; slots: [nodes] slots of each node.
    /// - Returns: false when the equal-count packing leaves some node with more experts than slots, or with
    ///   more slots than it can fill without a second replica of an expert on a rank
    ///   (`experts <= slots <= experts * ranks` must hold on every node).
    mutating func pack(weight: [Double], groupStart: [Int], ranks: [Int], slots: [Int], maxSwaps: Int = 256) -> Bool {
        var state = NodeState(weight: weight, groupStart: groupStart, ranks: ranks, slots: slots)
        guard state.isFeasible else { return false }
        var swaps = 0
        while swaps < maxSwaps, state.improveCostliestNode() { swaps += 1 }
        nodeOfGroup = state.nodeOfGroup
        floor = state.nodeCost.max() ?? 0
        return true
    }
}

/// The packing being improved: which groups each node holds, with its load and cost.
private struct NodeState {
    let weight: [Double]  // [logicalExperts]
    let groupStart: [Int]  // [groups + 1]
    let ranks: [Int]  // [nodes]
    let slots: [Int]  // [nodes]
    let groupLoad: [Double]  // [groups]
    var nodeOfGroup: [Int]  // [groups]
    var groupsOf: [[Int]]  // [nodes][groups on the node]
    var nodeLoad: [Double]  // [nodes]
    var nodeCost: [Double] = []  // [nodes]
    private var scratch: [Double] = []  // loads of one node's experts

    /// The reference's packing: groups by descending load (ties by index), each to the node with the lowest
    /// load per rank among those with fewer than groups/nodes groups.
    init(weight: [Double], groupStart: [Int], ranks: [Int], slots: [Int]) {
        self.weight = weight
        self.groupStart = groupStart
        self.ranks = ranks
        self.slots = slots
        let groups = groupStart.count - 1, nodes = ranks.count, perNode = groups / nodes
        let groupLoad = (0..<groups).map { g in weight[groupStart[g]..<groupStart[g + 1]].reduce(0, +) }
        self.groupLoad = groupLoad
        let order = (0..<groups).sorted { groupLoad[$0] > groupLoad[$1] || (groupLoad[$0] == groupLoad[$1] && $0 < $1) }
        nodeOfGroup = [Int](repeating: 0, count: groups)
        nodeLoad = [Double](repeating: 0, count: nodes)
        groupsOf = [[Int]](repeating: [], count: nodes)
        for g in order {
            var best = -1
            for n in 0..<nodes where groupsOf[n].count < perNode {
                if best < 0 || nodeLoad[n] / Double(ranks[n]) < nodeLoad[best] / Double(ranks[best]) { best = n }
            }
            nodeOfGroup[g] = best
            nodeLoad[best] += groupLoad[g]
            groupsOf[best].append(g)
        }
        for n in 0..<nodes { groupsOf[n].sort() }
        if isFeasible { nodeCost = (0..<nodes).map { cost($0, groupsOf[$0]) } }
    }

    var isFeasible: Bool { groupsOf.indices.allSatisfy { feasible($0, groupsOf[$0]) } }

    func feasible(_ n: Int, _ groups: [Int]) -> Bool {
        let experts = groups.reduce(0) { $0 + groupStart[$1 + 1] - groupStart[$1] }
        return experts <= slots[n] && slots[n] <= experts * ranks[n]
    }

    /// A lower bound on the busiest rank of node n holding these groups.
    mutating func cost(_ n: Int, _ groups: [Int]) -> Double {
        scratch.removeAll(keepingCapacity: true)
        for g in groups { scratch.append(contentsOf: weight[groupStart[g]..<groupStart[g + 1]]) }
        let total = scratch.reduce(0, +)
        return max(total / Double(ranks[n]), heaviestReplica(scratch, slots: slots[n], cap: ranks[n]))
    }

    /// Makes the swap of a group of the costliest node with a lighter group elsewhere that lowers the pair's
    /// higher cost the most; false when none lowers it.
    mutating func improveCostliestNode() -> Bool {
        let a = nodeCost.indices.max { nodeCost[$0] < nodeCost[$1] }!
        var best: (pairMax: Double, b: Int, ia: Int, ib: Int, costA: Double, costB: Double)?
        for b in ranks.indices where b != a {
            for ia in groupsOf[a].indices {
                for ib in groupsOf[b].indices {
                    let ga = groupsOf[a][ia], gb = groupsOf[b][ib]
                    guard groupLoad[gb] < groupLoad[ga] else { continue }
                    var newA = groupsOf[a], newB = groupsOf[b]
                    newA[ia] = gb
                    newB[ib] = ga
                    // Load per rank alone already bounds the cost: skip swaps that cannot win.
                    let bound = max(
                        (nodeLoad[a] - groupLoad[ga] + groupLoad[gb]) / Double(ranks[a]),
                        (nodeLoad[b] - groupLoad[gb] + groupLoad[ga]) / Double(ranks[b]))
                    let target = best?.pairMax ?? nodeCost[a]
                    guard bound < target, feasible(a, newA), feasible(b, newB) else { continue }
                    let costA = cost(a, newA), costB = cost(b, newB)
                    if max(costA, costB) < target * (1 - 1e-12) { best = (max(costA, costB), b, ia, ib, costA, costB) }
                }
            }
        }
        guard let best else { return false }
        let ga = groupsOf[a][best.ia], gb = groupsOf[best.b][best.ib]
        groupsOf[a][best.ia] = gb
        groupsOf[best.b][best.ib] = ga
        nodeOfGroup[ga] = best.b
        nodeOfGroup[gb] = a
        nodeLoad[a] += groupLoad[gb] - groupLoad[ga]
        nodeLoad[best.b] += groupLoad[ga] - groupLoad[gb]
        nodeCost[a] = best.costA
        nodeCost[best.b] = best.costB
        return true
    }
}

/// The heaviest replica after sharing `slots` among experts as `cappedReplication` does: the least possible
/// load of the busiest replica.
func heaviestReplica(_ weight: [Double], slots: Int, cap: Int) -> Double {
    cappedReplication(weight, slots: slots, cap: cap).perReplica.max() ?? 0
}
