/// Keeps experts on the ranks that already hold their weights, without making the busiest rank busier.
///
/// 1. If the previous placement is still valid (every expert placed, no same-rank duplicates, groups whole
///    on nodes in the hierarchical layout) and its busiest rank under the new loads is no busier than the new
///    plan's, keep it: nothing moves.
/// 2. Otherwise relabel: ranks (and, hierarchically, nodes) with the same slot layout are interchangeable,
///    so the new plan's rank contents are handed to ranks by a maximum-overlap assignment with what they hold.
///    The rank loads are only permuted.
/// 3. Then trade pairs of replicas between ranks (of one node when hierarchical) when that brings an expert
///    back to a rank that held it and neither rank exceeds the plan's busiest load.
/// 4. In the global layout, also try a warm start from the previous placement (`warmStart`) and keep
///    whichever of the two moves fewer expert weights.
struct KeepInPlace {
    let shape: ClusterShape
    let experts: Int
    let rankOfSlot: [Int]  // [replicas]
    let nodeOfRank: [Int]  // [ranks]
    let capacity: [Int]  // [ranks]

    init(shape: ClusterShape, logicalExperts: Int) {
        self.shape = shape
        experts = logicalExperts
        rankOfSlot = shape.rankOfSlot()
        nodeOfRank = shape.nodeOfRank()
        capacity = (0..<shape.ranks).map { shape.slotCount(ofRank: $0) }
    }

    /// - Parameters: planned and previous are [replicas] maps of one layer; weight is [logicalExperts];
    ///   nodeOfGroup is set when the plan is hierarchical.
    func keep(_ planned: [Int], previous: [Int], weight: [Double], nodeOfGroup: [Int]?, groupStart: [Int]) -> [Int] {
        let ranks = shape.ranks
        let plannedLoad = rankLoads(planned, weight: weight, rankOfSlot: rankOfSlot, ranks: ranks).perRank
        let busiest = plannedLoad.max() ?? 0
        if previousStillFits(previous, weight: weight, hierarchical: nodeOfGroup != nil, groupStart: groupStart,
            busiest: busiest)
        {
            return previous
        }
        var held = [Bool](repeating: false, count: ranks * experts)  // [ranks, logicalExperts] previous
        for slot in previous.indices { held[rankOfSlot[slot] * experts + previous[slot]] = true }
        var bins = (0..<ranks).map { rank in (0..<capacity[rank]).map { planned[shape.firstSlot(ofRank: rank) + $0] } }
        var binLoad = plannedLoad
        // Relabel: rank r takes bin source[r].
        var source = Array(0..<ranks)
        if nodeOfGroup != nil {
            source = relabelNodes(bins, held: held)
            bins = source.map { bins[$0] }
            binLoad = source.map { binLoad[$0] }
        }
        source = relabelRanks(bins, held: held, sameNodeOnly: nodeOfGroup != nil)
        bins = source.map { bins[$0] }
        binLoad = source.map { binLoad[$0] }
        tradeBack(&bins, load: &binLoad, held: held, weight: weight, planned: planned, busiest: busiest,
            sameNodeOnly: nodeOfGroup != nil)
        var result = planned
        for rank in 0..<ranks {
            for (q, e) in bins[rank].sorted().enumerated() { result[shape.firstSlot(ofRank: rank) + q] = e }
        }
        if nodeOfGroup == nil, let warm = warmStart(planned, previous: previous, weight: weight, busiest: busiest),
            movedWeights(warm, held: held, rankOfSlot: rankOfSlot, logicalExperts: experts)
                < movedWeights(result, held: held, rankOfSlot: rankOfSlot, logicalExperts: experts)
        {
            return warm
        }
        return result
    }

    private func previousStillFits(
        _ previous: [Int], weight: [Double], hierarchical: Bool, groupStart: [Int], busiest: Double
    ) -> Bool {
        var copies = [Int](repeating: 0, count: shape.ranks * experts)
        var nodeOfExpert = [Int](repeating: -1, count: experts)
        for slot in previous.indices {
            let e = previous[slot], rank = rankOfSlot[slot]
            copies[rank * experts + e] += 1
            if copies[rank * experts + e] > 1 { return false }
            if nodeOfExpert[e] >= 0 && nodeOfExpert[e] != nodeOfRank[rank] { nodeOfExpert[e] = -2 }
            if nodeOfExpert[e] == -1 { nodeOfExpert[e] = nodeOfRank[rank] }
        }
        if nodeOfExpert.contains(-1) { return false }
        if hierarchical {
            for g in 0..<(groupStart.count - 1) {
                let node = nodeOfExpert[groupStart[g]]
                if node < 0 || nodeOfExpert[groupStart[g]..<groupStart[g + 1]].contains(where: { $0 != node }) {
                    return false
                }
            }
        }
        let load = rankLoads(previous, weight: weight, rankOfSlot: rankOfSlot, ranks: shape.ranks).perRank
        return (load.max() ?? 0) <= busiest
    }

