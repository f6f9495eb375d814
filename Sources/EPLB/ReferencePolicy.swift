/// DeepSeek's EPLB (github.com/deepseek-ai/EPLB, `eplb.py`), reproduced output for output.
///
/// Hierarchical layout: pack the expert groups onto nodes (equal group count per node), replicate experts
/// inside each node, pack each node's replicas onto its ranks (equal slot count per rank). Global layout (nodes
/// does not divide groups): the same with one group and one node, so groups and nodes are ignored there and may
/// exceed the experts and the ranks. Accepted inputs are exactly eplb.py's (`validateForReference`).
///
/// Arithmetic and tie-breaking follow eplb.py under PyTorch:
/// - loads are converted to Float32 and every sum and quotient is a Float32 operation (`weight.float()`);
///   sums run in index order, which is exact for integer loads below 2^24;
/// - a descending sort puts equal keys in ascending index order (what torch gives with `stable=True`, and
///   what its CPU sort gives for rows of at most 16 keys; for longer rows with equal keys PyTorch's unstable
///   order depends on version and CPU, so no reimplementation can promise it);
/// - the expert to replicate next is the first one with the largest load per replica (`max(dim).indices`);
/// - an item goes to the first of the lightest packs that still have room (Python's `min` with a key).
public enum ReferencePolicy {
    public static func place(_ loads: ExpertLoads, _ shape: ClusterShape) throws -> Placement {
        try shape.validateForReference(logicalExperts: loads.logicalExperts)
        try shape.validateSize(layers: loads.layers)
        let experts = loads.logicalExperts, replicas = shape.replicas
        let groups = shape.isHierarchical ? shape.groups : 1
        let nodes = shape.isHierarchical ? shape.nodes : 1
        let expertsPerGroup = experts / groups, groupsPerNode = groups / nodes
        let expertsPerNode = experts / nodes, slotsPerNode = replicas / nodes
        let ranksPerNode = shape.ranks / nodes, slotsPerRank = replicas / shape.ranks

        var phy2log = [Int](repeating: 0, count: loads.layers * replicas)  // [layers, replicas]
        var replicaIndex = [Int](repeating: 0, count: loads.layers * replicas)  // [layers, replicas]
        var packer = Packer(capacity: max(groups, slotsPerNode))
        var weight = [Float](repeating: 0, count: experts)  // [logicalExperts]
        var groupLoad = [Float](repeating: 0, count: groups)  // [groups]
        var groupNode = [Int](repeating: 0, count: groups), groupSlot = [Int](repeating: 0, count: groups)
        var mlog2log = [Int](repeating: 0, count: experts)  // node-major expert order -> logical expert
        var nodeWeight = [Float](repeating: 0, count: expertsPerNode)  // [expertsPerNode]
        var replicated = Replication(experts: expertsPerNode, slots: slotsPerNode)
        var replicaLoad = [Float](repeating: 0, count: slotsPerNode)  // [slotsPerNode]
        var rankOf = [Int](repeating: 0, count: slotsPerNode), slotInRank = [Int](repeating: 0, count: slotsPerNode)

        for layer in 0..<loads.layers {
            for e in 0..<experts { weight[e] = Float(loads.weight[layer * experts + e]) }
            // Step 1: groups to nodes.
            for g in 0..<groups {
                var sum: Float = 0
                for j in 0..<expertsPerGroup { sum += weight[g * expertsPerGroup + j] }
                groupLoad[g] = sum
            }
            packer.pack(groupLoad, packs: nodes, pack: &groupNode, rankInPack: &groupSlot)
            for g in 0..<groups {
                let base = (groupNode[g] * groupsPerNode + groupSlot[g]) * expertsPerGroup
                for j in 0..<expertsPerGroup { mlog2log[base + j] = g * expertsPerGroup + j }
            }
            for node in 0..<nodes {
                // Step 2: replicate inside the node.
                for j in 0..<expertsPerNode { nodeWeight[j] = weight[mlog2log[node * expertsPerNode + j]] }
                replicated.run(nodeWeight)
                // Step 3: replicas to the node's ranks.
                for i in 0..<slotsPerNode {
                    let m = replicated.phy2mlog[i]
                    replicaLoad[i] = nodeWeight[m] / Float(replicated.count[m])
                }
                packer.pack(replicaLoad, packs: ranksPerNode, pack: &rankOf, rankInPack: &slotInRank)
                for i in 0..<slotsPerNode {
                    let slot = layer * replicas + node * slotsPerNode + rankOf[i] * slotsPerRank + slotInRank[i]
                    phy2log[slot] = mlog2log[node * expertsPerNode + replicated.phy2mlog[i]]
                    replicaIndex[slot] = replicated.replicaIndex[i]
                }
            }
        }
        return Placement(
            layers: loads.layers, logicalExperts: experts, replicas: replicas, phy2log: phy2log,
            replicaIndex: replicaIndex)
    }
}

