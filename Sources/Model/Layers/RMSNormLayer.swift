import Tensor

/// RMSNorm with a learned gain: `[tokens, hidden] -> [tokens, hidden]`.
public final class RMSNormLayer: Layer {
    public var gain: Parameter // [hidden]
    public let epsilon: Float
    private struct Saved { var x: Tensor; var inverseRMS: Tensor }  // [tokens, hidden], [tokens]
    private var forwardContexts: [Int: Saved] = [:]
    private var weightContexts: [Int: (Saved, Tensor)] = [:]       // + dy [tokens, hidden]

    public init(name: String, width: Int, epsilon: Float) {
        gain = .ones(name + ".gain", count: width)
        self.epsilon = epsilon
    }

    public func forward(_ mb: Int, _ input: Tensor) -> Tensor {
        let (y, inverse) = rmsNorm(input, gain: gain.value, epsilon: epsilon)
        forwardContexts.store(mb, Saved(x: input, inverseRMS: inverse), "rmsnorm forward")
        return y
    }

    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        let saved = forwardContexts.take(mb, "rmsnorm backwardInput")
        weightContexts.store(mb, (saved, outputGradient), "rmsnorm backwardInput")
        return rmsNormBackwardInput(saved.x, inverseRMS: saved.inverseRMS, gain: gain.value, outputGradient: outputGradient)
    }

    public func backwardWeight(_ mb: Int) {
        let (saved, dy) = weightContexts.take(mb, "rmsnorm backwardWeight")
        rmsNormGainGradient(saved.x, inverseRMS: saved.inverseRMS, outputGradient: dy, accumulatingInto: &gain.gradient)
    }

    public func discard(_ mb: Int) {
        forwardContexts[mb] = nil
        weightContexts[mb] = nil
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) { body(&gain) }
}