    /// Nodes with the same ranks and slots trade contents for the largest overlap. Returns the source rank of
    /// each rank.
    private func relabelNodes(_ bins: [[Int]], held: [Bool]) -> [Int] {
        let nodes = shape.nodes, ranks = shape.ranks
        var heldOnNode = [Int](repeating: 0, count: nodes * experts)
        for rank in 0..<ranks {
            for e in 0..<experts where held[rank * experts + e] { heldOnNode[nodeOfRank[rank] * experts + e] += 1 }
        }
        let layout = (0..<nodes).map { node in (0..<ranks).filter { nodeOfRank[$0] == node }.map { capacity[$0] } }
        var source = Array(0..<ranks)
        var done = [Bool](repeating: false, count: nodes)
        for node in 0..<nodes where !done[node] {
            let alike = (0..<nodes).filter { layout[$0] == layout[node] }
            for n in alike { done[n] = true }
            var score = [Int](repeating: 0, count: alike.count * alike.count)
            for (i, from) in alike.enumerated() {
                for (j, to) in alike.enumerated() {
                    for rank in shape.firstRank(ofNode: from)..<shape.firstRank(ofNode: from + 1) {
                        for e in bins[rank] { score[i * alike.count + j] += heldOnNode[to * experts + e] }
                    }
                }
            }
            let target = bestAssignment(score: score, n: alike.count)
            for (i, from) in alike.enumerated() {
                let to = alike[target[i]]
                let offset = shape.firstRank(ofNode: to) - shape.firstRank(ofNode: from)
                for rank in shape.firstRank(ofNode: from)..<shape.firstRank(ofNode: from + 1) {
                    source[rank + offset] = rank
                }
            }
        }
        return source
    }

    /// Ranks with the same slot count (and node, when asked) trade contents for the largest overlap.
    private func relabelRanks(_ bins: [[Int]], held: [Bool], sameNodeOnly: Bool) -> [Int] {
        let ranks = shape.ranks
        var source = Array(0..<ranks)
        var done = [Bool](repeating: false, count: ranks)
        for rank in 0..<ranks where !done[rank] {
            let alike = (0..<ranks).filter {
                capacity[$0] == capacity[rank] && (!sameNodeOnly || nodeOfRank[$0] == nodeOfRank[rank])
            }
            for r in alike { done[r] = true }
            var score = [Int](repeating: 0, count: alike.count * alike.count)
            for (i, from) in alike.enumerated() {
                for (j, to) in alike.enumerated() {
                    for e in bins[from] where held[to * experts + e] { score[i * alike.count + j] += 1 }
                }
            }
            let target = bestAssignment(score: score, n: alike.count)
            for (i, from) in alike.enumerated() { source[alike[target[i]]] = from }
        }
        return source
    }

    private func tradeBack(
        _ bins: inout [[Int]], load: inout [Double], held: [Bool], weight: [Double], planned: [Int], busiest: Double,
        sameNodeOnly: Bool
    ) {
        let ranks = shape.ranks
        var count = [Int](repeating: 0, count: experts)
        for e in planned { count[e] += 1 }
        func replicaLoad(_ e: Int) -> Double { weight[e] / Double(count[e]) }
        for a in 0..<ranks {
            for i in bins[a].indices {
                let e = bins[a][i]
                if held[a * experts + e] { continue }
                search: for b in 0..<ranks where b != a && held[b * experts + e] && !bins[b].contains(e) {
                    if sameNodeOnly && nodeOfRank[b] != nodeOfRank[a] { continue }
                    for j in bins[b].indices {
                        let f = bins[b][j]
                        if held[b * experts + f] || bins[a].contains(f) { continue }
                        let delta = replicaLoad(e) - replicaLoad(f)
                        if load[a] - delta > busiest || load[b] + delta > busiest { continue }
                        bins[a][i] = f
                        bins[b][j] = e
                        load[a] -= delta
                        load[b] += delta
                        break search
                    }
                }
            }
        }
    }
}
