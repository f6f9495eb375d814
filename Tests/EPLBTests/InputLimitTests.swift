import Foundation
import Testing

@testable import EPLB

private func refusal(_ json: String) -> String? {
    do {
        _ = try PlacementRequest.decode(Data(json.utf8))
        return nil
    } catch {
        return "\(error)"
    }
}

/// A billion ranks, or more slots than fit, is refused by its limit before anything is sized from it.
@Test func aBillionRanksIsRefusedByTheLimit() {
    #expect(refusal(#"{"weight": [[1, 2]], "replicas": 2, "groups": 1, "nodes": 1, "ranks": 1000000000}"#)
            == "ranks = 1000000000 exceeds the limit of 65536 ranks (docs/inputs.md)")
    #expect(refusal(#"{"weight": [[1, 2]], "replicas": 4000000000, "groups": 1, "nodes": 1, "ranks": 2}"#)
            == "replicas = 4000000000 exceeds the limit of 65536 slots per layer (docs/inputs.md)")
}

@Test func slotsOverAllLayersAreLimited() throws {
    let shape = ClusterShape(replicas: 1 << 16, groups: 1, nodes: 1, ranks: 1 << 10)
    #expect(throws: Never.self) { try shape.validateSize(layers: 16) }
    #expect(throws: EPLBError("17 layers x 65536 slots exceeds the limit of 1048576 slots in all (docs/inputs.md)")) {
        try shape.validateSize(layers: 17)
    }
    #expect(throws: EPLBError.self) { try ExpertLoads(layers: Int.max, logicalExperts: 2, weight: []) }
    let loads = ExpertLoads.zipf(layers: 17, logicalExperts: 2, exponent: 1, seed: 1)
    #expect(throws: EPLBError.self) { try BalancedPolicy.place(loads, shape) }
    #expect(throws: EPLBError.self) { try ReferencePolicy.place(loads, shape) }
}

@Test func expertsTimesRanksIsLimited() {
    let shape = ClusterShape(replicas: 1 << 16, groups: 1, nodes: 1, ranks: 1 << 16)
    #expect(throws: Never.self) { try shape.validate(logicalExperts: 256) }
    #expect(throws: EPLBError("257 logical experts x ranks = 65536 exceeds the limit of 16777216 (a layer's per-rank tables; docs/inputs.md)")) {
        try shape.validate(logicalExperts: 257)
    }
}

@Test func malformedJSONSaysWhere() {
    #expect(refusal("{\"weight\": [[1, 2]],\n \"replicas\": 2,,}") == "input: not valid JSON at line 2, column 16: invalid value")
    #expect(refusal("{\"weight\": [[1, 2]") == "input: not valid JSON: it ends early, at line 1, column 19")
    #expect(refusal("") == "input: the file is empty, not JSON")
}
