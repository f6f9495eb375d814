import Testing

@testable import EPLB

/// Two ranks of two slots, three experts; expert 0 has two replicas.
@Test func metricsByHand() throws {
    let loads = try ExpertLoads(layers: 1, logicalExperts: 3, weight: [10, 4, 6])
    let shape = ClusterShape(replicas: 4, groups: 1, nodes: 1, ranks: 2)
    // rank 0: expert 0 (5) + expert 1 (4) = 9; rank 1: expert 0 (5) + expert 2 (6) = 11. Mean 10.
    let placement = Placement(layers: 1, logicalExperts: 3, replicas: 4, phy2log: [0, 1, 0, 2])
    let previous = Placement(layers: 1, logicalExperts: 3, replicas: 4, phy2log: [0, 1, 2, 2])
    let metrics = PlacementMetrics(loads: loads, shape: shape, placement: placement, previous: previous)
    #expect(metrics.layers[0].maxLoad == 11)
    #expect(metrics.layers[0].meanLoad == 10)
    #expect(abs(metrics.layers[0].balance - 1.1) < 1e-12)
    #expect(metrics.sameRankDuplicates == 0)
    // Rank 1 now needs expert 0, which it did not hold: one expert weight moves.
    #expect(metrics.moved == 1)
    // The previous placement stacks expert 2 twice on rank 1.
    #expect(PlacementMetrics(loads: loads, shape: shape, placement: previous).sameRankDuplicates == 1)
}

@Test func placementInvertsPhy2log() {
    let placement = Placement(layers: 1, logicalExperts: 3, replicas: 5, phy2log: [2, 0, 2, 1, 2])
    #expect(placement.logcntRows == [[1, 1, 3]])
    #expect(placement.maxReplicas == 3)
    #expect(placement.log2phyRows == [[[1, -1, -1], [3, -1, -1], [0, 2, 4]]])
}
