/// Load statistics of the logical experts, one row per MoE layer (for example a moving average of tokens routed).
public struct ExpertLoads: Sendable, Equatable {
    public let layers: Int
    public let logicalExperts: Int
    /// [layers, logicalExperts], finite and non-negative.
    public let weight: [Double]

    /// Checks the shape and every value; a bad load is named by its layer and expert.
    public init(layers: Int, logicalExperts: Int, weight: [Double]) throws {
        guard layers > 0 else { throw EPLBError("weight has \(layers) layers; it needs at least one") }
        guard logicalExperts > 0 else {
            throw EPLBError("weight rows have \(logicalExperts) experts; a layer needs at least one expert")
        }
        try EPLBLimits.check(layers: layers, perLayer: logicalExperts, what: "loads")
        guard weight.count == layers * logicalExperts else {
            throw EPLBError(
                "weight has \(weight.count) values; [\(layers), \(logicalExperts)] needs \(layers * logicalExperts)")
        }
        for (index, load) in weight.enumerated() where !(load.isFinite && load >= 0) {
            let layer = index / logicalExperts, expert = index % logicalExperts
            throw EPLBError(
                "weight[\(layer)][\(expert)] = \(load): loads must be finite and non-negative")
        }
        self.layers = layers
        self.logicalExperts = logicalExperts
        self.weight = weight
    }

    /// Rows as written in JSON: every row must have the same number of experts.
    public init(rows: [[Double]]) throws {
        guard let first = rows.first else { throw EPLBError("weight is empty: it needs at least one layer") }
        for (layer, row) in rows.enumerated() where row.count != first.count {
            throw EPLBError(
                "weight row \(layer) has \(row.count) loads but row 0 has \(first.count): rows must not be ragged")
        }
        try self.init(layers: rows.count, logicalExperts: first.count, weight: rows.flatMap { $0 })
    }

    /// The loads of one layer. // [logicalExperts]
    public func row(_ layer: Int) -> ArraySlice<Double> {
        weight[(layer * logicalExperts)..<((layer + 1) * logicalExperts)]
    }
}
