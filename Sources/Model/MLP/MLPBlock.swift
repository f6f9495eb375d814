import Tensor

/// The block of DeepSeek's DualPipe example: `y = gelu(x · up) · down`, two linear maps without
/// bias around an exact GELU. F, B and W are split as in every layer here, so B can run long
/// before W.
public final class MLPBlock: Layer {
    public var up: Parameter   // [hidden, 4 * hidden]
    public var down: Parameter // [4 * hidden, hidden]
    // [n, h], gelu(u) [n, 4h] and gelu'(u) [n, 4h]: B multiplies by the derivative F computed with
    // the activation, instead of a second pass over u.
    private struct ForwardSaved { var x: Tensor; var g: Tensor; var derivative: Tensor }
    private struct WeightSaved { var x: Tensor; var g: Tensor; var du: Tensor; var dy: Tensor }
    private var forwardContexts: [Int: ForwardSaved] = [:]
    private var weightContexts: [Int: WeightSaved] = [:]
    private var partial: [Int: (x: Tensor, u: Tensor)] = [:]
    private var partialGradient: [Int: Tensor] = [:]

    /// Block `index` of the model drawn from its own streams of `seed`: N(0, 1/fan-in) weights.
    public init(index: Int, hidden: Int, seed: UInt64) {
        up = .normal("block\(index).up", shape: [hidden, 4 * hidden], std: 1 / Float(hidden).squareRoot(),
                     seed: seed, stream: [5, UInt64(index), 0])
        down = .normal("block\(index).down", shape: [4 * hidden, hidden], std: 1 / Float(4 * hidden).squareRoot(),
                       seed: seed, stream: [5, UInt64(index), 1])
    }

    public func forward(_ mb: Int, _ input: Tensor) -> Tensor {
        forwardUp(mb, input)
        return forwardDown(mb)
    }

    /// F's first half: `u = x · up` (kept until `forwardDown`).
    func forwardUp(_ mb: Int, _ x: Tensor) {
        precondition(partial.updateValue((x, Linear.forward(x, up)), forKey: mb) == nil, "mlp forward: micro-batch \(mb) already in flight")
    }

    /// F's second half: `gelu(u) · down`.
    func forwardDown(_ mb: Int) -> Tensor {
        let x: Tensor
        var g: Tensor // u until GELU overwrites it (the only reference, so no copy)
        (x, g) = partial.take(mb, "mlp forwardDown")
        let derivative = geluExactInPlaceWithDerivative(&g)
        forwardContexts.store(mb, ForwardSaved(x: x, g: g, derivative: derivative), "mlp forward")
        return Linear.forward(g, down)
    }

    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        backwardDown(mb, outputGradient)
        return backwardUp(mb)
    }

    /// B's first half: `du = gelu'(u) ⊙ (dy · downᵀ)`.
    func backwardDown(_ mb: Int, _ dy: Tensor) {
        let saved = forwardContexts.take(mb, "mlp backwardInput")
        var du = Linear.backwardInput(dy, down)
        multiply(&du, by: saved.derivative)
        weightContexts.store(mb, WeightSaved(x: saved.x, g: saved.g, du: du, dy: dy), "mlp backwardInput")
        partialGradient[mb] = du
    }

    /// B's second half: `dx = du · upᵀ`.
    func backwardUp(_ mb: Int) -> Tensor {
        Linear.backwardInput(partialGradient.take(mb, "mlp backwardUp"), up)
    }

    /// B's second half where the block's input is the data, whose gradient nothing uses: a sixth
    /// of the block's matmuls saved (DeepSeek's example computes that product and drops it).
    func skipBackwardUp(_ mb: Int) {
        _ = partialGradient.take(mb, "mlp skipBackwardUp")
    }

    public func backwardWeight(_ mb: Int) {
        backwardWeight(mb, between: {})
    }

    /// W, `between` run after each of its two products.
    func backwardWeight(_ mb: Int, between: () -> Void) {
        let saved = weightContexts.take(mb, "mlp backwardWeight")
        Linear.backwardWeight(saved.g, saved.dy, &down)
        between()
        Linear.backwardWeight(saved.x, saved.du, &up)
        between()
    }

    public func discard(_ mb: Int) {
        partial[mb] = nil
        partialGradient[mb] = nil
        forwardContexts[mb] = nil
        weightContexts[mb] = nil
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        body(&up)
        body(&down)
    }
}
