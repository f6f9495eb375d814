import Foundation

/// What `dualpipe eplb --format json` prints:
/// `{"phy2log": [layers][replicas], "log2phy": [layers][experts][maxReplicas], "logcnt": [layers][experts],
///   "metrics": {...}}`.
public struct PlacementReport: Codable, Sendable, Equatable {
    public var policy: String
    public var phy2log: [[Int]]
    public var log2phy: [[[Int]]]
    public var logcnt: [[Int]]
    public var metrics: PlacementMetrics

    public init(policy: String, placement: Placement, metrics: PlacementMetrics) {
        self.policy = policy
        phy2log = placement.phy2logRows
        log2phy = placement.log2phyRows
        logcnt = placement.logcntRows
        self.metrics = metrics
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// The picture of a placement: for each layer, one line per rank with its load and its experts; an expert
/// with several replicas is written `e/n` (one of n replicas), and a second copy on one rank is marked `!`.
public func placementTable(
    loads: ExpertLoads, shape: ClusterShape, placement: Placement, metrics: PlacementMetrics, policy: String
) -> String {
    let nodeOfRank = shape.nodeOfRank()
    var lines: [String] = []
    for layer in 0..<loads.layers {
        let m = metrics.layers[layer]
        var head = "layer \(layer) (\(policy)): max/mean \(String(format: "%.3f", m.balance)), "
            + "max \(number(m.maxLoad)), mean \(number(m.meanLoad)), same-rank duplicates \(m.sameRankDuplicates)"
        if let moved = m.moved { head += ", experts moved \(moved)" }
        lines.append(head)
        lines.append("  node  rank      load  experts")
        for rank in 0..<shape.ranks {
            var load = 0.0
            var seen = Set<Int>()
            var cells: [String] = []
            for slot in shape.firstSlot(ofRank: rank)..<shape.firstSlot(ofRank: rank + 1) {
                let e = placement.phy2log[layer * placement.replicas + slot]
                let n = placement.logcnt[layer * placement.logicalExperts + e]
                load += loads.weight[layer * loads.logicalExperts + e] / Double(n)
                cells.append((n > 1 ? "\(e)/\(n)" : "\(e)") + (seen.insert(e).inserted ? "" : "!"))
            }
            lines.append(
                pad(String(nodeOfRank[rank]), 6, left: true) + pad(String(rank), 6, left: true)
                    + pad(number(load), 10, left: true) + "  " + cells.joined(separator: " "))
        }
    }
    return lines.joined(separator: "\n")
}

private func number(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.2f", value)
}

private func pad(_ text: String, _ width: Int, left: Bool) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? fill + text : text + fill
}
