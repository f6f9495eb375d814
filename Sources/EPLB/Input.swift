import Foundation
import JSONDiagnostics

/// A placement request as read from JSON:
/// `{"weight": [[...]], "replicas": R, "groups": G, "nodes": N, "ranks": K}`.
public struct PlacementRequest: Sendable, Equatable {
    public let loads: ExpertLoads
    public let shape: ClusterShape

    public init(loads: ExpertLoads, shape: ClusterShape) {
        self.loads = loads
        self.shape = shape
    }

    /// Decodes and checks the request; every error names the field or value and the rule.
    public static func decode(_ data: Data) throws -> PlacementRequest {
        let raw: RawRequest = try decodeJSON(data, what: "input")
        guard let weight = raw.weight else { throw EPLBError("input is missing the field 'weight' ([layers][experts] loads)") }
        func count(_ value: Double?, _ name: String) throws -> Int {
            guard let value else { throw EPLBError("input is missing the field '\(name)' (a positive integer)") }
            guard value == value.rounded(), abs(value) < 1e15 else {
                throw EPLBError("\(name) = \(value): it must be a positive integer")
            }
            return Int(value)
        }
        let shape = ClusterShape(
            replicas: try count(raw.replicas, "replicas"), groups: try count(raw.groups, "groups"),
            nodes: try count(raw.nodes, "nodes"), ranks: try count(raw.ranks, "ranks"))
        let loads = try ExpertLoads(rows: weight)
        try shape.validate(logicalExperts: loads.logicalExperts)
        try shape.validateSize(layers: loads.layers)
        return PlacementRequest(loads: loads, shape: shape)
    }

    /// Reads `phy2log` from a previous placement (our JSON output or any object with that field) and checks it
    /// against this request: same layers, same replicas per layer, expert ids in range.
    public func decodePrevious(_ data: Data) throws -> Placement {
        let raw: RawPrevious = try decodeJSON(data, what: "previous placement")
        guard let rows = raw.phy2log else {
            throw EPLBError("previous placement is missing the field 'phy2log' ([layers][replicas] expert ids)")
        }
        guard rows.count == loads.layers else {
            throw EPLBError("previous placement has \(rows.count) layers; the input has \(loads.layers)")
        }
        for (layer, row) in rows.enumerated() {
            guard row.count == shape.replicas else {
                throw EPLBError(
                    "previous phy2log row \(layer) has \(row.count) replicas; the input asks for replicas = \(shape.replicas)")
            }
            for (slot, expert) in row.enumerated() where !(0..<loads.logicalExperts).contains(expert) {
                throw EPLBError(
                    "previous phy2log[\(layer)][\(slot)] = \(expert): expert ids must be in 0..<\(loads.logicalExperts)")
            }
        }
        return Placement(
            layers: loads.layers, logicalExperts: loads.logicalExperts, replicas: shape.replicas,
            phy2log: rows.flatMap { $0 })
    }
}

private struct RawRequest: Decodable {
    let weight: [[Double]]?
    // Read as numbers so that 2.5 is reported as "not an integer" rather than as malformed JSON.
    let replicas: Double?
    let groups: Double?
    let nodes: Double?
    let ranks: Double?
}

private struct RawPrevious: Decodable {
    let phy2log: [[Int]]?
}

/// JSONDecoder's errors rephrased: which field, what was expected.
private func decodeJSON<T: Decodable>(_ data: Data, what: String) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch let error as DecodingError {
        func path(_ context: DecodingError.Context) -> String {
            let parts = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }
            return parts.isEmpty ? what : "\(what) field \(parts.joined().drop { $0 == "." })"
        }
        switch error {
        case .typeMismatch(let type, let context):
            throw EPLBError("\(path(context)): expected \(describe(type)) (\(context.debugDescription))")
        case .valueNotFound(let type, let context):
            throw EPLBError("\(path(context)): expected \(describe(type)), found null")
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            throw EPLBError("\(what): \(JSONProblem.syntax(data))")
        case .dataCorrupted(let context):
            throw EPLBError("\(path(context)) holds an unusable value: \(JSONProblem.sentence(context.debugDescription))")
        case .keyNotFound(let key, let context):
            throw EPLBError("\(path(context)) is missing the field '\(key.stringValue)'")
        @unknown default:
            throw EPLBError("\(what) could not be read: \(JSONProblem.describe(error, in: data))")
        }
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type: return "an integer"
    case is Double.Type: return "a number"
    default: return "\(type)".contains("Array") ? "an array" : "\(type)"
    }
}
