import Tensor

/// A pre-norm block: `h = x + attention(norm1(x))`, `y = h + ffn(norm2(h))`, where the
/// feed-forward is a dense SwiGLU or an MoE layer.
public final class TransformerBlock: Layer {
    public let index: Int
    public let attentionNorm: RMSNormLayer
    public let attention: Attention
    public let ffnNorm: RMSNormLayer
    public let ffn: any Layer

    public init(index: Int, attentionNorm: RMSNormLayer, attention: Attention, ffnNorm: RMSNormLayer, ffn: any Layer) {
        self.index = index
        self.attentionNorm = attentionNorm
        self.attention = attention
        self.ffnNorm = ffnNorm
        self.ffn = ffn
    }

    /// Block `index` of a model initialised from `seed`; MoE blocks reach their experts through
    /// `dispatcher` (built for this block).
    public convenience init(index: Int, _ configuration: ModelConfiguration, seed: UInt64,
                            dispatcher: (Int) -> any ExpertDispatcher) {
        let name = "block\(index)", stream: [UInt64] = [2, UInt64(index)]
        let ffn: any Layer = configuration.moeLayers.contains(index)
            ? MoELayer(name: name + ".moe", configuration, dispatcher: dispatcher(index), seed: seed, stream: stream + [1])
            : SwiGLU(name: name + ".mlp", hidden: configuration.hidden, inner: configuration.ffnHidden,
                     layers: configuration.layers, seed: seed, stream: stream + [1])
        self.init(index: index,
                  attentionNorm: RMSNormLayer(name: name + ".attentionNorm", width: configuration.hidden, epsilon: configuration.normEpsilon),
                  attention: Attention(name: name + ".attention", configuration, seed: seed, stream: stream + [0]),
                  ffnNorm: RMSNormLayer(name: name + ".ffnNorm", width: configuration.hidden, epsilon: configuration.normEpsilon),
                  ffn: ffn)
    }

    public func forward(_ mb: Int, _ input: Tensor) -> Tensor {
        let h = forwardAttention(mb, input)
        var y = ffn.forward(mb, ffnNorm.forward(mb, h))
        add(h, into: &y)
        return y
    }

    /// The attention half of F: `h = x + attention(norm1(x))`.
    public func forwardAttention(_ mb: Int, _ input: Tensor) -> Tensor {
        var h = attention.forward(mb, attentionNorm.forward(mb, input))
        add(input, into: &h)
        return h
    }

    public func backwardInput(_ mb: Int, _ outputGradient: Tensor) -> Tensor {
        var dh = ffnNorm.backwardInput(mb, ffn.backwardInput(mb, outputGradient))
        add(outputGradient, into: &dh)
        return backwardAttention(mb, dh)
    }

    /// The attention half of B: from `dh`, the gradient of `h`, to that of the block's input.
    public func backwardAttention(_ mb: Int, _ dh: Tensor) -> Tensor {
        var dx = attentionNorm.backwardInput(mb, attention.backwardInput(mb, dh))
        add(dh, into: &dx)
        return dx
    }

    public func backwardWeight(_ mb: Int) {
        attentionNorm.backwardWeight(mb)
        attention.backwardWeight(mb)
        ffnNorm.backwardWeight(mb)
        ffn.backwardWeight(mb)
    }

    public func discard(_ mb: Int) {
        attentionNorm.discard(mb)
        attention.discard(mb)
        ffnNorm.discard(mb)
        ffn.discard(mb)
    }

    public func visitParameters(_ body: (inout Parameter) -> Void) {
        attentionNorm.visitParameters(body)
        attention.visitParameters(body)
        ffnNorm.visitParameters(body)
        ffn.visitParameters(body)
    }
}
