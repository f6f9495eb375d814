/// One layer of the balanced policy: choose the pools (the nodes, or the whole cluster), pack each, and
/// write the result as a layer of `phy2log`. Buffers are kept from one layer to the next.
struct LayerPlanner {
    /// Experts placed together on a run of ranks.
    struct Pool {
        var experts: [Int]  // logical experts of the pool, ascending
        var firstRank: Int
        var ranks: Int
    }

    let shape: ClusterShape
    let logicalExperts: Int
    let groupStart: [Int]  // [groups + 1] first expert of each group; [0, logicalExperts] in the global layout
    private let rankStart: [Int]  // [nodes + 1]
    private let nodeRanks: [Int]  // [nodes]
    private let nodeSlots: [Int]  // [nodes]
    private let capacity: [Int]  // [ranks] slots of each rank
    private var nodePacking = NodePacking()
    private var solved: [PoolPacking]
    private var spare = PoolPacking()
    private(set) var pools: [Pool] = []

    init(shape: ClusterShape, logicalExperts: Int) {
        self.shape = shape
        self.logicalExperts = logicalExperts
        // The global layout ignores groups and nodes (they may then exceed experts and ranks): one group, one
        // node, so nothing here grows with them.
        let hierarchical = shape.isHierarchical
        groupStart =
            hierarchical
            ? (0...shape.groups).map { shape.firstExpert(ofGroup: $0, logicalExperts: logicalExperts) }
            : [0, logicalExperts]
        rankStart = hierarchical ? (0...shape.nodes).map { shape.firstRank(ofNode: $0) } : [0, shape.ranks]
        let nodes = rankStart.count - 1
        nodeRanks = (0..<nodes).map { [rankStart] in rankStart[$0 + 1] - rankStart[$0] }
        nodeSlots = (0..<nodes).map { [rankStart] in
            shape.firstSlot(ofRank: rankStart[$0 + 1]) - shape.firstSlot(ofRank: rankStart[$0])
        }
        capacity = (0..<shape.ranks).map { shape.slotCount(ofRank: $0) }
        solved = [PoolPacking](repeating: PoolPacking(), count: nodes)
    }

    /// The node of each group when this layer was placed hierarchically, nil when globally.
    var nodeOfGroup: [Int]? { pools.count > 1 ? nodePacking.nodeOfGroup : nil }

    /// - Parameter weight: [logicalExperts] loads of the layer.
    /// - Returns: [replicas] the layer's phy2log, each rank's experts in ascending order.
    mutating func plan(_ weight: [Double]) -> [Int] {
        choosePools(weight)
        packPools(weight)
        return phy2log()
    }

    private mutating func choosePools(_ weight: [Double]) {
        pools = [Pool(experts: Array(0..<logicalExperts), firstRank: 0, ranks: shape.ranks)]
        guard shape.isHierarchical, shape.nodes > 1,
            nodePacking.pack(weight: weight, groupStart: groupStart, ranks: nodeRanks, slots: nodeSlots)
        else { return }
        pools = (0..<shape.nodes).map { node in
            let groups = (0..<shape.groups).filter { nodePacking.nodeOfGroup[$0] == node }
            return Pool(
                experts: groups.flatMap { groupStart[$0]..<groupStart[$0 + 1] }, firstRank: rankStart[node],
                ranks: nodeRanks[node])
        }
    }

    /// Every pool is packed; then the pool holding the busiest rank tries capped replica counts when its
    /// replicated experts stack up (see `PoolPacking.busiestRankStacksReplicas`). Other pools stop swapping
    /// once they are below the busiest rank some node must have.
    private mutating func packPools(_ weight: [Double]) {
        let good = pools.count > 1 ? nodePacking.floor : 0
        let poolWeight = pools.map { pool in pool.experts.map { weight[$0] } }
        let poolCapacity = pools.map { Array(capacity[$0.firstRank..<($0.firstRank + $0.ranks)]) }
        for p in pools.indices {
            solved[p].solve(weight: poolWeight[p], capacity: poolCapacity[p], good: good)
        }
        var tried = Set<Int>()
        while let p = pools.indices.max(by: { solved[$0].busiest < solved[$1].busiest }), tried.insert(p).inserted,
            solved[p].busiestRankStacksReplicas
        {
            // A cap at or above every greedy count changes nothing; a cap too low cannot fill the slots.
            let ranks = pools[p].ranks, greedyMost = solved[p].count.max() ?? 1
            for cap in [ranks / 2, (3 * ranks) / 4]
            where cap >= 1 && cap < greedyMost && cap * pools[p].experts.count >= solved[p].offset[ranks] {
                spare.solve(weight: poolWeight[p], capacity: poolCapacity[p], replicaCap: cap, good: good)
                if spare.busiest < solved[p].busiest * (1 - 1e-9) { swap(&solved[p], &spare) }
            }
        }
    }

    private func phy2log() -> [Int] {
        var layer = [Int](repeating: 0, count: shape.replicas)  // [replicas]
        for (p, pool) in pools.enumerated() {
            let packed = solved[p]
            for r in 0..<pool.ranks {
                let rank = pool.firstRank + r, first = shape.firstSlot(ofRank: rank)
                for q in 0..<(packed.offset[r + 1] - packed.offset[r]) {
                    layer[first + q] = pool.experts[packed.slotExpert[packed.offset[r] + q]]
                }
                sortAscending(&layer, first..<shape.firstSlot(ofRank: rank + 1))
            }
        }
        return layer
    }
}

/// Insertion sort of a short range (one rank's slots).
private func sortAscending(_ values: inout [Int], _ range: Range<Int>) {
    for i in range.dropFirst() {
        let value = values[i]
        var j = i
        while j > range.lowerBound && values[j - 1] > value {
            values[j] = values[j - 1]
            j -= 1
        }
        values[j] = value
    }
}
