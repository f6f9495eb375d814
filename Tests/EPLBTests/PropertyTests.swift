import Testing

@testable import EPLB

/// Shapes both policies accept, hierarchical and global.
let dividingShapes: [(experts: Int, shape: ClusterShape)] = [
    (12, ClusterShape(replicas: 16, groups: 4, nodes: 2, ranks: 8)),
    (64, ClusterShape(replicas: 80, groups: 8, nodes: 4, ranks: 16)),
    (64, ClusterShape(replicas: 72, groups: 4, nodes: 3, ranks: 8)),
    (256, ClusterShape(replicas: 288, groups: 8, nodes: 4, ranks: 32)),
    (32, ClusterShape(replicas: 32, groups: 4, nodes: 2, ranks: 8)),
]

@Test(arguments: dividingShapes.indices)
func bothPoliciesGiveSoundPlacements(index: Int) throws {
    let (experts, shape) = dividingShapes[index]
    let loads = ExpertLoads.zipf(layers: 3, logicalExperts: experts, exponent: 1.0, seed: UInt64(index + 100))
    // Equal slots per rank; the reference may stack replicas of an expert on a rank, the balanced policy never.
    let policies = [(try ReferencePolicy.place(loads, shape), false), (try BalancedPolicy.place(loads, shape), true)]
    for (placement, distinct) in policies {
        #expect(Invariants.check(placement, loads: loads, shape: shape) == [])
        for layer in 0..<loads.layers {
            #expect(
                Invariants.checkRanks(
                    placement, shape: shape, layer: layer, distinct: distinct,
                    slots: { $0 == shape.replicas / shape.ranks }) == [])
        }
    }
}

@Test(arguments: dividingShapes.indices.filter { dividingShapes[$0].shape.isHierarchical })
func hierarchicalKeepsEachGroupOnOneNode(index: Int) throws {
    let (experts, shape) = dividingShapes[index]
    let loads = ExpertLoads.zipf(layers: 3, logicalExperts: experts, exponent: 1.1, seed: UInt64(index + 200))
    for placement in [try ReferencePolicy.place(loads, shape), try BalancedPolicy.place(loads, shape)] {
        for layer in 0..<loads.layers {
            #expect(Invariants.nodesPerGroup(placement, shape: shape, layer: layer).allSatisfy { $0.count == 1 })
        }
    }
}

/// The reference asserts on these; the balanced policy places them.
let nonDividingShapes: [(experts: Int, shape: ClusterShape)] = [
    (64, ClusterShape(replicas: 70, groups: 8, nodes: 4, ranks: 16)),  // replicas not a multiple of ranks
    (60, ClusterShape(replicas: 80, groups: 8, nodes: 4, ranks: 16)),  // experts not a multiple of groups
    (64, ClusterShape(replicas: 84, groups: 6, nodes: 3, ranks: 14)),  // ranks not a multiple of nodes
    (50, ClusterShape(replicas: 61, groups: 5, nodes: 2, ranks: 7)),  // groups not a multiple of nodes (global)
]

@Test(arguments: nonDividingShapes.indices)
func balancedPlacesShapesTheReferenceRejects(index: Int) throws {
    let (experts, shape) = nonDividingShapes[index]
    let loads = ExpertLoads.zipf(layers: 2, logicalExperts: experts, exponent: 0.9, seed: UInt64(index + 300))
    #expect(throws: EPLBError.self) { try ReferencePolicy.place(loads, shape) }
    let placement = try BalancedPolicy.place(loads, shape)
    #expect(Invariants.check(placement, loads: loads, shape: shape) == [])
    let floor = shape.replicas / shape.ranks
    for layer in 0..<loads.layers {
        #expect(
            Invariants.checkRanks(
                placement, shape: shape, layer: layer, distinct: true, slots: { $0 == floor || $0 == floor + 1 })
                == [])
    }
    let metrics = PlacementMetrics(loads: loads, shape: shape, placement: placement)
    #expect(metrics.sameRankDuplicates == 0)
    if shape.isHierarchical {
        for layer in 0..<loads.layers {
            #expect(Invariants.nodesPerGroup(placement, shape: shape, layer: layer).allSatisfy { $0.count == 1 })
        }
    }
}

@Test func zeroLoadsArePlacedToo() throws {
    let loads = try ExpertLoads(layers: 1, logicalExperts: 8, weight: Array(repeating: 0, count: 8))
    let shape = ClusterShape(replicas: 12, groups: 2, nodes: 2, ranks: 4)
    for placement in [try ReferencePolicy.place(loads, shape), try BalancedPolicy.place(loads, shape)] {
        #expect(Invariants.check(placement, loads: loads, shape: shape) == [])
        #expect(PlacementMetrics(loads: loads, shape: shape, placement: placement).layers[0].balance == 1)
    }
}

/// Small random shapes of every kind, dividing or not, with random (often tied or zero) loads.
@Test func randomShapesArePlacedSoundly() throws {
    var generator = SplitMix64(seed: 99)
    func draw(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
    for _ in 0..<300 {
        let experts = draw(1...24), ranks = draw(1...8)
        let nodes = draw(1...ranks), groups = draw(1...experts)
        let replicas = draw(experts...(experts * ranks))
        let shape = ClusterShape(replicas: replicas, groups: groups, nodes: nodes, ranks: ranks)
        let weight = (0..<(2 * experts)).map { _ in Double(draw(0...5)) }
        let loads = try ExpertLoads(layers: 2, logicalExperts: experts, weight: weight)
        let placement = try BalancedPolicy.place(loads, shape)
        #expect(Invariants.check(placement, loads: loads, shape: shape) == [], "\(shape) \(weight)")
        #expect(PlacementMetrics(loads: loads, shape: shape, placement: placement).sameRankDuplicates == 0, "\(shape)")
        let kept = try BalancedPolicy.place(loads, shape, previous: placement)
        #expect(kept == placement, "\(shape)")
        if (try? shape.validateForReference(logicalExperts: experts)) != nil {
            let reference = try ReferencePolicy.place(loads, shape)
            #expect(Invariants.check(reference, loads: loads, shape: shape) == [], "\(shape)")
        }
    }
}
