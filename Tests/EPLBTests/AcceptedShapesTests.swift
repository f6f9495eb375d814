import Foundation
import Testing

@testable import EPLB

/// What eplb.py accepts, read from running an independent port of it (its own asserts) on a grid of small
/// shapes, and its outputs on small shapes, most of them global ones with more groups than experts, groups
/// that do not divide the experts, more nodes than ranks, or more replicas than experts x ranks.
struct SmallShapes: Decodable {
    struct Grid: Decodable {
        let experts: [Int]  // [lowest, highest], inclusive
        let replicas: [Int]
        let groups: [Int]
        let nodes: [Int]
        let ranks: [Int]
    }

    let grid: Grid
    /// "1" where eplb.py accepts the shape, "0" where it asserts; experts outermost, then replicas, groups,
    /// nodes, ranks (Python's itertools.product order).
    let accepted: String
    let cases: [GoldenCase]

    static func load() throws -> SmallShapes {
        let url = try #require(Bundle.module.url(forResource: "small-shapes", withExtension: "json", subdirectory: "Golden"))
        return try JSONDecoder().decode(SmallShapes.self, from: Data(contentsOf: url))
    }

    /// Every (experts, shape) of the grid with eplb.py's verdict, in the order of `accepted`.
    func shapes() -> [(experts: Int, shape: ClusterShape, accepted: Bool)] {
        func range(_ bounds: [Int]) -> ClosedRange<Int> { bounds[0]...bounds[1] }
        var result: [(experts: Int, shape: ClusterShape, accepted: Bool)] = []
        var verdicts = accepted.makeIterator()
        for experts in range(grid.experts) {
            for replicas in range(grid.replicas) {
                for groups in range(grid.groups) {
                    for nodes in range(grid.nodes) {
                        for ranks in range(grid.ranks) {
                            let shape = ClusterShape(replicas: replicas, groups: groups, nodes: nodes, ranks: ranks)
                            result.append((experts, shape, verdicts.next() == "1"))
                        }
                    }
                }
            }
        }
        return result
    }
}

/// The reference accepts exactly the shapes eplb.py accepts, on every shape of the grid.
@Test func referenceAcceptsExactlyWhatEplbPyAccepts() throws {
    let small = try SmallShapes.load()
    let shapes = small.shapes()
    #expect(shapes.count == small.accepted.count)
    var mismatches: [String] = []
    for (experts, shape, accepted) in shapes {
        let ours = (try? shape.validateForReference(logicalExperts: experts)) != nil
        if ours != accepted { mismatches.append("E=\(experts) \(shape): eplb.py \(accepted), ours \(ours)") }
    }
    #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    // The grid does hold the newly accepted kinds: global shapes with groups > experts and nodes > ranks.
    #expect(shapes.contains { $0.accepted && $0.shape.groups > $0.experts && $0.shape.nodes > $0.shape.ranks })
}

/// On every grid shape eplb.py accepts, the reference places soundly, and so does the balanced policy unless
/// the shape forces two replicas of an expert onto one rank (the one rule it adds there).
@Test func everyAcceptedGridShapeIsPlaced() throws {
    let small = try SmallShapes.load()
    for (experts, shape, accepted) in small.shapes() where accepted {
        let weight = (0..<(2 * experts)).map { Double(($0 * 7919) % 13) }
        let loads = try ExpertLoads(layers: 2, logicalExperts: experts, weight: weight)
        let reference = try ReferencePolicy.place(loads, shape)
        #expect(Invariants.check(reference, loads: loads, shape: shape) == [], "E=\(experts) \(shape)")
        if shape.replicas <= experts * shape.ranks {
            let balanced = try BalancedPolicy.place(loads, shape)
            #expect(Invariants.check(balanced, loads: loads, shape: shape) == [], "E=\(experts) \(shape)")
            #expect(
                PlacementMetrics(loads: loads, shape: shape, placement: balanced).sameRankDuplicates == 0,
                "E=\(experts) \(shape)")
        } else {
            #expect(throws: EPLBError.self) { try BalancedPolicy.place(loads, shape) }
        }
    }
}

