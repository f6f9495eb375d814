/// Matmul floating-point operations of one micro-batch through the whole model, per pass:
/// what `bench model` divides by time. Elementwise work (norms, softmax, gates) is left out,
/// so achieved GFLOP/s is "useful matmul work per second".
///
/// For a `[tokens, a] · [a, b]` product F costs `2·tokens·a·b`; B's input gradient costs the
/// same again, and W's weight gradient the same again. Attention's `Q·Kᵀ` and `P·V` cost
/// `4·T·hidden` per token in F (the full `T×T` scores are computed, then masked) and twice that
/// in B (dP, dV, dQ, dK); W has none of it.
public struct FlopCount: Sendable, Equatable {
    public var forward: Double
    public var backwardInput: Double
    public var backwardWeight: Double

    public init(_ c: ModelConfiguration) {
        let tokens = Double(c.tokensPerMicroBatch), h = Double(c.hidden), t = Double(c.sequenceLength)
        var linear = 0.0     // per token, F, every weight matmul
        var attention = 0.0  // per token, F, scores and P·V
        for block in 0..<c.layers {
            linear += 2 * h * 3 * h + 2 * h * h
            attention += 4 * t * h
            if c.moeLayers.contains(block) {
                let expert = 6 * h * Double(c.expertHidden)
                linear += 2 * h * Double(c.experts) + Double(c.topK) * expert + (c.sharedExpert ? expert : 0)
            } else {
                linear += 6 * h * Double(c.ffnHidden)
            }
        }
        linear += 2 * h * Double(c.vocabulary)
        forward = tokens * (linear + attention)
        backwardInput = tokens * (linear + 2 * attention)
        backwardWeight = tokens * linear
    }

    public var total: Double { forward + backwardInput + backwardWeight }
}
