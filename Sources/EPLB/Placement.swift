/// Where every replica of every logical expert lives, for each layer.
///
/// Physical slot `p` of a layer belongs to the rank given by `ClusterShape.rankOfSlot()`; `phy2log` says which
/// logical expert it serves. `log2phy` is the inverse: for each expert its slots, in the order of the replica
/// index, padded with -1 up to `maxReplicas`.
public struct Placement: Sendable, Equatable {
    public let layers: Int
    public let logicalExperts: Int
    public let replicas: Int
    /// The largest replica count of any expert in any layer (the last dimension of `log2phy`).
    public let maxReplicas: Int
    public let phy2log: [Int]  // [layers, replicas]
    public let log2phy: [Int]  // [layers, logicalExperts, maxReplicas], -1 where an expert has fewer replicas
    public let logcnt: [Int]  // [layers, logicalExperts]

    /// Builds the inverse maps from `phy2log` and each slot's replica index (0 for an expert's first copy).
    /// - Parameter replicaIndex: [layers, replicas]; nil numbers an expert's replicas in slot order.
    public init(layers: Int, logicalExperts: Int, replicas: Int, phy2log: [Int], replicaIndex: [Int]? = nil) {
        precondition(phy2log.count == layers * replicas, "phy2log must be [layers, replicas]")
        var logcnt = [Int](repeating: 0, count: layers * logicalExperts)
        for layer in 0..<layers {
            for slot in 0..<replicas { logcnt[layer * logicalExperts + phy2log[layer * replicas + slot]] += 1 }
        }
        let maxReplicas = logcnt.max() ?? 0
        var log2phy = [Int](repeating: -1, count: layers * logicalExperts * maxReplicas)
        var seen = [Int](repeating: 0, count: logicalExperts)
        for layer in 0..<layers {
            for e in 0..<logicalExperts { seen[e] = 0 }
            for slot in 0..<replicas {
                let expert = phy2log[layer * replicas + slot]
                let index: Int
                if let replicaIndex {
                    index = replicaIndex[layer * replicas + slot]
                } else {
                    index = seen[expert]
                    seen[expert] += 1
                }
                log2phy[(layer * logicalExperts + expert) * maxReplicas + index] = slot
            }
        }
        self.layers = layers
        self.logicalExperts = logicalExperts
        self.replicas = replicas
        self.maxReplicas = maxReplicas
        self.phy2log = phy2log
        self.log2phy = log2phy
        self.logcnt = logcnt
    }

    /// The logical experts of one layer's slots. // [replicas]
    public func phy2log(layer: Int) -> ArraySlice<Int> { phy2log[(layer * replicas)..<((layer + 1) * replicas)] }

    /// Rows for JSON: [layers][replicas].
    public var phy2logRows: [[Int]] { (0..<layers).map { Array(phy2log(layer: $0)) } }
    /// Rows for JSON: [layers][logicalExperts].
    public var logcntRows: [[Int]] {
        (0..<layers).map { Array(logcnt[($0 * logicalExperts)..<(($0 + 1) * logicalExperts)]) }
    }
    /// Rows for JSON: [layers][logicalExperts][maxReplicas].
    public var log2phyRows: [[[Int]]] {
        (0..<layers).map { layer in
            (0..<logicalExperts).map { e in
                let start = (layer * logicalExperts + e) * maxReplicas
                return Array(log2phy[start..<(start + maxReplicas)])
            }
        }
    }
}
