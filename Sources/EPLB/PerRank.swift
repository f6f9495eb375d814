/// What one layer's phy2log puts on each rank, counted one way for `PlacementMetrics` and `KeepInPlace`: the
/// loads and moves the keep-in-place pass optimises are then exactly the ones the metrics report.

/// Load of each rank: a replica carries its expert's load divided by the expert's replica count in `phy2log`.
/// - Parameters:
///   - phy2log: [replicas] logical expert of each slot of one layer.
///   - weight: [logicalExperts] loads of that layer.
///   - rankOfSlot: [replicas] from `ClusterShape.rankOfSlot()`.
/// - Returns: perRank, [ranks] summed in slot order; total, the sum of every replica's load in slot order
///   (not the sum of perRank, which can differ in the last bits).
func rankLoads(
    _ phy2log: [Int], weight: [Double], rankOfSlot: [Int], ranks: Int
) -> (perRank: [Double], total: Double) {
    var count = [Int](repeating: 0, count: weight.count)  // [logicalExperts]
    for e in phy2log { count[e] += 1 }
    var perRank = [Double](repeating: 0, count: ranks)
    var total = 0.0
    for slot in phy2log.indices {
        let e = phy2log[slot], load = weight[e] / Double(count[e])
        perRank[rankOfSlot[slot]] += load
        total += load
    }
    return (perRank, total)
}

/// Expert weights ranks must fetch: the (rank, expert) pairs `phy2log` places that `held` lacks, each pair once
/// however many replicas of the expert the rank gets.
/// - Parameters:
///   - phy2log: [replicas] logical expert of each slot of one layer.
///   - held: [ranks, logicalExperts] whether the rank held the expert before.
///   - rankOfSlot: [replicas] from `ClusterShape.rankOfSlot()`.
func movedWeights(_ phy2log: [Int], held: [Bool], rankOfSlot: [Int], logicalExperts: Int) -> Int {
    var seen = Set<Int>()
    for slot in phy2log.indices where !held[rankOfSlot[slot] * logicalExperts + phy2log[slot]] {
        seen.insert(rankOfSlot[slot] * logicalExperts + phy2log[slot])
    }
    return seen.count
}
