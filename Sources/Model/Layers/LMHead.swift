import Tensor

/// The language-model head: final RMSNorm, projection to the 256 byte logits, and mean
/// cross-entropy against the next bytes. F returns the loss; B starts from `∂L_total/∂loss`
/// (1/M when M micro-batches are averaged).
public final class LMHead: ParameterOwner {
    public let norm: RMSNormLayer
    public var output: Parameter // [hidden, vocabulary]
    // A tuple, so that B can take its parts apart and hand the probabilities over to become the
    // logits' gradient in place.
    private typealias ForwardSaved = (normed: Tensor, probabilities: Tensor, targets: [Int]) // [n, hidden], [n, vocabulary], [n]
    private var forwardContexts: [Int: ForwardSaved] = [:]
    private var weightContexts: [Int: (normed: Tensor, dLogits: Tensor)] = [:]

    public init(_ configuration: ModelConfiguration, seed: UInt64) {
        norm = RMSNormLayer(name: "head.norm", width: configuration.hidden, epsilon: configuration.normEpsilon)
        output = .normal("head.output", shape: [configuration.hidden, configuration.vocabulary],
                         std: 1 / Float(configuration.hidden).squareRoot(), seed: seed, stream: [3, 0])
    }

    /// F: the mean cross-entropy of micro-batch `mb` over `input` `[tokens, hidden]` and `targets` `[tokens]`.
    public func forward(_ mb: Int, _ input: Tensor, targets: [Int]) -> Float {
        let normed = norm.forward(mb, input)
        let logits = Linear.forward(normed, output)
        let (loss, probabilities) = crossEntropy(logits: logits, targets: targets)
        forwardContexts.store(mb, (normed, probabilities, targets), "head forward")
        return loss
    }

    /// B: `∂(lossGradient · loss)/∂input`, `[tokens, hidden]`.
    public func backwardInput(_ mb: Int, lossGradient: Float) -> Tensor {
        let (normed, probabilities, targets) = forwardContexts.take(mb, "head backwardInput")
        let dLogits = crossEntropyGradient(probabilities: consume probabilities, targets: targets, scale: lossGradient)
        weightContexts.store(mb, (normed, dLogits), "head backwardInput")
        return norm.backwardInput(mb, Linear.backwardInput(dLogits, output))
    }

    public func backwardWeight(_ mb: Int) {
        let saved = weightContexts.take(mb, "head backwardWeight")
        Linear.backwardWeight(saved.normed, saved.dLogits, &output)
        norm.backwardWeight(mb)
    }

    public func discard(_ mb: Int) {
        norm.discard(mb)
        forwardContexts[mb] = nil
        weightContexts[mb] = nil
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        norm.visitParameters(body)
        body(&output)
    }
}
