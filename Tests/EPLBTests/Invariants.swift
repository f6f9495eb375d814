@testable import EPLB

/// Structural checks every placement must pass; each returns a list of broken rules (empty when sound).
enum Invariants {
    static func check(_ placement: Placement, loads: ExpertLoads, shape: ClusterShape) -> [String] {
        var broken: [String] = []
        let experts = loads.logicalExperts, replicas = shape.replicas
        for layer in 0..<loads.layers {
            let counts = (0..<experts).map { placement.logcnt[layer * experts + $0] }
            if let e = counts.firstIndex(where: { $0 < 1 }) { broken.append("layer \(layer): expert \(e) has no replica") }
            if counts.reduce(0, +) != replicas {
                broken.append("layer \(layer): replica counts add up to \(counts.reduce(0, +)), not \(replicas)")
            }
            // log2phy inverts phy2log: every slot listed once, under its own expert, padding after the count.
            var listed = [Int](repeating: 0, count: replicas)
            for e in 0..<experts {
                for i in 0..<placement.maxReplicas {
                    let slot = placement.log2phy[(layer * experts + e) * placement.maxReplicas + i]
                    if i < counts[e] {
                        if slot < 0 || slot >= replicas || placement.phy2log[layer * replicas + slot] != e {
                            broken.append("layer \(layer): log2phy[\(e)][\(i)] = \(slot) does not map back to \(e)")
                        } else {
                            listed[slot] += 1
                        }
                    } else if slot != -1 {
                        broken.append("layer \(layer): log2phy[\(e)][\(i)] = \(slot) should be padding -1")
                    }
                }
            }
            if listed.contains(where: { $0 != 1 }) { broken.append("layer \(layer): log2phy does not list each slot once") }
        }
        return broken
    }

    /// What each rank holds in one layer, read from phy2log through the rank-of-slot layout.
    /// - Returns: [ranks][slots of the rank] the logical expert of each of the rank's slots.
    static func expertsOnRanks(_ placement: Placement, shape: ClusterShape, layer: Int) -> [[Int]] {
        var onRank = [[Int]](repeating: [], count: shape.ranks)
        for (slot, rank) in shape.rankOfSlot().enumerated() {
            onRank[rank].append(placement.phy2log[layer * shape.replicas + slot])
        }
        return onRank
    }

    /// Broken rules of one layer's rank contents: each rank holds `slots(rank)` experts, every one a valid
    /// logical expert, and (when `distinct`) no expert twice.
    static func checkRanks(
        _ placement: Placement, shape: ClusterShape, layer: Int, distinct: Bool, slots: (Int) -> Bool
    ) -> [String] {
        var broken: [String] = []
        for (rank, held) in expertsOnRanks(placement, shape: shape, layer: layer).enumerated() {
            if !slots(held.count) { broken.append("layer \(layer): rank \(rank) holds \(held.count) slots") }
            if let e = held.first(where: { !(0..<placement.logicalExperts).contains($0) }) {
                broken.append("layer \(layer): rank \(rank) holds expert \(e), not a logical expert")
            }
            if distinct && Set(held).count != held.count {
                broken.append("layer \(layer): rank \(rank) holds an expert twice: \(held)")
            }
        }
        return broken
    }

    /// The nodes that hold some replica of each group's experts.
    static func nodesPerGroup(_ placement: Placement, shape: ClusterShape, layer: Int) -> [Set<Int>] {
        let experts = placement.logicalExperts
        let rankOfSlot = shape.rankOfSlot(), nodeOfRank = shape.nodeOfRank()
        var nodes = [Set<Int>](repeating: [], count: shape.groups)
        for slot in 0..<shape.replicas {
            let e = placement.phy2log[layer * shape.replicas + slot]
            let group = (0..<shape.groups).last { shape.firstExpert(ofGroup: $0, logicalExperts: experts) <= e }!
            nodes[group].insert(nodeOfRank[rankOfSlot[slot]])
        }
        return nodes
    }
}
