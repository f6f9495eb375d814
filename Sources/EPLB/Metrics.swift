/// How good one layer's placement is.
public struct LayerMetrics: Sendable, Equatable, Codable {
    /// Load of the busiest rank; a replica carries its expert's load divided by the expert's replica count.
    public var maxLoad: Double
    /// Total load divided by the number of ranks.
    public var meanLoad: Double
    /// maxLoad / meanLoad: 1 is perfect balance (1 also when the layer carries no load).
    public var balance: Double
    /// Replicas beyond the first of one expert on one rank: sum over (rank, expert) of (copies - 1).
    public var sameRankDuplicates: Int
    /// Expert weights a rank must fetch: (rank, expert) pairs present now and absent in the previous placement.
    public var moved: Int?
}

/// Per-layer metrics and their summary.
public struct PlacementMetrics: Sendable, Equatable, Codable {
    public var layers: [LayerMetrics]
    /// The mean over layers of maxLoad / meanLoad.
    public var meanBalance: Double
    /// The worst layer's maxLoad / meanLoad.
    public var worstBalance: Double
    public var sameRankDuplicates: Int
    /// Total over layers; nil when no previous placement was given.
    public var moved: Int?

    public init(loads: ExpertLoads, shape: ClusterShape, placement: Placement, previous: Placement? = nil) {
        let experts = loads.logicalExperts, ranks = shape.ranks, replicas = shape.replicas
        let rankOfSlot = shape.rankOfSlot()
        var perLayer: [LayerMetrics] = []
        var copies = [Int](repeating: 0, count: ranks * experts)  // [ranks, logicalExperts]
        var before = [Bool](repeating: false, count: ranks * experts)  // [ranks, logicalExperts]
        for layer in 0..<loads.layers {
            let phy2log = Array(placement.phy2log(layer: layer))  // [replicas]
            let weight = Array(loads.weight[(layer * experts)..<((layer + 1) * experts)])  // [logicalExperts]
            let (rankLoad, total) = rankLoads(phy2log, weight: weight, rankOfSlot: rankOfSlot, ranks: ranks)
            for i in 0..<(ranks * experts) {
                copies[i] = 0
                before[i] = false
            }
            for slot in 0..<replicas { copies[rankOfSlot[slot] * experts + phy2log[slot]] += 1 }
            var duplicates = 0
            for c in copies where c > 1 { duplicates += c - 1 }
            var moved: Int?
            if let previous {
                for slot in 0..<replicas {
                    before[rankOfSlot[slot] * experts + previous.phy2log[layer * replicas + slot]] = true
                }
                moved = movedWeights(phy2log, held: before, rankOfSlot: rankOfSlot, logicalExperts: experts)
            }
            let maxLoad = rankLoad.max() ?? 0, meanLoad = total / Double(ranks)
            perLayer.append(
                LayerMetrics(
                    maxLoad: maxLoad, meanLoad: meanLoad, balance: meanLoad > 0 ? maxLoad / meanLoad : 1,
                    sameRankDuplicates: duplicates, moved: moved))
        }
        layers = perLayer
        meanBalance = perLayer.map(\.balance).reduce(0, +) / Double(perLayer.count)
        worstBalance = perLayer.map(\.balance).max() ?? 1
        sameRankDuplicates = perLayer.map(\.sameRankDuplicates).reduce(0, +)
        moved = previous == nil ? nil : perLayer.compactMap(\.moved).reduce(0, +)
    }
}