@Test func smallShapesMatchEplbPy() throws {
    let small = try SmallShapes.load()
    #expect(small.cases.count >= 15)
    for golden in small.cases {
        let placement = try ReferencePolicy.place(ExpertLoads(rows: golden.weight), golden.shape)
        #expect(placement.phy2logRows == golden.phy2log, "\(golden.name)")
        #expect(placement.logcntRows == golden.logcnt, "\(golden.name)")
        #expect(placement.log2phyRows == golden.log2phy, "\(golden.name)")
    }
}

/// eplb.py's global policy ignores groups and nodes: the answer is the same as with one group and one node,
/// and balanced's too.
@Test(arguments: [
    (12, ClusterShape(replicas: 16, groups: 4, nodes: 8, ranks: 4)),  // nodes > ranks
    (6, ClusterShape(replicas: 8, groups: 9, nodes: 2, ranks: 4)),  // groups > experts
    (50, ClusterShape(replicas: 60, groups: 7, nodes: 2, ranks: 6)),  // groups do not divide the experts
    (8, ClusterShape(replicas: 16, groups: 12, nodes: 5, ranks: 2)),  // both
])
func globalLayoutIgnoresGroupsAndNodes(experts: Int, shape: ClusterShape) throws {
    #expect(!shape.isHierarchical)
    let loads = ExpertLoads.zipf(layers: 3, logicalExperts: experts, exponent: 1.0, seed: 5)
    let plain = ClusterShape(replicas: shape.replicas, groups: 1, nodes: 1, ranks: shape.ranks)
    #expect(try ReferencePolicy.place(loads, shape) == ReferencePolicy.place(loads, plain))
    #expect(try BalancedPolicy.place(loads, shape) == BalancedPolicy.place(loads, plain))
}

/// Groups and nodes as large as the input allows cost nothing in the global layout (no array grows with them,
/// no product overflows).
@Test func hugeGroupsAndNodesInTheGlobalLayout() throws {
    let loads = ExpertLoads.zipf(layers: 2, logicalExperts: 12, exponent: 1.0, seed: 6)
    let shape = ClusterShape(replicas: 16, groups: 999_999_999_999_999, nodes: 999_999_999_999_998, ranks: 4)
    #expect(!shape.isHierarchical)
    for placement in [try ReferencePolicy.place(loads, shape), try BalancedPolicy.place(loads, shape)] {
        #expect(Invariants.check(placement, loads: loads, shape: shape) == [])
        let metrics = PlacementMetrics(loads: loads, shape: shape, placement: placement)
        let table = placementTable(loads: loads, shape: shape, placement: placement, metrics: metrics, policy: "x")
        #expect(table.split(separator: "\n").count == loads.layers * (2 + shape.ranks))
    }
    let nodeOfRank = shape.nodeOfRank()
    #expect(nodeOfRank.last == shape.nodes - 1)
    #expect(zip(nodeOfRank, nodeOfRank.dropFirst()).allSatisfy { $0 < $1 })
}

