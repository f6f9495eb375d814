/// The fixed suite of skewed cases on which the balanced policy is judged against the reference:
/// Zipf exponents 0.8 to 1.2, 64 to 256 experts, 8 to 32 ranks, hierarchical and global layouts, all shapes
/// the reference accepts.
public struct ZipfCase: Sendable, CustomStringConvertible {
    public let exponent: Double
    public let logicalExperts: Int
    public let shape: ClusterShape
    public let seed: UInt64

    public func loads(layers: Int) -> ExpertLoads {
        .zipf(layers: layers, logicalExperts: logicalExperts, exponent: exponent, seed: seed)
    }

    public var description: String {
        let layout = shape.isHierarchical ? "hier" : "global"
        return "s=\(exponent) E=\(logicalExperts) R=\(shape.replicas) G=\(shape.groups) N=\(shape.nodes) K=\(shape.ranks) \(layout)"
    }

    public static let suite: [ZipfCase] = {
        var cases: [ZipfCase] = []
        let exponents = [0.8, 0.9, 1.0, 1.1, 1.2]
        // (experts, ranks, nodes, groups, replicas per rank)
        let shapes = [
            (64, 8, 2, 4, 9), (64, 16, 4, 8, 5), (128, 16, 2, 8, 9), (128, 32, 4, 8, 5),
            (256, 32, 4, 8, 9), (256, 16, 4, 8, 17), (256, 32, 3, 8, 9), (64, 8, 3, 4, 10),
        ]
        var seed: UInt64 = 1
        for (experts, ranks, nodes, groups, perRank) in shapes {
            for exponent in exponents {
                let shape = ClusterShape(replicas: ranks * perRank, groups: groups, nodes: nodes, ranks: ranks)
                cases.append(ZipfCase(exponent: exponent, logicalExperts: experts, shape: shape, seed: seed))
                seed += 1
            }
        }
        return cases
    }()
}
