/// Our policy: the reference's structure (hierarchical when the number of nodes divides the number of groups,
/// global otherwise) with what it lacks.
///
/// - No rank ever holds two replicas of one logical expert.
/// - Lower busiest-rank load: groups go to nodes by a cost that counts how finely the node can split its
///   heavy experts (`NodePacking`), and replicas are packed with swaps after the first fit (`PoolPacking`).
/// - Any shape is placed: ranks may hold `floor` or `ceil(replicas / ranks)` slots, nodes different numbers
///   of ranks, groups different numbers of experts. When the groups cannot be kept whole on nodes (a node
///   would get more experts than slots), that layer falls back to the global layout.
/// - Given the previous placement, experts stay on their ranks where that costs no balance (`KeepInPlace`).
public enum BalancedPolicy {
    public static func place(_ loads: ExpertLoads, _ shape: ClusterShape, previous: Placement? = nil) throws
        -> Placement
    {
        try shape.validateForBalanced(logicalExperts: loads.logicalExperts)
        if let previous { try validate(previous: previous, loads: loads, shape: shape) }
        let experts = loads.logicalExperts, replicas = shape.replicas, ranks = shape.ranks
        let nodes = shape.nodes
        let groupStart = (0...shape.groups).map { shape.firstExpert(ofGroup: $0, logicalExperts: experts) }
        let rankStart = (0...nodes).map { shape.firstRank(ofNode: $0) }  // [nodes + 1]
        let nodeRanks = (0..<nodes).map { rankStart[$0 + 1] - rankStart[$0] }  // [nodes]
        let nodeSlots = (0..<nodes).map { shape.firstSlot(ofRank: rankStart[$0 + 1]) - shape.firstSlot(ofRank: rankStart[$0]) }
        let capacity = (0..<ranks).map { shape.slotCount(ofRank: $0) }  // [ranks]

        var phy2log = [Int](repeating: 0, count: loads.layers * replicas)  // [layers, replicas]
        var solved = [PoolPacking](repeating: PoolPacking(), count: max(nodes, 1)), spare = PoolPacking()
        var nodePacking = NodePacking()
        let keeper = KeepInPlace(shape: shape, logicalExperts: experts)
        for layer in 0..<loads.layers {
            let weight = Array(loads.row(layer))  // [logicalExperts]
            var layerMap = [Int](repeating: 0, count: replicas)  // [replicas]
            var pools: [(experts: [Int], firstRank: Int, ranks: Int)] = [(Array(0..<experts), 0, ranks)]
            if shape.isHierarchical, nodes > 1,
                nodePacking.pack(weight: weight, groupStart: groupStart, ranks: nodeRanks, slots: nodeSlots)
            {
                pools = (0..<nodes).map { node in
                    let members = (0..<shape.groups).filter { nodePacking.nodeOfGroup[$0] == node }
                    return (members.flatMap { groupStart[$0]..<groupStart[$0 + 1] }, rankStart[node], nodeRanks[node])
                }
            }
            // Every pool is packed; then the pool holding the busiest rank tries capped replica counts when
            // its replicated experts stack up (see `PoolPacking.busiestRankStacksReplicas`). Other pools stop
            // swapping once they are below the busiest rank some node must have.
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
                let count = pools[p].ranks, greedyMost = solved[p].count.max() ?? 1
                for cap in [count / 2, (3 * count) / 4]
                where cap >= 1 && cap < greedyMost && cap * pools[p].experts.count >= solved[p].offset[count] {
                    spare.solve(weight: poolWeight[p], capacity: poolCapacity[p], replicaCap: cap, good: good)
                    if spare.busiest < solved[p].busiest * (1 - 1e-9) { swap(&solved[p], &spare) }
                }
            }
            for (p, (members, firstRank, count)) in pools.enumerated() {
                let pool = solved[p]
                for r in 0..<count {
                    let rank = firstRank + r
                    let first = shape.firstSlot(ofRank: rank)
                    for q in 0..<(pool.offset[r + 1] - pool.offset[r]) {
                        layerMap[first + q] = members[pool.slotExpert[pool.offset[r] + q]]
                    }
                    layerMap[first..<shape.firstSlot(ofRank: rank + 1)].sort()
                }
            }
            if let previous {
                layerMap = keeper.keep(
                    layerMap, previous: Array(previous.phy2log(layer: layer)), weight: weight,
                    nodeOfGroup: pools.count > 1 ? nodePacking.nodeOfGroup : nil, groupStart: groupStart)
            }
            phy2log.replaceSubrange((layer * replicas)..<((layer + 1) * replicas), with: layerMap)
        }
        return Placement(layers: loads.layers, logicalExperts: experts, replicas: replicas, phy2log: phy2log)
    }

    static func validate(previous: Placement, loads: ExpertLoads, shape: ClusterShape) throws {
        guard previous.layers == loads.layers else {
            throw EPLBError("previous placement has \(previous.layers) layers; the loads have \(loads.layers)")
        }
        guard previous.replicas == shape.replicas else {
            throw EPLBError(
                "previous placement has \(previous.replicas) replicas per layer; the request has replicas = \(shape.replicas)")
        }
        guard previous.logicalExperts <= loads.logicalExperts else {
            throw EPLBError(
                "previous placement names expert \(previous.logicalExperts - 1); the loads have \(loads.logicalExperts) experts")
        }
    }
}
