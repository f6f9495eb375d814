import Foundation
import Testing

@testable import EPLB

/// A case computed by an independent re-implementation of eplb.py's arithmetic (Float32, stable descending
/// sorts, first-index argmax) on loads whose sort keys are all distinct across experts, so PyTorch's own
/// unstable sort would give the same phy2log. `readme` is the example of the EPLB README.
struct GoldenCase: Decodable {
    let name: String
    let weight: [[Double]]
    let replicas: Int
    let groups: Int
    let nodes: Int
    let ranks: Int
    let phy2log: [[Int]]
    let log2phy: [[[Int]]]
    let logcnt: [[Int]]

    static let names = [
        "readme", "hier-64x80-g8-n2-k16", "hier-32x48-g4-n4-k8", "hier-256x288-g8-n4-k32",
        "hier-128x128-g16-n4-k16", "global-48x64-g3-n2-k8", "global-256x288-g8-n3-k32", "global-100x120-g1-n2-k12",
        // Global shapes eplb.py accepts because that path ignores groups and nodes: more nodes than ranks, more
        // groups than experts, groups that do not divide the experts, and (the last) more replicas than
        // experts x ranks as well.
        "global-12x16-g4-n8-k4", "global-6x8-g9-n2-k4", "global-50x60-g7-n2-k6", "global-8x16-g12-n5-k2",
        "global-3x8-g5-n4-k2",
    ]

    static func load(_ name: String) throws -> GoldenCase {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Golden"))
        return try JSONDecoder().decode(GoldenCase.self, from: Data(contentsOf: url))
    }

    var shape: ClusterShape { ClusterShape(replicas: replicas, groups: groups, nodes: nodes, ranks: ranks) }
}

@Test func readmeExampleMatchesDeepSeek() throws {
    let weight: [[Double]] = [
        [90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86],
        [20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27],
    ]
    let placement = try rebalanceExperts(weight: weight, replicas: 16, groups: 4, nodes: 2, ranks: 8)
    #expect(
        placement.phy2logRows == [
            [5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1],
            [7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1],
        ])
}

@Test(arguments: GoldenCase.names)
func referenceMatchesGolden(name: String) throws {
    let golden = try GoldenCase.load(name)
    let placement = try ReferencePolicy.place(ExpertLoads(rows: golden.weight), golden.shape)
    #expect(placement.phy2logRows == golden.phy2log)
    #expect(placement.logcntRows == golden.logcnt)
    #expect(placement.log2phyRows == golden.log2phy)
}
