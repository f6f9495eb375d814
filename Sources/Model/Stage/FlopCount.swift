/// Matmul floating-point operations of one micro-batch through the whole model, per pass:
/// what `bench model` divides by time. Elementwise work (norms, softmax, gates) is left out,
/// so achieved GFLOP/s is "useful matmul work per second".
///
/// For a `[tokens, a] · [a, b]` product F costs `2·tokens·a·b`; B's input gradient costs the
/// same again, and W's weight gradient the same again. Attention's `Q·Kᵀ` and `P·V` count only
/// their causal half, as the causal kernels compute it: position `i` of a sequence meets `i + 1`
/// positions, so each product costs `2·hidden·(T + 1) / 2` per token, `2·(T + 1)·hidden` for
/// the two in F and twice that in B (dP, dV, dQ, dK); W has none of it.
public struct FlopCount: Sendable, Equatable {
    public var forward: Double
    public var backwardInput: Double
    public var backwardWeight: Double
    /// Attention's per-head products within `forward` and `backwardInput`: the causal kernels'
    /// work, where everything else is sgemm's.
    public var attentionForward: Double
    public var attentionBackwardInput: Double

    public init(_ c: ModelConfiguration) {
        let tokens = Double(c.tokensPerMicroBatch), h = Double(c.hidden), t = Double(c.sequenceLength)
        var linear = 0.0     // per token, F, every weight matmul
        var attention = 0.0  // per token, F, scores and P·V (causal)
        for block in 0..<c.layers {
            linear += 2 * h * 3 * h + 2 * h * h
            attention += 2 * (t + 1) * h
            if c.moeLayers.contains(block) {
                let expert = 6 * h * Double(c.expertHidden)
                linear += 2 * h * Double(c.experts) + Double(c.topK) * expert + (c.sharedExpert ? expert : 0)
            } else {
                linear += 6 * h * Double(c.ffnHidden)
            }
        }
        linear += 2 * h * Double(c.vocabulary)
        attentionForward = tokens * attention
        attentionBackwardInput = tokens * 2 * attention
        forward = tokens * linear + attentionForward
        backwardInput = tokens * linear + attentionBackwardInput
        backwardWeight = tokens * linear
    }

    public var total: Double { forward + backwardInput + backwardWeight }
}
