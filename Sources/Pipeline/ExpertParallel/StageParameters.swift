import Model

/// A stage's parameters without its routed experts: the part every EP rank holds in full.
public final class DenseParameters: ParameterOwner {
    public let stage: Stage
    public init(_ stage: Stage) { self.stage = stage }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        stage.visitParameters { if !$0.isRoutedExpert { body(&$0) } }
    }
}

extension Stage {
    /// The expert slots of this stage's MoE layers, in block order (empty when its experts are
    /// reached through another dispatcher).
    public var expertSlots: [ExpertSlots] {
        moeLayers.compactMap { ($0.dispatcher as? ExpertParallelDispatcher)?.slots }
    }

    public var expertDispatchers: [ExpertParallelDispatcher] {
        moeLayers.compactMap { $0.dispatcher as? ExpertParallelDispatcher }
    }
}

/// AdamW for one stage as the expert-parallel runtime keeps it: one optimizer over the dense
/// parameters and one per local expert slot, so a slot's moments can move with its expert.
/// AdamW is elementwise with one step count, so this updates exactly as one optimizer over the
/// whole stage would.
public final class StageOptimizer {
    public let stage: Stage
    var dense: AdamW
    /// [MoE layers of the stage][local slots]
    var experts: [[AdamW]]

    init(stage: Stage, training: TrainingConfiguration) {
        self.stage = stage
        let fresh = AdamW(beta1: training.beta1, beta2: training.beta2, weightDecay: training.weightDecay)
        dense = fresh
        experts = stage.expertSlots.map { [AdamW](repeating: fresh, count: $0.experts.count) }
    }

    func update(gradientScale: Float, learningRate: Float) {
        dense.update(DenseParameters(stage), gradientScale: gradientScale, learningRate: learningRate)
        for (l, layer) in stage.expertSlots.enumerated() {
            for (k, expert) in layer.experts.enumerated() {
                experts[l][k].update(expert, gradientScale: gradientScale, learningRate: learningRate)
            }
        }
    }
}
