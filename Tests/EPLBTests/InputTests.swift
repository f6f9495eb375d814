import Foundation
import Testing

@testable import EPLB

private func message(_ json: String) -> String? {
    do {
        _ = try PlacementRequest.decode(Data(json.utf8))
        return nil
    } catch let error as EPLBError {
        return error.message
    } catch {
        return "unexpected \(error)"
    }
}

@Test func goodInputDecodes() throws {
    let request = try PlacementRequest.decode(
        Data(#"{"weight": [[1, 2.5], [0, 4]], "replicas": 4, "groups": 2, "nodes": 1, "ranks": 2}"#.utf8))
    #expect(request.loads.weight == [1, 2.5, 0, 4])
    #expect(request.shape == ClusterShape(replicas: 4, groups: 2, nodes: 1, ranks: 2))
}

/// eplb.py's global path (nodes not dividing groups) ignores groups and nodes, so the input accepts more
/// nodes than ranks and more groups than experts; the policies decide (see AcceptedShapesTests).
@Test func groupsAndNodesAreNotBoundedByTheInput() throws {
    let request = try PlacementRequest.decode(
        Data(#"{"weight": [[1, 2]], "replicas": 2, "groups": 3, "nodes": 2, "ranks": 1}"#.utf8))
    #expect(request.shape == ClusterShape(replicas: 2, groups: 3, nodes: 2, ranks: 1))
    #expect(try ReferencePolicy.place(request.loads, request.shape).phy2logRows == [[1, 0]])
}

@Test(arguments: [
    (#"{"weight": [[1, 2], [3]], "replicas": 2, "groups": 1, "nodes": 1, "ranks": 1}"#, "row 1 has 1 loads"),
    (#"{"weight": [[1, -2]], "replicas": 2, "groups": 1, "nodes": 1, "ranks": 1}"#, "weight[0][1] = -2.0"),
    (#"{"weight": [[1, 2]], "replicas": 1, "groups": 1, "nodes": 1, "ranks": 1}"#, "replicas = 1 is fewer"),
    (#"{"weight": [[1, 2]], "groups": 1, "nodes": 1, "ranks": 1}"#, "missing the field 'replicas'"),
    (#"{"replicas": 2, "groups": 1, "nodes": 1, "ranks": 1}"#, "missing the field 'weight'"),
    (#"{"weight": [[1, 2]], "replicas": 2, "groups": 1, "nodes": 0, "ranks": 1}"#, "nodes = 0"),
    (#"{"weight": [[1, 2]], "replicas": 2, "groups": -1, "nodes": 1, "ranks": 1}"#, "groups = -1"),
    (#"{"weight": [[1, 2]], "replicas": 2.5, "groups": 1, "nodes": 1, "ranks": 1}"#, "replicas = 2.5"),
    (#"{"weight": [[1, "x"]], "replicas": 2, "groups": 1, "nodes": 1, "ranks": 1}"#, "weight[0][1]"),
    (#"{"weight": [], "replicas": 2, "groups": 1, "nodes": 1, "ranks": 1}"#, "weight is empty"),
])
func badInputIsNamed(json: String, expected: String) {
    let text = message(json)
    #expect(text?.contains(expected) == true, "\(text ?? "accepted")")
}

@Test func nonFiniteLoadsAreRejected() {
    #expect(throws: EPLBError("weight[0][1] = nan: loads must be finite and non-negative")) {
        try ExpertLoads(layers: 1, logicalExperts: 2, weight: [1, .nan])
    }
    #expect(throws: EPLBError.self) { try ExpertLoads(layers: 1, logicalExperts: 2, weight: [.infinity, 1]) }
}

@Test func referenceRejectsWhatItWouldAssertOn() throws {
    let loads = ExpertLoads.zipf(layers: 1, logicalExperts: 12, exponent: 1, seed: 1)
    #expect(throws: EPLBError.self) {
        try ReferencePolicy.place(loads, ClusterShape(replicas: 18, groups: 4, nodes: 2, ranks: 8))
    }
    #expect(throws: EPLBError.self) {
        try ReferencePolicy.place(loads, ClusterShape(replicas: 16, groups: 4, nodes: 2, ranks: 6))
    }
    #expect(throws: EPLBError.self) {
        try BalancedPolicy.place(loads, ClusterShape(replicas: 40, groups: 4, nodes: 1, ranks: 3))
    }
}

@Test func previousPlacementIsChecked() throws {
    let request = try PlacementRequest.decode(
        Data(#"{"weight": [[1, 2, 3]], "replicas": 4, "groups": 1, "nodes": 1, "ranks": 2}"#.utf8))
    let good = try request.decodePrevious(Data(#"{"phy2log": [[0, 1, 2, 2]]}"#.utf8))
    #expect(good.phy2log == [0, 1, 2, 2])
    #expect(throws: EPLBError.self) { try request.decodePrevious(Data(#"{"phy2log": [[0, 1, 2]]}"#.utf8)) }
    #expect(throws: EPLBError.self) { try request.decodePrevious(Data(#"{"phy2log": [[0, 1, 2, 3]]}"#.utf8)) }
    #expect(throws: EPLBError.self) { try request.decodePrevious(Data(#"{"logcnt": []}"#.utf8)) }
}

@Test func reportRoundTripsThroughJSON() throws {
    let loads = ExpertLoads.zipf(layers: 2, logicalExperts: 12, exponent: 1, seed: 3)
    let shape = ClusterShape(replicas: 16, groups: 4, nodes: 2, ranks: 8)
    let placement = try BalancedPolicy.place(loads, shape)
    let report = PlacementReport(
        policy: "balanced", placement: placement,
        metrics: PlacementMetrics(loads: loads, shape: shape, placement: placement))
    let decoded = try JSONDecoder().decode(PlacementReport.self, from: Data(try report.json().utf8))
    #expect(decoded == report)
    #expect(decoded.phy2log == placement.phy2logRows)
}
