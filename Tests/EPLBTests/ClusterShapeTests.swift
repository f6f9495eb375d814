import Testing

@testable import EPLB

/// The slot layout is shape arithmetic alone, so it is checked once here rather than as a property of a
/// policy: ranks own consecutive runs of slots, replicas/ranks each when it divides, floor or ceiling
/// otherwise, and `slotCount(ofRank:)` agrees with `rankOfSlot()`.
@Test(arguments: (dividingShapes + nonDividingShapes).map(\.shape))
func ranksShareTheSlotsEvenly(shape: ClusterShape) {
    let rankOfSlot = shape.rankOfSlot()
    var perRank = [Int](repeating: 0, count: shape.ranks)
    for rank in rankOfSlot { perRank[rank] += 1 }
    let floor = shape.replicas / shape.ranks
    if shape.replicas % shape.ranks == 0 {
        #expect(perRank == Array(repeating: floor, count: shape.ranks))
    } else {
        #expect(perRank.allSatisfy { $0 == floor || $0 == floor + 1 })
    }
    #expect(perRank == (0..<shape.ranks).map { shape.slotCount(ofRank: $0) })
    #expect(zip(rankOfSlot, rankOfSlot.dropFirst()).allSatisfy { $0 <= $1 })
}

/// nodeOfRank (computed per rank) agrees with the node runs `firstRank(ofNode:)` defines, more nodes than
/// ranks included (then some nodes hold no rank).
@Test func nodeOfRankFollowsTheNodeRuns() {
    for ranks in 1...9 {
        for nodes in 1...12 {
            let shape = ClusterShape(replicas: ranks, groups: 1, nodes: nodes, ranks: ranks)
            var expected = [Int](repeating: -1, count: ranks)
            for node in 0..<nodes {
                for rank in shape.firstRank(ofNode: node)..<shape.firstRank(ofNode: node + 1) { expected[rank] = node }
            }
            #expect(shape.nodeOfRank() == expected, "nodes \(nodes), ranks \(ranks)")
        }
    }
    let huge = ClusterShape(replicas: 8, groups: 3, nodes: Int.max / 2, ranks: 8)
    #expect(huge.nodeOfRank().last == huge.nodes - 1)
}