/// The entry point under eplb.py's name: `weight` is [layers, logicalExperts].
public func rebalanceExperts(
    weight: [[Double]], replicas: Int, groups: Int, nodes: Int, ranks: Int
) throws -> Placement {
    try ReferencePolicy.place(
        ExpertLoads(rows: weight), ClusterShape(replicas: replicas, groups: groups, nodes: nodes, ranks: ranks))
}

/// eplb.py's `replicate_experts` for one row: each extra slot goes to the expert with the largest load per
/// replica, the first such expert on a tie.
struct Replication {
    var phy2mlog: [Int]  // [slots]
    var replicaIndex: [Int]  // [slots]
    var count: [Int]  // [experts]
    private var perReplica: [Float] = []  // [experts] load per replica

    init(experts: Int, slots: Int) {
        phy2mlog = [Int](repeating: 0, count: slots)
        replicaIndex = [Int](repeating: 0, count: slots)
        count = [Int](repeating: 1, count: experts)
    }

    mutating func run(_ weight: [Float]) {
        let experts = count.count, slots = phy2mlog.count
        for e in 0..<experts {
            phy2mlog[e] = e
            replicaIndex[e] = 0
            count[e] = 1
        }
        if slots == experts { return }
        if perReplica.count != experts { perReplica = [Float](repeating: 0, count: experts) }
        for e in 0..<experts { perReplica[e] = weight[e] }
        count.withUnsafeMutableBufferPointer { count in
            perReplica.withUnsafeMutableBufferPointer { perReplica in
                for slot in experts..<slots {
                    // The quotient is the Float32 one torch computes; only the changed expert is recomputed.
                    var best = 0
                    for e in 1..<experts where perReplica[e] > perReplica[best] { best = e }
                    phy2mlog[slot] = best
                    replicaIndex[slot] = count[best]
                    count[best] += 1
                    perReplica[best] = weight[best] / Float(count[best])
                }
            }
        }
    }
}

/// eplb.py's `balanced_packing` for one row: items by descending weight (ties by index), each to the first
/// lightest pack that has room; every pack takes `items / packs` items. Sums are Float32, as in PyTorch.
struct Packer {
    private var order: [Int]
    private var keys: [HeavierFirst<Float>] = []
    private var packWeight: [Float]
    private var packItems: [Int]

    init(capacity: Int) {
        order = [Int](repeating: 0, count: capacity)
        packWeight = []
        packItems = []
    }

    mutating func pack(_ weight: [Float], packs: Int, pack: inout [Int], rankInPack: inout [Int]) {
        let items = weight.count, perPack = items / packs
        if perPack == 1 {
            for i in 0..<items {
                pack[i] = i
                rankInPack[i] = 0
            }
            return
        }
        if order.count < items { order = [Int](repeating: 0, count: items) }
        if packWeight.count != packs {
            packWeight = [Float](repeating: 0, count: packs)
            packItems = [Int](repeating: 0, count: packs)
        }
        keys.removeAll(keepingCapacity: true)
        for i in 0..<items { keys.append(HeavierFirst(load: weight[i], index: i)) }
        keys.sort()
        for i in 0..<items { order[i] = keys[i].index }
        weight.withUnsafeBufferPointer { w in
            packWeight.withUnsafeMutableBufferPointer { packWeight in
                packItems.withUnsafeMutableBufferPointer { packItems in
                    for p in 0..<packs {
                        packWeight[p] = 0
                        packItems[p] = 0
                    }
                    for k in 0..<items {
                        let item = order[k]
                        var best = -1
                        var bestWeight = Float.infinity
                        for p in 0..<packs where packItems[p] < perPack && (best < 0 || packWeight[p] < bestWeight) {
                            best = p
                            bestWeight = packWeight[p]
                        }
                        pack[item] = best
                        rankInPack[item] = packItems[best]
                        packWeight[best] += w[item]
                        packItems[best] += 1
                    }
                }
            }
        }
    }
}
