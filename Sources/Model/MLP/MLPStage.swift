import Tensor

/// One pipeline stage of `--model mlp`: consecutive `MLPBlock`s (one in DeepSeek's example); the
/// last stage also takes the mean squared error against the micro-batch's targets. Activations between stages are
/// `[tokens, hidden]`; the last stage's B starts from `[1]` holding `∂L_total/∂loss`, and stage 0's
/// B returns `[0]`: its input is the data, which needs no gradient.
public final class MLPStage: StageModule {
    public let index: Int
    public let isLast: Bool
    /// Blocks `index * blocks.count ..< (index + 1) * blocks.count` of the model.
    public let blocks: [MLPBlock]
    /// mb -> `y - t` [tokens, hidden], kept from F for the loss gradient.
    private var differences: [Int: Tensor] = [:]

    /// Stage `index` of `stages`, each of `blocksPerStage` blocks; every block is initialised from
    /// its own streams, the same whatever rank builds it and however the model is cut.
    public init(index: Int, stages: Int, blocksPerStage: Int = 1, configuration: MLPConfiguration, seed: UInt64) {
        precondition(index >= 0 && index < stages && blocksPerStage >= 1, "MLP stage \(index) outside 0..<\(stages)")
        self.index = index
        isLast = index == stages - 1
        blocks = (index * blocksPerStage..<(index + 1) * blocksPerStage).map {
            MLPBlock(index: $0, hidden: configuration.hidden, seed: seed)
        }
    }

    public func forwardPhases(_ mb: Int, _ input: Tensor, targets: LossTargets?) -> PhaseList {
        let list = PhaseList()
        var x = input
        for block in blocks.dropLast() {
            list.add { block.forwardUp(mb, x) }
            list.add { x = block.forwardDown(mb) }
        }
        let last = blocks.last!
        list.add { last.forwardUp(mb, x) }
        list.add { [self, unowned list] in
            let y = last.forwardDown(mb)
            guard isLast else { list.result = y; return }
            guard case .values(let t) = targets else { preconditionFailure("MLP stage \(index) is the last: forward needs value targets") }
            let (loss, difference) = meanSquaredError(y, t)
            differences.store(mb, difference, "mlp loss")
            list.result = Tensor(shape: [1], scalars: [loss])
        }
        return list
    }

    public func backwardInputPhases(_ mb: Int, _ outputGradient: Tensor) -> PhaseList {
        let list = PhaseList()
        var d = outputGradient
        if isLast {
            list.add { [self] in
                precondition(outputGradient.count == 1, "MLP stage \(index) is the last: its output gradient is [1], got \(outputGradient.shape)")
                d = meanSquaredErrorGradient(difference: differences.take(mb, "mlp loss backward"), scale: outputGradient.scalars[0])
            }
        }
        for block in blocks.reversed() {
            list.add { block.backwardDown(mb, d) }
            if index == 0 && block === blocks.first {
                list.add { d = Tensor(shape: [0]); block.skipBackwardUp(mb) }
            } else {
                list.add { d = block.backwardUp(mb) }
            }
        }
        list.add { [unowned list] in list.result = d }
        return list
    }

    public func backwardWeight(_ mb: Int) {
        backwardWeight(mb, between: {})
    }

    /// W, `between` run after each of its products.
    public func backwardWeight(_ mb: Int, between: () -> Void) {
        for block in blocks.reversed() { block.backwardWeight(mb, between: between) }
    }

    public func discard(_ mb: Int) {
        for block in blocks { block.discard(mb) }
        differences[mb] = nil
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        for block in blocks { block.visitParameters(body) }
    }
}
