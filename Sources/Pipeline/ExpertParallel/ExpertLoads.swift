import MPI
import Model

/// Tokens per logical expert of every MoE layer this rank holds, summed over all copies of the
/// layer (the EP group and DualPipe's mirror) and kept as an exponential moving average: the
/// statistics a rebalance places by.
public final class ExpertLoadTracker {
    /// The MoE layers of this rank's stages, stage then block order (the replica group's order).
    let layers: [MoELayer]
    let replicas: Communicator?
    let decay: Double
    /// [layers][experts] the moving average; nil before the first step.
    public private(set) var average: [[Double]]?
    /// [layers][experts] the last step's totals.
    public private(set) var last: [[Double]] = []

    public init(layers: [MoELayer], replicas: Communicator?, decay: Double) {
        self.layers = layers
        self.replicas = replicas
        self.decay = decay
    }

    /// Puts back a saved moving average (`[layers * experts]`, layer-major).
    func restore(_ flat: [Double]) {
        let experts = layers.first?.expertLoad.count ?? 0
        guard experts > 0 else { return }
        precondition(flat.count == layers.count * experts, "\(flat.count) saved loads for \(layers.count) layers of \(experts) experts")
        average = layers.indices.map { Array(flat[($0 * experts)..<(($0 + 1) * experts)]) }
    }

    /// Forgets counts made outside training (an evaluation's forwards).
    public func reset() { for layer in layers { layer.resetLoad() } }

    /// After a step: sums the step's counts over the replica group and folds them into the average.
    public func record() throws {
        guard let experts = layers.first?.expertLoad.count else { return }
        var counts = layers.flatMap { $0.expertLoad.map(Double.init) }
        if let replicas, replicas.size > 1 { try replicas.allreduce(&counts, op: .sum) }
        reset()
        last = layers.indices.map { Array(counts[($0 * experts)..<(($0 + 1) * experts)]) }
        average = average.map { old in
            zip(old, last).map { a, b in zip(a, b).map { decay * $0 + (1 - decay) * $1 } }
        } ?? last
    }

    /// DeepSeek-V3's auxiliary-loss-free balancing: every copy of a layer nudges its routing bias
    /// by the same step totals, so the copies stay identical (and equal to the reference's).
    public func balanceRouting(speed: Float) {
        for (layer, counts) in zip(layers, last) { layer.balanceRouting(loads: counts, speed: speed) }
    }
}
