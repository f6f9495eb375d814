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

    /// Every optimizer's moments and step count: the dense one, then each slot's in layer order.
    var states: [AdamW.State] {
        get { [dense.state] + experts.joined().map(\.state) }
        set {
            precondition(newValue.count == 1 + experts.joined().count, "\(newValue.count) AdamW states for a stage with \(1 + experts.joined().count) optimizers")
            dense.state = newValue[0]
            var next = 1
            for l in experts.indices {
                for k in experts[l].indices { experts[l][k].state = newValue[next]; next += 1 }
            }
        }
    }

    /// Forgets every moment and step, as before the first update.
    func reset() {
        states = states.map { _ in AdamW.State(m: [], v: [], steps: 0) }
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
