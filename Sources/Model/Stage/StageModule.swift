import Tensor

/// What a pipeline stage is to the runtime, whatever the model: F and B of one micro-batch as
/// phases (so an F and a B can interleave), the deferred W, and the cleanup of a forward-only
/// pass. `Stage` (the MoE transformer) and `MLPStage` (DeepSeek's example block) are the two.
public protocol StageModule: ParameterOwner {
    /// The global stage index (0 takes the micro-batch's input, the last computes the loss).
    var index: Int { get }
    /// F of micro-batch `mb`; `targets` is given exactly on the last stage, whose result is the
    /// loss as `[1]`.
    func forwardPhases(_ mb: Int, _ input: Tensor, targets: LossTargets?) -> PhaseList
    /// B of micro-batch `mb`: its result is the gradient of the stage's input (on stage 0, whose
    /// input is the data, an empty `[0]`).
    func backwardInputPhases(_ mb: Int, _ outputGradient: Tensor) -> PhaseList
    /// W of micro-batch `mb`: adds its parameter gradients.
    func backwardWeight(_ mb: Int)
    /// W with `between` run between its products, so that messages in flight progress during a
    /// W as they do between F's and B's phases. The gradients are `backwardWeight(_:)`'s.
    func backwardWeight(_ mb: Int, between: () -> Void)
    /// Frees what micro-batch `mb` saved (the end of a forward-only pass).
    func discard(_ mb: Int)
}

/// What the last stage's loss compares against.
public enum LossTargets: Sendable {
    /// Next-byte ids `[tokens]` for the language model's cross-entropy.
    case tokens([Int])
    /// Values `[tokens, hidden]` for the MLP's mean squared error.
    case values(Tensor)
}

/// One micro-batch as the pipeline's end stages see it: the first stage's input and the last
/// stage's targets.
public struct StageBatch: Sendable {
    public var input: Tensor
    public var targets: LossTargets

    public init(input: Tensor, targets: LossTargets) {
        self.input = input
        self.targets = targets
    }
}

extension MicroBatch {
    /// The byte ids as the first stage's input and the next bytes as the targets.
    public var stageBatch: StageBatch { StageBatch(input: input, targets: .tokens(targets)) }
}

extension Stage: StageModule {
    public func forwardPhases(_ mb: Int, _ input: Tensor, targets: LossTargets?) -> PhaseList {
        switch targets {
        case nil: return forwardPhases(mb, input, targets: nil as [Int]?)
        case .tokens(let ids): return forwardPhases(mb, input, targets: ids)
        case .values: preconditionFailure("stage \(index) of the language model needs token targets, got values")
        }
    }
}
