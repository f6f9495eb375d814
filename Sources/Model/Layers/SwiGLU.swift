import Tensor

/// The SwiGLU feed-forward `y = (silu(x·w1) ⊙ (x·w3)) · w2`, used as the dense MLP, as each
/// routed expert and as the shared expert. `w1` and `w3` are stored side by side as one
/// `[hidden, 2·inner]` matrix so F needs one matmul for both.
public final class SwiGLU: Layer {
    public var gateUp: Parameter // [hidden, 2 * inner]: columns 0..<inner are w1 (gate), the rest w3 (up)
    public var down: Parameter   // [inner, hidden]
    private struct ForwardSaved { var x: Tensor; var gateUp: Tensor; var h: Tensor } // [n, hidden], [n, 2·inner], [n, inner]
    private struct WeightSaved { var x: Tensor; var h: Tensor; var dGateUp: Tensor; var dy: Tensor }
    private var forwardContexts: [Int: ForwardSaved] = [:]
    private var weightContexts: [Int: WeightSaved] = [:]

    /// `stream` names this MLP among the model's parameter streams (block, kind, expert).
    public init(name: String, hidden: Int, inner: Int, layers: Int, seed: UInt64, stream: [UInt64]) {
        gateUp = .normal(name + ".gateUp", shape: [hidden, 2 * inner], std: 1 / Float(hidden).squareRoot(),
                         seed: seed, stream: stream + [0])
        // Output projections start smaller so the residual stream does not grow with depth.
        down = .normal(name + ".down", shape: [inner, hidden],
                       std: 1 / (Float(inner) * Float(2 * layers)).squareRoot(), seed: seed, stream: stream + [1])
    }

    public func forward(_ mb: Int, _ input: Tensor) -> Tensor {
        let u = Linear.forward(input, gateUp)
        let h = swiGLU(u)
        forwardContexts.store(mb, ForwardSaved(x: input, gateUp: u, h: h), "swiglu forward")
        return Linear.forward(h, down)
    }

    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        let saved = forwardContexts.take(mb, "swiglu backwardInput")
        let dh = Linear.backwardInput(outputGradient, down)
        let du = swiGLUBackward(saved.gateUp, outputGradient: dh)
        weightContexts.store(mb, WeightSaved(x: saved.x, h: saved.h, dGateUp: du, dy: outputGradient), "swiglu backwardInput")
        return Linear.backwardInput(du, gateUp)
    }

    public func backwardWeight(_ mb: Int) {
        let saved = weightContexts.take(mb, "swiglu backwardWeight")
        Linear.backwardWeight(saved.h, saved.dy, &down)
        Linear.backwardWeight(saved.x, saved.dGateUp, &gateUp)
    }

    public func discard(_ mb: Int) {
        forwardContexts[mb] = nil
        weightContexts[mb] = nil
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        body(&gateUp)
        body(&down)
    }
}
