import Tensor

/// One trainable tensor with its gradient. Gradients accumulate (W adds into `gradient`) until
/// the optimizer step zeroes them, so micro-batches of one step sum their contributions.
public struct Parameter: Sendable {
    /// Where it sits in the model, e.g. "block3.attention.wqkv"; stable across partitions.
    public var name: String
    public var value: Tensor
    public var gradient: Tensor
    /// Whether AdamW's weight decay applies (matrices yes; norm gains no).
    public var decays: Bool

    public init(name: String, value: Tensor, decays: Bool) {
        self.name = name
        self.value = value
        self.gradient = Tensor(shape: value.shape)
        self.decays = decays
    }

    /// A matrix `[rows, columns]` drawn from N(0, std²) on its own stream of `seed`.
    static func normal(_ name: String, shape: [Int], std: Float, seed: UInt64, stream: [UInt64]) -> Parameter {
        var rng = SplitMix64(seed: seed, streams: stream)
        return Parameter(name: name, value: Tensor(shape: shape, normalStandardDeviation: std, rng: &rng), decays: true)
    }

    /// A gain vector of ones (RMSNorm), never decayed.
    static func ones(_ name: String, count: Int) -> Parameter {
        Parameter(name: name, value: Tensor(shape: [count], repeating: 1), decays: false)
    }
}

/// Something that owns parameters. The visitor sees them in a fixed order, which is the order
/// of the flat parameter and gradient buffers of a stage.
public protocol ParameterOwner: AnyObject {
    func visitParameters(_ body: (inout Parameter) -> Void)
}

/// A layer of the model as the pipeline sees it: F, B and W on activations `[tokens, width]`,
/// each micro-batch `mb` with its own saved context, so several micro-batches can be in flight
/// and a W can run long after its B.
public protocol Layer: ParameterOwner {
    /// F: computes the output and keeps what B and W will need for micro-batch `mb`.
    func forward(_ mb: Int, _ input: Tensor) -> Tensor
    /// B: the gradient of the input from the gradient of the output; frees what only B needed
    /// and keeps what W needs.
    func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor
    /// W: accumulates the parameter gradients of micro-batch `mb` and frees its context.
    func backwardWeight(_ mb: Int)
    /// Frees whatever micro-batch `mb` saved, at any point of its passes: a forward-only pass
    /// (evaluation) runs F and then this, never B or W.
    func discard(_ mb: Int)
}

extension Dictionary where Key == Int {
    /// Removes and returns the context of micro-batch `mb`, stopping with a clear message when
    /// the pass order was broken (B before F, W before B, or a pass run twice).
    public mutating func take(_ mb: Int, _ what: String) -> Value {
        guard let value = removeValue(forKey: mb) else {
            preconditionFailure("\(what): no saved context for micro-batch \(mb) (passes must run F, then B, then W)")
        }
        return value
    }

    public mutating func store(_ mb: Int, _ value: Value, _ what: String) {
        precondition(self[mb] == nil, "\(what): micro-batch \(mb) already has a saved context")
        self[mb] = value
    }
}
