import Testing

@testable import EPLB

private let shapes: [ClusterShape] = [
    ClusterShape(replicas: 80, groups: 8, nodes: 4, ranks: 16),  // hierarchical
    ClusterShape(replicas: 72, groups: 4, nodes: 3, ranks: 8),  // global
]

@Test(arguments: shapes.indices)
func samePlacementForSameLoadsMovesNothing(index: Int) throws {
    let shape = shapes[index]
    let loads = ExpertLoads.zipf(layers: 3, logicalExperts: 64, exponent: 1.0, seed: 7)
    let first = try BalancedPolicy.place(loads, shape)
    let again = try BalancedPolicy.place(loads, shape, previous: first)
    #expect(again == first)
    #expect(PlacementMetrics(loads: loads, shape: shape, placement: again, previous: first).moved == 0)
}

/// Loads drift a little: keeping experts in place moves fewer weights than planning from scratch, at no
/// cost in balance.
@Test(arguments: shapes.indices)
func driftingLoadsMoveFewerExperts(index: Int) throws {
    let shape = shapes[index]
    let before = ExpertLoads.zipf(layers: 4, logicalExperts: 64, exponent: 1.0, seed: 11)
    let after = before.drifted(by: 0.1, seed: 12)
    let previous = try BalancedPolicy.place(before, shape)
    let fresh = try BalancedPolicy.place(after, shape)
    let kept = try BalancedPolicy.place(after, shape, previous: previous)
    let freshMetrics = PlacementMetrics(loads: after, shape: shape, placement: fresh, previous: previous)
    let keptMetrics = PlacementMetrics(loads: after, shape: shape, placement: kept, previous: previous)
    // Loads moved by at most 10%: keeping in place spares a good part of the moves (at least a third),
    // not just a few.
    let movedKept = try #require(keptMetrics.moved), movedFresh = try #require(freshMetrics.moved)
    #expect(movedKept * 3 < movedFresh * 2, "kept \(movedKept), fresh \(movedFresh)")
    for layer in 0..<after.layers {
        #expect(keptMetrics.layers[layer].maxLoad <= freshMetrics.layers[layer].maxLoad * (1 + 1e-12))
    }
    #expect(keptMetrics.sameRankDuplicates == 0)
    #expect(Invariants.check(kept, loads: after, shape: shape) == [])
}

/// Ranks with the same slots are interchangeable: a plan whose rank contents were shuffled is recognised and
/// nothing moves, even when the loads change enough that the old plan is not kept as it is.
@Test func relabelingFindsShuffledRanks() throws {
    let shape = ClusterShape(replicas: 72, groups: 4, nodes: 3, ranks: 8)
    let loads = ExpertLoads.zipf(layers: 1, logicalExperts: 64, exponent: 1.0, seed: 21)
    let plan = try BalancedPolicy.place(loads, shape)
    // Rotate the rank contents by one rank (9 slots each): same partition, different ranks.
    let rotated = (0..<72).map { plan.phy2log[($0 + 9) % 72] }
    // Make the rotated plan invalid as-is by giving one rank two copies of an expert, so it is not kept whole.
    var broken = rotated
    broken[1] = broken[0]
    let previous = Placement(layers: 1, logicalExperts: 64, replicas: 72, phy2log: broken)
    let kept = try BalancedPolicy.place(loads, shape, previous: previous)
    let metrics = PlacementMetrics(loads: loads, shape: shape, placement: kept, previous: previous)
    let moved = try #require(metrics.moved)
    #expect(moved <= 1)
    #expect(metrics.layers[0].maxLoad <= PlacementMetrics(loads: loads, shape: shape, placement: plan).layers[0].maxLoad)
}

@Test func previousFromTheReferenceIsRepairedNotKept() throws {
    let item = ZipfCase.suite.first { $0.shape.isHierarchical }!
    let loads = item.loads(layers: 4)
    let reference = try ReferencePolicy.place(loads, item.shape)
    #expect(PlacementMetrics(loads: loads, shape: item.shape, placement: reference).sameRankDuplicates > 0)
    let kept = try BalancedPolicy.place(loads, item.shape, previous: reference)
    #expect(PlacementMetrics(loads: loads, shape: item.shape, placement: kept).sameRankDuplicates == 0)
}