/// Still refused, each with a message naming the value and the rule.
@Test(arguments: [
    // eplb.py asserts on these, so the reference refuses them.
    (12, ClusterShape(replicas: 18, groups: 3, nodes: 2, ranks: 8), "reference",
     "replicas = 18 is not a multiple of ranks = 8: the reference policy gives every rank the same number of slots"),
    (6, ClusterShape(replicas: 8, groups: 8, nodes: 2, ranks: 4), "reference",
     "groups = 8 does not divide the 6 logical experts: the reference policy's hierarchical layout, used because nodes = 2 divides groups = 8, needs groups of equal size (the balanced policy refuses more groups than experts there too)"),
    (10, ClusterShape(replicas: 12, groups: 4, nodes: 2, ranks: 4), "reference",
     "groups = 4 does not divide the 10 logical experts: the reference policy's hierarchical layout, used because nodes = 2 divides groups = 4, needs groups of equal size (the balanced policy does not)"),
    (8, ClusterShape(replicas: 8, groups: 4, nodes: 4, ranks: 2), "reference",
     "ranks = 2 is not a multiple of nodes = 4: the reference policy's hierarchical layout, used because nodes = 4 divides groups = 4, needs the same number of ranks on every node (the balanced policy refuses more nodes than ranks there too)"),
    (12, ClusterShape(replicas: 20, groups: 4, nodes: 2, ranks: 5), "reference",
     "ranks = 5 is not a multiple of nodes = 2: the reference policy's hierarchical layout, used because nodes = 2 divides groups = 4, needs the same number of ranks on every node (the balanced policy does not)"),
    (12, ClusterShape(replicas: 8, groups: 3, nodes: 2, ranks: 4), "reference",
     "replicas = 8 is fewer than the 12 logical experts: every expert needs a slot"),
    // The balanced policy's own rules.
    (6, ClusterShape(replicas: 8, groups: 8, nodes: 2, ranks: 4), "balanced",
     "groups = 8 exceeds the 6 logical experts: in the hierarchical layout, used because nodes = 2 divides groups = 8, the balanced policy needs at least one expert in every group"),
    (8, ClusterShape(replicas: 8, groups: 4, nodes: 4, ranks: 2), "balanced",
     "nodes = 4 exceeds ranks = 2: in the hierarchical layout, used because nodes = 4 divides groups = 4, the balanced policy needs at least one rank on every node"),
    (12, ClusterShape(replicas: 40, groups: 3, nodes: 2, ranks: 3), "balanced",
     "replicas = 40 exceeds logical experts x ranks = 12 x 3: some rank would have to hold two replicas of one expert"),
    (12, ClusterShape(replicas: 16, groups: 0, nodes: 2, ranks: 4), "balanced", "groups = 0: it must be a positive count"),
    (12, ClusterShape(replicas: 16, groups: 3, nodes: -2, ranks: 4), "reference", "nodes = -2: it must be a positive count"),
])
func refusedShapesAreNamed(experts: Int, shape: ClusterShape, policy: String, expected: String) {
    let loads = ExpertLoads.zipf(layers: 1, logicalExperts: experts, exponent: 1.0, seed: 7)
    do {
        _ = try policy == "reference" ? ReferencePolicy.place(loads, shape) : BalancedPolicy.place(loads, shape)
        Issue.record("\(policy) accepted E=\(experts) \(shape)")
    } catch let error as EPLBError {
        #expect(error.message.hasPrefix(expected), "\(error.message)")
    } catch {
        Issue.record("unexpected \(error)")
    }
}

/// Random small shapes of every kind, groups beyond the experts and nodes beyond the ranks included: the
/// balanced policy places each one it accepts soundly, and refuses only by its stated rules.
@Test func randomShapesWithLooseGroupsAndNodes() throws {
    var generator = SplitMix64(seed: 123)
    func draw(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
    for _ in 0..<300 {
        let experts = draw(1...16), ranks = draw(1...6)
        let nodes = draw(1...(ranks + 4)), groups = draw(1...(experts + 6))
        let replicas = draw(experts...(experts * ranks + 2))
        let shape = ClusterShape(replicas: replicas, groups: groups, nodes: nodes, ranks: ranks)
        let weight = (0..<(2 * experts)).map { _ in Double(draw(0...9)) }
        let loads = try ExpertLoads(layers: 2, logicalExperts: experts, weight: weight)
        let refused = replicas > experts * ranks || (shape.isHierarchical && (groups > experts || nodes > ranks))
        if refused {
            #expect(throws: EPLBError.self, "\(shape)") { try BalancedPolicy.place(loads, shape) }
            continue
        }
        let placement = try BalancedPolicy.place(loads, shape)
        #expect(Invariants.check(placement, loads: loads, shape: shape) == [], "\(shape) \(weight)")
        #expect(PlacementMetrics(loads: loads, shape: shape, placement: placement).sameRankDuplicates == 0, "\(shape)")
        #expect(try BalancedPolicy.place(loads, shape, previous: placement) == placement, "\(shape)")
    }
}
